"""Reader pages for topics, articles, events and search, plus robots.txt and a health check.

Views only gather what the page shows (``articles.reader_queries``,
``articles.search``, ``articles.charts``) and render it. Anonymous pages go
through the page cache (``articles.caching.cached_page``); search does not,
because its answers are cheap and its keys unbounded.
"""

from __future__ import annotations

from datetime import date
from urllib.parse import urlencode

from django.conf import settings
from django.core.paginator import Page, Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.safestring import mark_safe
from django.views.decorators.http import require_safe

from articles import reader_queries
from articles import search as searching
from articles.caching import cached_page
from articles.charts import bar_chart_svg, weekly_article_counts
from articles.event_calendar import events_calendar
from articles.models import Article, Event, Topic
from articles.sanitising import sanitize_html
from articles.search import (
    SearchFilters,
    clean_query,
    search_page,
    snippet_for,
    uses_full_text_search,
)
from newsletters import ratelimit
from newsletters.views import letter_excerpt_html

ARTICLES_PER_PAGE = 20
SEARCH_RESULTS_PER_PAGE = 20
PAST_EVENTS_PER_PAGE = 20
# Events in the calendar feed: what is coming, and the recent past so a calendar
# that subscribed keeps this week's entries.
CALENDAR_FEED_LIMIT = 200


def canonical_url(request: HttpRequest, *, keep_page: bool = True) -> str:
    """The page's address on the public site (SITE_URL), keeping only ``?page=`` if asked."""
    url = settings.SITE_URL + request.path
    page = request.GET.get("page", "")
    if keep_page and page.isdigit() and page != "1":
        url += f"?page={page}"
    return url


def paginate(request: HttpRequest, items, per_page: int) -> Page:
    """The requested page; a missing, non-numeric or out-of-range number gives first or last."""
    return Paginator(items, per_page).get_page(request.GET.get("page"))


@require_safe
@cached_page
def home(request: HttpRequest) -> HttpResponse:
    latest_issue = reader_queries.latest_issue_published()
    return render(
        request,
        "articles/home.html",
        {
            "latest_issue": latest_issue,
            "latest_issue_excerpt": letter_excerpt_html(latest_issue) if latest_issue else "",
            "topic_stories": reader_queries.latest_stories_by_topic(),
            "upcoming_events": list(reader_queries.upcoming_events(limit=3)),
            "canonical_url": canonical_url(request),
        },
    )


@require_safe
@cached_page
def topic_list(request: HttpRequest) -> HttpResponse:
    return render(
        request,
        "articles/topic_list.html",
        {
            "topics": list(reader_queries.topics_with_counts()),
            "canonical_url": canonical_url(request),
        },
    )


@require_safe
@cached_page
def topic_detail(request: HttpRequest, slug: str) -> HttpResponse:
    topic = get_object_or_404(Topic, slug=slug)
    page = paginate(request, reader_queries.articles_for_topic(topic), ARTICLES_PER_PAGE)
    weeks = weekly_article_counts(topic=topic)
    return render(
        request,
        "articles/topic_detail.html",
        {
            "topic": topic,
            "page": page,
            "issues": reader_queries.issues_covering_topic(topic),
            "weeks": weeks,
            "chart": bar_chart_svg(
                counts=weeks,
                title=f"{topic.name}: articles per week, last {len(weeks)} weeks",
                chart_id="topic-chart",
            ),
            "canonical_url": canonical_url(request),
        },
    )


@require_safe
@cached_page
def article_detail(request: HttpRequest, pk: int, slug: str) -> HttpResponse:
    article = get_object_or_404(
        Article.objects.published()
        .select_related("source", "group")
        .prefetch_related("topics", "tags"),
        pk=pk,
    )
    if slug != article.slug:
        return redirect(article, permanent=True)
    # Stored bodies were sanitised at ingest; cleaning again on display (cheap, and paid
    # once per cache fill) also covers rows written by any other path.
    body_html = mark_safe(  # noqa: S308 - the sanitiser's output is safe HTML by contract
        sanitize_html(article.body_html or article.summary, base_url=article.canonical_url)
    )
    return render(
        request,
        "articles/article_detail.html",
        {
            "article": article,
            "body_html": body_html,
            "issues": reader_queries.issues_featuring(article),
            "related": reader_queries.related_articles(article),
            "canonical_url": canonical_url(request, keep_page=False),
        },
    )


@require_safe
@cached_page
def event_list(request: HttpRequest) -> HttpResponse:
    return render(
        request,
        "articles/event_list.html",
        {
            "upcoming": list(reader_queries.upcoming_events()),
            "past_page": paginate(request, reader_queries.past_events(), PAST_EVENTS_PER_PAGE),
            "canonical_url": canonical_url(request),
        },
    )


@require_safe
@cached_page
def event_detail(request: HttpRequest, pk: int) -> HttpResponse:
    event = get_object_or_404(Event.objects.prefetch_related("topics"), pk=pk)
    return render(
        request,
        "articles/event_detail.html",
        {
            "event": event,
            "description_html": mark_safe(sanitize_html(event.description)),  # noqa: S308
            "canonical_url": canonical_url(request, keep_page=False),
        },
    )


def _calendar_response(body: bytes, *, filename: str) -> HttpResponse:
    response = HttpResponse(body, content_type="text/calendar; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


@require_safe
@cached_page
def event_ics(request: HttpRequest, pk: int) -> HttpResponse:
    event = get_object_or_404(Event, pk=pk)
    body = events_calendar([event], name=event.title)
    return _calendar_response(body, filename=f"event-{event.pk}.ics")


@require_safe
@cached_page
def events_ics(request: HttpRequest) -> HttpResponse:
    upcoming = list(reader_queries.upcoming_events(limit=CALENDAR_FEED_LIMIT))
    recent = list(reader_queries.past_events()[:20])
    body = events_calendar(recent[::-1] + upcoming, name=f"{settings.SITE_NAME}: events")
    return _calendar_response(body, filename="events.ics")


def _parse_date(raw: str | None) -> tuple[date | None, bool]:
    """A date from a YYYY-MM-DD field: (value, whether the reader's input was refused)."""
    if not raw:
        return None, False
    try:
        return date.fromisoformat(raw.strip()[:10]), False
    except ValueError:
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
            "articles/search.html",
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
        results = [(article, snippet_for(article, query=query)) for article in page]
    return render(
        request,
        "articles/search.html",
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


@require_safe
def robots_txt(request: HttpRequest) -> HttpResponse:
    lines = [
        "User-agent: *",
        "Disallow: /admin/",
        "Disallow: /search/",
        "",
        f"Sitemap: {settings.SITE_URL}/sitemap.xml",
        "",
    ]
    return HttpResponse("\n".join(lines), content_type="text/plain; charset=utf-8")


def healthz(request: HttpRequest) -> HttpResponse:
    """Liveness: the process answers. Touches neither the database nor the cache."""
    return HttpResponse("ok", content_type="text/plain")
