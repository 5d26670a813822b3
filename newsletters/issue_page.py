"""What an issue's web page shows, for the archive page and the admin's preview alike.

The context comes from ``issue_page_context`` alone, so the admin's preview of a draft
renders ``newsletters/issue_detail.html`` with exactly what a reader will see once it is
sent; its sections come from ``issue_sections``, the same function the email uses.
"""

from __future__ import annotations

import re

from django.conf import settings
from django.template.defaultfilters import truncatewords_html
from django.utils.safestring import SafeString, mark_safe

from newsletters.compiling.letter import render_letter
from newsletters.compiling.sections import issue_sections
from newsletters.models import Issue

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
