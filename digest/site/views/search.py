"""The search page: query, filters (topic, source, dates), order, counted highlighted results."""

from __future__ import annotations

import functools
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from urllib.parse import urlencode

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.formats import date_format
from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe
from django.views.decorators.http import require_safe

from articles.models import Article, Source, Topic
from digest.core import ratelimit
from digest.core.page_cache import cached_page, remembered
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


@functools.lru_cache(maxsize=4096)
def _site_date(day: date, language: str | None) -> str:
    """A date as the site writes it ("3 Dec 2026") in ``language``: formatting costs more
    than looking up a day formatted before (results cluster on recent days)."""
    return date_format(day, "j M Y")


def _result_html(article, *, query: str, url: Callable[[Article], str]) -> str:
    """One result's ``<li>``, every value escaped. Built here rather than in a template
    loop: twenty results with a dozen template lookups each cost more than the search."""
    parts = [
        '<li class="search-result">\n'
        f'<h3 class="story-card__title"><a href="{escape(url(article))}">'
        f"{escape(article.title)}</a></h3>\n"
        f'<p class="story-card__meta">{escape(article.source.name)}'
    ]
    if article.published_at:
        published = timezone.localtime(article.published_at)
        parts.append(
            f' · <time datetime="{escape(published.isoformat())}">'
            f"{escape(_site_date(published.date(), translation.get_language()))}</time>"
        )
    parts.append("</p>\n")
    if article.also_reported:
        links = ", ".join(
            f'<a href="{escape(url(other))}">{escape(other.source.name)}</a>'
            for other in article.also_reported
        )
        parts.append(f'<p class="story-card__also">Also reported by {links}</p>\n')
    snippet = snippet_for(article, query=query)  # escaped, highlights marked
    if snippet:
        parts.append(f'<p class="search-result__snippet">{snippet}</p>\n')
    parts.append("</li>\n")
    return "".join(parts)


class _Select:
    """A filter's ``<option>`` tags for its (value, label) rows, as HTML built once:
    a template loop over a newsroom's hundreds of sources costs more than the search."""

    def __init__(self, rows: list[tuple]) -> None:
        self._tags = {
            str(value): f'<option value="{escape(value)}">{escape(label)}</option>'
            for value, label in rows
        }
        self._html = "".join(self._tags.values())

    def html(self, selected) -> SafeString:
        """The options, ``selected`` (a value, or None) marked as chosen."""
        html = self._html
        tag = self._tags.get(str(selected)) if selected is not None else None
        if tag is not None:
            html = html.replace(tag, tag.replace(">", " selected>", 1), 1)
        return mark_safe(html)  # noqa: S308 - every value and label is escaped


@dataclass(frozen=True)
class _Choices:
    """The filters' choices: topics (pk, slug, name), sources (pk, name), their options."""

    topics: list[tuple[int, str, str]]
    sources: list[tuple[int, str]]
    topic_select: _Select
    source_select: _Select


def _choices() -> _Choices:
    """The filters' choices, read once per page version: topics and sources change
    seldom, and every change bumps the version (``digest/site/invalidation.py``)."""
    return remembered(("search-choices",), _read_choices)


def _read_choices() -> _Choices:
    topics = list(Topic.objects.order_by("position", "name").values_list("pk", "slug", "name"))
    sources = list(Source.objects.order_by("name").values_list("pk", "name"))
    return _Choices(
        topics=topics,
        sources=sources,
        topic_select=_Select([(slug, name) for _pk, slug, name in topics]),
        source_select=_Select(sources),
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
    """The search page. Every search counts against the reader's limit, answered from
    the page cache or not; an anonymous reader's search asked for again before the
    archive changes (the page version) is answered from the cache, as reader pages
    are."""
    if not _search_allowed(request):
        response = render(
            request,
            "site/search.html",
            {"rate_limited": True, "canonical_url": settings.SITE_URL + request.path},
            status=429,
        )
        response["Retry-After"] = "60"
        return response
    return _search_page(request)


@cached_page(keep_local=False)
def _search_page(request: HttpRequest) -> HttpResponse:
    choices = _choices()
    topics, sources = choices.topics, choices.sources
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
    results = ""
    if not filters.is_empty:
        page = search_page(
            filters=filters,
            page_number=request.GET.get("page"),
            per_page=SEARCH_RESULTS_PER_PAGE,
        )
        url = _article_url_maker()  # each result carries its story's other outlets
        results = mark_safe(  # noqa: S308 - every value is escaped in _result_html
            "".join(_result_html(article, query=query, url=url) for article in page)
        )
    return render(
        request,
        "site/search.html",
        {
            "query": query,
            "was_cut": len(" ".join(raw_query.split())) > len(query),
            "filters": filters,
            "topic_options": choices.topic_select.html(topic.slug if topic else None),
            "source_options": choices.source_select.html(source.pk if source else None),
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
