"""Public pages of the newsletter: the issue archive and each issue's web version.

The issue page's context comes from ``issue_page_context`` alone, so the admin's
preview of a draft renders ``newsletters/issue_detail.html`` with exactly what a
reader will see once it is sent; its sections come from ``issue_sections``, the
same function the email uses, so web and email list the same items in the same order.
"""

from __future__ import annotations

import re

from django.conf import settings
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render
from django.template.defaultfilters import truncatewords_html
from django.utils.safestring import SafeString, mark_safe
from django.views.decorators.http import require_safe

from articles.caching import cached_page
from newsletters.letter import render_letter
from newsletters.models import Issue
from newsletters.sections import issue_sections

ISSUES_PER_PAGE = 24
EXCERPT_WORDS = 60

_MARKDOWN_LINK = re.compile(r"!?\[([^\]]*)\]\([^)]*\)")
_MARKDOWN_MARKS = re.compile(r"[*_`#>]+")


def letter_summary(letter: str, *, words: int = 40) -> str:
    """The letter's opening as plain text (Markdown links reduced to their words).

    Cheap enough for a list of issues: no Markdown rendering, no queries. Skips a
    salutation line such as "Dear readers,".
    """
    paragraphs = [part.strip() for part in letter.split("\n\n") if part.strip()]
    if paragraphs and len(paragraphs[0]) < 40 and paragraphs[0].rstrip().endswith(","):
        paragraphs = paragraphs[1:]
    text = " ".join(paragraphs)
    text = _MARKDOWN_LINK.sub(r"\1", text)
    text = _MARKDOWN_MARKS.sub("", text)
    kept = text.split()
    return " ".join(kept[:words]) + (" …" if len(kept) > words else "")


def letter_excerpt_html(issue: Issue, *, words: int = EXCERPT_WORDS) -> SafeString:
    """The first ``words`` words of the rendered letter, as sanitised HTML."""
    html = render_letter(issue.letter or "")
    return mark_safe(truncatewords_html(html, words))  # noqa: S308 - sanitised above


def issue_page_context(issue: Issue) -> dict:
    """Everything ``newsletters/issue_detail.html`` needs for ``issue`` (draft or sent).

    Three queries: the sections' items, and the previous and next published issues.
    """
    published = Issue.objects.published().only("number", "title", "slug", "status")
    return {
        "issue": issue,
        "sections": issue_sections(issue=issue),
        "letter_html": mark_safe(render_letter(issue.letter or "")),  # noqa: S308
        "sign_off": issue.sign_off or settings.NEWSLETTER_SIGN_OFF,
        "previous_issue": published.filter(number__lt=issue.number).order_by("-number").first(),
        "next_issue": published.filter(number__gt=issue.number).order_by("number").first(),
        "canonical_url": settings.SITE_URL + issue.get_absolute_url(),
        "is_preview": issue.status != Issue.Status.SENT,
    }


@require_safe
@cached_page
def issue_list(request: HttpRequest) -> HttpResponse:
    issues = Issue.objects.published().order_by("-number")
    page = Paginator(issues, ISSUES_PER_PAGE).get_page(request.GET.get("page"))
    entries = [(issue, letter_summary(issue.letter)) for issue in page]
    canonical = settings.SITE_URL + request.path
    if page.number > 1:
        canonical += f"?page={page.number}"
    return render(
        request,
        "newsletters/issue_list.html",
        {"page": page, "entries": entries, "canonical_url": canonical},
    )


@require_safe
@cached_page
def issue_detail(request: HttpRequest, number: int) -> HttpResponse:
    issue = get_object_or_404(Issue.objects.published(), number=number)
    return render(request, "newsletters/issue_detail.html", issue_page_context(issue))
