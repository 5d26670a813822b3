"""Searching published articles: one entry point over the database's own full-text index.

``search_page`` answers with a Django ``Page`` whatever the database:

- PostgreSQL: the narrow search table, newest matches from a widening date window, the
  newest ``RANKED_CANDIDATES`` ranked for relevance (``search_postgres.py``); snippets
  by ``ts_headline`` for the shown page only, over the passage around the first match.
- SQLite (the embedded default): FTS5, ranked with bm25, snippets by FTS5
  (``search_sqlite.py``).
- SQLite without FTS5: substring matching, newest first; ``page.search_mode`` is
  ``"plain"`` so the page can say so.

Every backend folds story groups inside the search: a group of reports of one story is
one result, placed where its best match would be (best ranked, or newest), so counts and
pages are of stories and two reports of one story never land on different pages. The
group's other outlets ("also reported by") come along on every result: with PostgreSQL's
page rows, else from one more query (``queries.fold_story_groups``).

Both full-text backends read the same query language (``search_query.py``: quotes,
``-word``, ``or``). Snippets are plain text with highlights: the database marks matches
with two private-use characters, the text is HTML-escaped, and only then are those
characters turned into ``<mark>`` tags, so nothing in an article can become markup.
"""

from __future__ import annotations

import logging
import re
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date

from django.core.paginator import Page, Paginator
from django.db import connection
from django.db.models import Q, QuerySet
from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

from articles.models import Article, Source, Topic
from digest.site import search_postgres, search_sqlite
from digest.site.queries import add_other_report, fold_story_groups, newest_per_story
from digest.site.search_engine import SearchEngine, SearchEngineError, configured_engine
from digest.site.search_query import ParsedQuery, Term, parse_query, to_fts5, to_websearch

# Longer queries are cut: nobody types more, and the parser's work grows with length.
MAX_QUERY_LENGTH = 200
# Words kept from a query; a reader pasting a paragraph still gets an answer quickly.
MAX_QUERY_WORDS = 12
SNIPPET_WORDS = 35
SORT_RELEVANCE = "relevance"
SORT_NEWEST = "newest"
SORTS = (SORT_RELEVANCE, SORT_NEWEST)

logger = logging.getLogger(__name__)

_MARK_START = "\ue000"
_MARK_STOP = "\ue001"
_MARKED = re.compile(f"{_MARK_START}(.*?){_MARK_STOP}", re.DOTALL)


@dataclass(frozen=True)
class SearchFilters:
    """What a reader asked for, cleaned: query text, optional topic, source, dates, order."""

    query: str = ""
    topic: Topic | None = None
    source: Source | None = None
    date_from: date | None = None
    date_to: date | None = None
    sort: str = SORT_RELEVANCE

    @property
    def is_empty(self) -> bool:
        return not self.query and not any((self.topic, self.source, self.date_from, self.date_to))


def clean_query(raw: str | None) -> str:
    """Return ``raw`` as a query worth running: no control characters, bounded, trimmed."""
    if not raw:
        return ""
    text = raw[: MAX_QUERY_LENGTH * 4]
    text = "".join(
        " " if unicodedata.category(char).startswith(("C", "Z")) else char for char in text
    )
    words = text.split()[:MAX_QUERY_WORDS]
    return " ".join(words)[:MAX_QUERY_LENGTH].strip()


def search_mode() -> str:
    """``"postgresql"``, ``"fts5"`` or ``"plain"`` (SQLite without FTS5: substring match)."""
    if connection.vendor == "postgresql":
        return "postgresql"
    return "fts5" if search_sqlite.fts_available() else "plain"


def _filtered_articles(filters: SearchFilters) -> QuerySet[Article]:
    """Published articles within the topic, source and date filters, lightest columns only."""
    articles = (
        Article.objects.published()
        .select_related("source")
        .defer("body_html", "summary", "extraction_error", "minhash")
    )
    if filters.topic is not None:
        articles = articles.filter(
            pk__in=Article.topics.through.objects.filter(topic=filters.topic).values("article_id")
        )
    if filters.source is not None:
        articles = articles.filter(source=filters.source)
    if filters.date_from:
        articles = articles.filter(published_at__date__gte=filters.date_from)
    if filters.date_to:
        articles = articles.filter(published_at__date__lte=filters.date_to)
    return articles


