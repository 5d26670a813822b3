"""The search page: query, filters and ranked, highlighted results."""

from __future__ import annotations

from datetime import date, datetime
from urllib.parse import urlencode

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_safe

from articles.models import Topic
from digest.core import ratelimit
from digest.site import queries as reader_queries
from digest.site import search as searching
from digest.site.search import (
    SearchFilters,
    clean_query,
    search_page,
    snippet_for,
    uses_full_text_search,
)

SEARCH_RESULTS_PER_PAGE = 20
# How the site shows dates (Django's "j M Y"), and the same with the month in full.
_SITE_DATE_FORMATS = ("%d %b %Y", "%d %B %Y")


def _parse_date(raw: str | None) -> tuple[date | None, bool]:
    """A date as the site writes it ("3 Dec 2026", "3 December 2026") or ISO
    ("2026-12-03"): (value, whether the reader's input was refused)."""
    text = " ".join((raw or "").split())
    if not text:
        return None, False
    try:
        return date.fromisoformat(text[:10]), False
    except ValueError:
        pass
    for form in _SITE_DATE_FORMATS:
        try:
            return datetime.strptime(text, form).date(), False
        except ValueError:
            continue
    return None, True


def _filters_query(filters: SearchFilters) -> str:
    """The search's filters as "&q=…&topic=…", for page links."""
    params = {
        "q": filters.query,
        "topic": filters.topic.slug if filters.topic else "",
        "from": filters.date_from.isoformat() if filters.date_from else "",
        "to": filters.date_to.isoformat() if filters.date_to else "",
    }
    return "&" + urlencode({key: value for key, value in params.items() if value})


def _search_allowed(request: HttpRequest) -> bool:
    limit = settings.READER_SEARCH_PER_MINUTE
    if not limit:
        return True
    key = f"reader-search-ip:{ratelimit.client_ip(request)}"
    return ratelimit.hit(key=key, limit=limit, window_seconds=60)


@require_safe
def search(request: HttpRequest) -> HttpResponse:
    if not _search_allowed(request):
        response = render(
            request,
            "site/search.html",
            {"rate_limited": True, "canonical_url": settings.SITE_URL + request.path},
            status=429,
        )
        response["Retry-After"] = "60"
        return response
    topics = list(Topic.objects.order_by("position", "name"))
    raw_query = request.GET.get("q", "")
    query = clean_query(raw_query)
    topic_slug = request.GET.get("topic", "")
    topic = next((topic for topic in topics if topic.slug == topic_slug), None)
    date_from, bad_from = _parse_date(request.GET.get("from"))
    date_to, bad_to = _parse_date(request.GET.get("to"))
    filters = SearchFilters(query=query, topic=topic, date_from=date_from, date_to=date_to)
    page = None
    results = []
    if not filters.is_empty:
        page = search_page(
            filters=filters,
            page_number=request.GET.get("page"),
            per_page=SEARCH_RESULTS_PER_PAGE,
        )
        # One story group once, with its other outlets as "also reported by".
        articles = reader_queries.fold_story_groups(list(page))
        results = [(article, snippet_for(article, query=query)) for article in articles]
    return render(
        request,
        "site/search.html",
        {
            "query": query,
            "was_cut": len(" ".join(raw_query.split())) > len(query),
            "filters": filters,
            "topics": topics,
            "page": page,
            "results": results,
            "bad_dates": bad_from or bad_to,
            "pagination_query": _filters_query(filters),
            "results_capped": page is not None
            and bool(query)
            and uses_full_text_search()
            and page.paginator.count >= searching.MAX_RANKED_MATCHES,
            "canonical_url": settings.SITE_URL + request.path,
        },
    )
