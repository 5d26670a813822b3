"""Public pages of the newsletter: the issue archive and each issue's web version.

The issue page's context comes from ``issue_page_context`` alone, so the admin's
preview of a draft renders ``newsletters/issue_detail.html`` with exactly what a
reader will see once it is sent; its sections come from ``issue_sections``, the
same function the email uses, so web and email list the same items in the same order.
"""

from __future__ import annotations

from django.conf import settings
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render
from django.views.decorators.http import require_safe

from digest.core.page_cache import cached_page
from newsletters.issue_page import issue_page_context, letter_summary
from newsletters.models import Issue

ISSUES_PER_PAGE = 24


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
        "site/issue_list.html",
        {"page": page, "entries": entries, "canonical_url": canonical},
    )


@require_safe
@cached_page
def issue_detail(request: HttpRequest, number: int) -> HttpResponse:
    issue = get_object_or_404(Issue.objects.published(), number=number)
    return render(request, "newsletters/issue_detail.html", issue_page_context(issue))