class _DepthResults:
    """Result ids for ``Paginator``, fetched by depth: slicing [a:b] fetches the first b.

    ``count()`` fetches the depth of the page the reader asked for, so the usual request
    costs one search; a count may be an estimate (``exact`` False).
    """

    def __init__(self, fetch: Callable[[int], tuple[list[int], int, bool]], depth: int):
        self._fetch = fetch
        self._hint = depth
        self._depth = 0
        self._ids: list[int] | None = None
        self.total = 0
        self.exact = True

    def _ensure(self, depth: int) -> list[int]:
        more_possible = self._ids is None or len(self._ids) >= self._depth
        if self._ids is None or (depth > self._depth and more_possible):
            self._ids, self.total, self.exact = self._fetch(depth)
            self._depth = depth
        return self._ids

    def count(self) -> int:
        self._ensure(self._hint)
        return self.total

    def __len__(self) -> int:
        return self.count()

    def __getitem__(self, key: slice) -> list[int]:
        return self._ensure(key.stop or 0)[key]


class _OffsetResults:
    """Matching articles for ``Paginator`` from an exact count and an offset query."""

    def __init__(self, count: Callable[[], int], rows: Callable[[int, int], list[Article]]):
        self._count, self._rows = count, rows
        self.exact = True

    def count(self) -> int:
        return self._count()

    def __len__(self) -> int:
        return self.count()

    def __getitem__(self, key: slice) -> list[Article]:
        return self._rows(key.start or 0, (key.stop or 0) - (key.start or 0))


class _EngineResults:
    """One page of the search engine's hits for ``Paginator`` (its count comes along)."""

    def __init__(self, engine: SearchEngine, parsed: ParsedQuery, filters, offset: int, limit):
        self._engine, self._parsed, self._filters = engine, parsed, filters
        self._first = (offset, limit)
        self._pages: dict[tuple[int, int], object] = {}
        self.exact = True
        self.snippets: dict[int, str] = {}

    def _hits(self, offset: int, limit: int):
        if (offset, limit) not in self._pages:
            hits = self._engine.search(
                parsed=self._parsed,
                filters=self._filters,
                sort=self._filters.sort,
                offset=offset,
                limit=limit,
            )
            self._pages[(offset, limit)] = hits
            self.exact, self.total = hits.exact, hits.total
            self.snippets.update(hits.snippets)
        return self._pages[(offset, limit)]

    def count(self) -> int:
        return self._hits(*self._first).total

    def __len__(self) -> int:
        return self.count()

    def __getitem__(self, key: slice) -> list[int]:
        start = key.start or 0
        return self._hits(start, (key.stop or 0) - start).ids


def _requested_page(page_number) -> int:
    try:
        return max(1, int(page_number))
    except (TypeError, ValueError):
        return 1


