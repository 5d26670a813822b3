"""The search page: query, filters (topic, source, dates), order, counted highlighted results."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import date, datetime
from urllib.parse import urlencode

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe
from django.views.decorators.http import require_safe

from articles.models import Article, Source, Topic
from digest.core import ratelimit
from digest.site import queries as reader_queries
from digest.site.search import (
    SORT_NEWEST,
    SORT_RELEVANCE,
    SORTS,
    SearchFilters,
    clean_query,
    search_page,
    snippet_for,
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


def _parse_id(raw: str | None) -> int | None:
    try:
        return int(raw) if raw else None
    except ValueError:
        return None


def _filters_query(filters: SearchFilters) -> str:
    """The search's filters as "&q=…&topic=…", for page links."""
    params = {
        "q": filters.query,
        "topic": filters.topic.slug if filters.topic else "",
        "source": str(filters.source.pk) if filters.source else "",
        "from": filters.date_from.isoformat() if filters.date_from else "",
        "to": filters.date_to.isoformat() if filters.date_to else "",
        "sort": filters.sort if filters.sort != SORT_RELEVANCE else "",
    }
    return "&" + urlencode({key: value for key, value in params.items() if value})


_URL_PK, _URL_SLUG = 918273645, "slug-918273645"
_SLUG = re.compile(r"[-a-zA-Z0-9_]+")


def _article_url_maker() -> Callable[[Article], str]:
    """``get_absolute_url`` for articles without a URL reversal each: the article URL
    reversed once with stand-ins, the stand-ins replaced (a slug the URL pattern would
    refuse still goes through ``reverse``, and its error)."""
    sample = reverse("articles:article_detail", kwargs={"pk": _URL_PK, "slug": _URL_SLUG})
    head, _, rest = sample.partition(str(_URL_PK))
    middle, _, tail = rest.partition(_URL_SLUG)

    def url(article: Article) -> str:
        if _SLUG.fullmatch(article.slug or ""):
            return f"{head}{article.pk}{middle}{article.slug}{tail}"
        return article.get_absolute_url()

    return url


def _result(article, *, query: str, url: Callable[[Article], str]) -> dict:
    """What the page shows of one result, as plain values: twenty results with a dozen
    template lookups each cost more than the search, a dict lookup each costs little."""
    published = timezone.localtime(article.published_at) if article.published_at else None
    return {
        "url": url(article),
        "title": article.title,
        "source": article.source.name,
        "published_iso": published.isoformat() if published else "",
        "published": date_format(published, "j M Y") if published else "",
        "also_reported": [(url(other), other.source.name) for other in article.also_reported],
        "snippet": snippet_for(article, query=query),
    }


def _options(rows: list[tuple], selected) -> SafeString:
    """The ``<option>`` tags of a filter's ``<select>`` for its (value, label) rows, as
    HTML built here: a template loop over a newsroom's hundreds of sources costs more
    than the search."""
    return mark_safe(  # noqa: S308 - every value and label is escaped
        "".join(
            f'<option value="{escape(value)}"{" selected" if value == selected else ""}>'
            f"{escape(label)}</option>"
            for value, label in rows
        )
    )


def result_count_text(total: int, *, exact: bool) -> str:
    """ "1 result", "1,243 results", or for an estimate "about 12,400 results" (3 figures)."""
    if not exact:
        digits = len(str(total))
        rounded = round(total, -(digits - 3)) if digits > 3 else total
        return f"about {rounded:,} results"
    return "1 result" if total == 1 else f"{total:,} results"


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
    # The filters' choices as plain rows: a newsroom has hundreds of sources, and model
    # instances and per-option template lookups would cost more than the search itself.
    topics = list(Topic.objects.order_by("position", "name").values_list("pk", "slug", "name"))
    sources = list(Source.objects.order_by("name").values_list("pk", "name"))
    raw_query = request.GET.get("q", "")
    query = clean_query(raw_query)
    topic_slug = request.GET.get("topic", "")
    topic = next(
        (Topic(pk=pk, slug=slug, name=name) for pk, slug, name in topics if slug == topic_slug),
        None,
    )
    source_id = _parse_id(request.GET.get("source"))
    source = next((Source(pk=pk, name=name) for pk, name in sources if pk == source_id), None)
    date_from, bad_from = _parse_date(request.GET.get("from"))
    date_to, bad_to = _parse_date(request.GET.get("to"))
    sort = request.GET.get("sort", "")
    filters = SearchFilters(
        query=query,
        topic=topic,
        source=source,
        date_from=date_from,
        date_to=date_to,
        sort=sort if sort in SORTS and query else (SORT_RELEVANCE if query else SORT_NEWEST),
    )
    page = None
    results = []
    if not filters.is_empty:
        page = search_page(
            filters=filters,
            page_number=request.GET.get("page"),
            per_page=SEARCH_RESULTS_PER_PAGE,
        )
        # The database backends folded story groups in the search itself; an outside
        # engine's page is folded here. Either way the other outlets come along.
        articles = reader_queries.fold_story_groups(list(page))
        url = _article_url_maker()
        results = [_result(article, query=query, url=url) for article in articles]
    return render(
        request,
        "site/search.html",
        {
            "query": query,
            "was_cut": len(" ".join(raw_query.split())) > len(query),
            "filters": filters,
            "topic_options": _options(
                [(slug, name) for _pk, slug, name in topics], topic.slug if topic else None
            ),
            "source_options": _options(sources, source.pk if source else None),
            "sorts": [(SORT_RELEVANCE, "Best match"), (SORT_NEWEST, "Newest first")],
            "page": page,
            "results": results,
            "result_count": page is not None
            and result_count_text(page.paginator.count, exact=page.count_is_exact),
            "plain_search": page is not None and page.search_mode == "plain",
            "bad_dates": bad_from or bad_to,
            "pagination_query": _filters_query(filters),
            "canonical_url": settings.SITE_URL + request.path,
        },
    )
