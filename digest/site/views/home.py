"""The home page: the latest issue and the newest stories by topic."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_safe

from digest.core.page_cache import cached_page
from digest.site import queries as reader_queries
from digest.site.views.common import canonical_url
from newsletters.issue_page import letter_excerpt_html


@require_safe
@cached_page
def home(request: HttpRequest) -> HttpResponse:
    latest_issue = reader_queries.latest_issue_published()
    return render(
        request,
        "site/home.html",
        {
            "latest_issue": latest_issue,
            "latest_issue_excerpt": letter_excerpt_html(latest_issue) if latest_issue else "",
            "topic_stories": reader_queries.latest_stories_by_topic(),
            "upcoming_events": list(reader_queries.upcoming_events(limit=3)),
            "canonical_url": canonical_url(request),
        },
    )