def search_page(*, filters: SearchFilters, page_number=None, per_page: int = 20) -> Page:
    """Return one page of published stories matching ``filters`` in the order asked for
    (a story group is one result, shown by its best match; the count is of stories).

    ``page_number`` may be anything a reader typed: missing or not a number gives the
    first page, past the end the last. Each result carries ``search_snippet_raw`` for
    ``snippet_for`` when the database made one. ``page.count_is_exact`` is False when the
    count is an estimate, ``page.search_mode`` names the backend. Each result carries
    ``also_reported``, its story's other outlets. A query without a word to find matches
    nothing; no query lists the newest articles within the filters. A bounded number of
    queries whatever the number of matches.
    """
    parsed = parse_query(filters.query)
    engine = configured_engine() if filters.query and not parsed.is_empty else None
    if engine is not None:
        try:
            return _engine_page(engine, parsed, filters, page_number, per_page)
        except SearchEngineError:
            # The database can always answer: a reader gets results, the log gets the why.
            logger.exception("Search engine failed; the database answers instead")
    mode = search_mode()
    results: object
    if mode != "postgresql" or not filters.query or parsed.is_empty:
        articles = _filtered_articles(filters)  # PostgreSQL's search reads its own table
    if not filters.query:
        results = newest_per_story(articles).order_by("-published_at", "-id")
    elif parsed.is_empty:
        results = articles.none()
    elif mode == "postgresql":
        websearch = to_websearch(parsed)
        depth = _requested_page(page_number) * per_page
        results = _DepthResults(
            lambda wanted: search_postgres.ordered_ids(
                websearch=websearch, filters=filters, sort=filters.sort, depth=wanted
            ),
            depth,
        )
    elif mode == "fts5":
        expression = to_fts5(parsed)
        results = _OffsetResults(
            lambda: search_sqlite.count(articles, expression),
            lambda offset, limit: _fts_rows(articles, expression, filters.sort, offset, limit),
        )
    else:
        matching = articles.filter(_plain_condition(parsed))
        results = newest_per_story(matching).order_by("-published_at", "-id")
    page = Paginator(results, per_page).get_page(page_number)
    if isinstance(results, _DepthResults):
        page.object_list = _rows_with_headlines(list(page.object_list), parsed)
    else:  # folded by story already: this adds each one's other outlets
        page.object_list = fold_story_groups(list(page.object_list))
    page.count_is_exact = getattr(results, "exact", True)
    page.search_mode = mode
    return page


def _fts_rows(articles, expression: str, sort: str, offset: int, limit: int) -> list[Article]:
    """One page of FTS5 results, one per story, each with its snippet (two queries)."""
    ids = search_sqlite.page_ids(articles, expression, sort=sort, offset=offset, limit=limit)
    rows = search_sqlite.page_rows(
        articles.filter(pk__in=ids),
        expression,
        sort=sort,
        offset=0,
        limit=len(ids),
        mark_start=_MARK_START,
        mark_stop=_MARK_STOP,
    )
    by_id = {row.pk: row for row in rows}
    return [by_id[pk] for pk in ids if pk in by_id]


def _engine_page(engine: SearchEngine, parsed: ParsedQuery, filters, page_number, per_page):
    offset = (_requested_page(page_number) - 1) * per_page
    results = _EngineResults(engine, parsed, filters, offset, per_page)
    page = Paginator(results, per_page).get_page(page_number)
    ids = list(page.object_list)
    rows = (
        Article.objects.filter(pk__in=ids)
        .select_related("source")
        .defer("body_html", "body_text", "summary", "extraction_error", "minhash")
        .in_bulk()
    )
    # The engine knows articles, not stories: folded within the page.
    page.object_list = fold_story_groups([rows[pk] for pk in ids if pk in rows])
    for article in page.object_list:
        article.search_snippet_raw = results.snippets.get(article.pk, "")
    page.count_is_exact = results.exact
    page.search_mode = "engine"
    return page


# ts_headline's options: private-use marks around matches (search.py turns them into
# <mark> after escaping), up to two fragments of SNIPPET_WORDS.
_HEADLINE_OPTIONS = (
    f'StartSel="{_MARK_START}", StopSel="{_MARK_STOP}", MaxWords={SNIPPET_WORDS}, '
    'MinWords=15, ShortWord=3, MaxFragments=2, FragmentDelimiter=" … "'
)
# The columns of ``search_postgres.page_rows``, and where each sits in the model's order
# of its fields (``from_db`` takes values in that order).
_PAGE_FIELDS = ("id", "title", "slug", "published_at", "source_id", "group_id")
_MODEL_ORDER = [field.attname for field in Article._meta.concrete_fields]
_PAGE_ORDER = sorted(range(len(_PAGE_FIELDS)), key=lambda i: _MODEL_ORDER.index(_PAGE_FIELDS[i]))
_PAGE_FIELDS_IN_ORDER = tuple(_PAGE_FIELDS[i] for i in _PAGE_ORDER)
# What an other outlet's report is loaded with (in the model's order of fields).
_OTHER_FIELDS = tuple(sorted(("id", "slug", "source_id"), key=_MODEL_ORDER.index))


def _rows_with_headlines(ids: list[int], parsed: ParsedQuery) -> list[Article]:
    """The page's articles in ``ids`` order (the few columns a result shows, its source's
    name loaded), each with a ``ts_headline`` of its text: one query, no ORM compiling."""
    rows = search_postgres.page_rows(
        ids=ids,
        websearch=to_websearch(parsed),
        terms=[term.words for group in parsed.groups for term in group if not term.excluded],
        headline_options=_HEADLINE_OPTIONS,
        mark=_MARK_START,
    )
    sources: dict[int, Source] = {}

    def source_of(article: Article, name: str) -> None:
        source = sources.get(article.source_id)
        if source is None:
            source = Source.from_db(connection.alias, ("id", "name"), (article.source_id, name))
            sources[article.source_id] = source
        Article.source.field.set_cached_value(article, source)

    by_id = {}
    for *values, source_name, headline, others in rows:
        values = [values[i] for i in _PAGE_ORDER]
        article = Article.from_db(connection.alias, _PAGE_FIELDS_IN_ORDER, values)
        source_of(article, source_name)
        article.search_snippet_raw = headline
        article.also_reported = []
        for pk, slug, source_id, name in others or ():
            known = {"id": pk, "slug": slug, "source_id": source_id}
            other = Article.from_db(
                connection.alias, _OTHER_FIELDS, [known[field] for field in _OTHER_FIELDS]
            )
            source_of(other, name)
            add_other_report(article, other)
        by_id[article.pk] = article
    return [by_id[pk] for pk in ids if pk in by_id]


def _term_condition(term: Term) -> Q:
    text = " ".join(term.words)
    return Q(title__icontains=text) | Q(body_text__icontains=text)


def _plain_condition(parsed: ParsedQuery) -> Q:
    """The query language as substring conditions, for SQLite without FTS5."""
    condition = Q(pk__in=[])
    for group in parsed.groups:
        wanted = Q()
        for term in group:
            wanted &= ~_term_condition(term) if term.excluded else _term_condition(term)
        condition |= wanted
    return condition


def highlight_snippet(raw: str) -> SafeString:
    """Return a marked snippet as HTML: escaped text, highlights in ``<mark>``."""
    escaped = escape(raw)
    marked = _MARKED.sub(r"<mark>\1</mark>", escaped)
    return mark_safe(marked.replace(_MARK_START, "").replace(_MARK_STOP, ""))  # noqa: S308


def fallback_snippet(*, text: str, query: str, width: int = 220) -> SafeString:
    """Return a window of ``text`` around the first query word, words highlighted.

    Plain Python, for databases without full-text search.
    """
    words = parse_query(query).words()
    lowered = text.lower()
    positions = [lowered.find(word.lower()) for word in words]
    positions = [position for position in positions if position >= 0]
    start = max(0, min(positions) - width // 3) if positions else 0
    window = text[start : start + width]
    if start > 0:
        window = "… " + window.split(" ", 1)[-1]
    if start + width < len(text):
        window = window.rsplit(" ", 1)[0] + " …"
    window = window.replace(_MARK_START, "").replace(_MARK_STOP, "")
    for word in sorted(set(words), key=len, reverse=True):
        pattern = re.compile(re.escape(word), re.IGNORECASE)
        window = pattern.sub(lambda match: f"{_MARK_START}{match.group(0)}{_MARK_STOP}", window)
    return highlight_snippet(window)


def snippet_for(article: Article, *, query: str) -> SafeString:
    """Return the highlighted snippet for one search result."""
    raw = getattr(article, "search_snippet_raw", None)
    if raw is not None:
        return highlight_snippet(raw)
    return fallback_snippet(text=article.body_text or "", query=query)
