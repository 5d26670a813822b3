"""Searching published articles: ranked full-text search on PostgreSQL, a fallback elsewhere.

On PostgreSQL each article carries a weighted ``search_vector`` column (title
weight A, body weight B) kept up to date by a trigger and covered by a GIN
index; both are created by migration ``0002`` and only there, so the model and
SQLite know nothing of them. Queries are parsed with ``websearch_to_tsquery``,
which accepts anything a reader can type (quotes, ``-word``, ``or``,
punctuation) without raising. Elsewhere the search is a case-insensitive
substring match on title and body, newest first.

Snippets are plain text with highlights: the database marks matches with two
private-use characters, the text is HTML-escaped, and only then are those
characters turned into ``<mark>`` tags, so nothing in an article can become markup.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from datetime import date

from django.contrib.postgres.search import (
    SearchHeadline,
    SearchQuery,
    SearchRank,
    SearchVectorField,
)
from django.core.paginator import Page, Paginator
from django.db import connection, transaction
from django.db.models import F, Q, QuerySet
from django.db.models.expressions import Col, Expression
from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

from articles.models import Article, Topic

# Longer queries are cut: nobody types more, and the parser's work grows with length.
MAX_QUERY_LENGTH = 200
# Words kept from a query; a reader pasting a paragraph still gets an answer quickly.
MAX_QUERY_WORDS = 12
SEARCH_CONFIG = "english"
# Ranking reads every candidate's search vector, so only the newest matches are
# ranked: a word found in a third of the archive still answers in milliseconds, and
# a news reader rarely wants the best match from years ago over last month's.
MAX_RANKED_MATCHES = 200
SNIPPET_WORDS = 35

_MARK_START = "\ue000"
_MARK_STOP = "\ue001"
_MARKED = re.compile(f"{_MARK_START}(.*?){_MARK_STOP}", re.DOTALL)


@dataclass(frozen=True)
class SearchFilters:
    """What a reader asked for, cleaned: the query text and optional topic and dates."""

    query: str = ""
    topic: Topic | None = None
    date_from: date | None = None
    date_to: date | None = None

    @property
    def is_empty(self) -> bool:
        return not self.query and self.topic is None and not self.date_from and not self.date_to


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


def _has_word_characters(query: str) -> bool:
    return any(char.isalnum() for char in query)


def uses_full_text_search() -> bool:
    return connection.vendor == "postgresql"


def _filtered_articles(filters: SearchFilters) -> QuerySet[Article]:
    """Published articles within the topic and date filters, lightest columns only."""
    articles = (
        Article.objects.published()
        .select_related("source")
        .defer("body_html", "summary", "extraction_error")
    )
    if filters.topic is not None:
        articles = articles.filter(
            pk__in=Article.topics.through.objects.filter(topic=filters.topic).values("article_id")
        )
    if filters.date_from:
        articles = articles.filter(published_at__date__gte=filters.date_from)
    if filters.date_to:
        articles = articles.filter(published_at__date__lte=filters.date_to)
    return articles


def search_page(*, filters: SearchFilters, page_number=None, per_page: int = 20) -> Page:
    """Return one page of published articles matching ``filters``, best first.

    ``page_number`` may be anything a reader typed: missing or not a number gives the
    first page, past the end the last. On PostgreSQL the ``MAX_RANKED_MATCHES``
    newest matches are ranked (title matches weigh more than body matches) and older
    ones are left out, which narrowing by topic or date reaches; each result carries
    ``search_snippet_raw`` for ``snippet_for``. A query with no letter or digit
    matches nothing rather than everything; no query lists the newest articles
    within the filters. A fixed number of queries whatever the number of matches.
    """
    articles = _filtered_articles(filters)
    if not filters.query:
        return Paginator(articles.order_by("-published_at", "-id"), per_page).get_page(page_number)
    if not _has_word_characters(filters.query):
        return Paginator(articles.none(), per_page).get_page(page_number)
    if uses_full_text_search():
        return _postgres_page(articles, filters.query, page_number, per_page)
    return Paginator(_fallback_search(articles, filters.query), per_page).get_page(page_number)


def full_text_query(query_text: str) -> SearchQuery:
    return SearchQuery(query_text, search_type="websearch", config=SEARCH_CONFIG)


def _search_vector_field() -> SearchVectorField:
    """A stand-in field for the column, attached to Article without joining its fields."""
    field = SearchVectorField()
    field.set_attributes_from_name("search_vector")
    field.model = Article
    return field


class _SearchVectorColumn(Expression):
    """``search_vector`` of the query's own table, whatever alias it gets (subqueries too).

    The column exists only on PostgreSQL (migration 0002), so it is not a model field.
    """

    output_field = SearchVectorField()

    def resolve_expression(
        self, query=None, allow_joins=True, reuse=None, summarize=False, for_save=False
    ):
        return Col(
            query.get_initial_alias(), _search_vector_field(), output_field=self.output_field
        )


def full_text_matches(articles: QuerySet[Article], query: SearchQuery) -> QuerySet[Article]:
    """``articles`` whose search vector matches ``query`` (PostgreSQL; uses the GIN index).

    The vector is available to later expressions as ``F("document")``.
    """
    return articles.alias(document=_SearchVectorColumn()).filter(document=query)


def _prefer_full_text_index() -> None:
    """Within the current transaction, have the planner find matches through the GIN index.

    Left to itself it misjudges how many rows a phrase or a negation matches and
    walks the whole table newest first, testing every row's vector (seconds on a
    large archive); the index answers in milliseconds for any query.
    """
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT set_config('enable_seqscan', 'off', true), "
            "set_config('enable_indexscan', 'off', true)"
        )


def _postgres_page(
    articles: QuerySet[Article], query_text: str, page_number, per_page: int
) -> Page:
    query = full_text_query(query_text)
    with transaction.atomic():
        _prefer_full_text_index()
        newest = (
            full_text_matches(articles, query)
            .order_by("-published_at", "-id")
            .values("pk")[:MAX_RANKED_MATCHES]
        )
        # Ranks are computed for those candidates only (one query, no id list).
        candidates = (
            full_text_matches(Article.objects.filter(pk__in=newest), query)
            .annotate(search_rank=SearchRank(F("document"), query))
            .values_list("search_rank", "published_at", "pk")
        )
        ranked_ids = [pk for *_, pk in sorted(candidates, reverse=True)]
        page = Paginator(ranked_ids, per_page).get_page(page_number)
        rows = (
            Article.objects.filter(pk__in=list(page.object_list))
            .select_related("source")
            .defer("body_html", "body_text", "summary", "extraction_error")
            .annotate(
                search_snippet_raw=SearchHeadline(
                    "body_text",
                    query,
                    config=SEARCH_CONFIG,
                    start_sel=_MARK_START,
                    stop_sel=_MARK_STOP,
                    max_words=SNIPPET_WORDS,
                    min_words=15,
                    short_word=3,
                    max_fragments=2,
                    fragment_delimiter=" … ",
                )
            )
            .in_bulk()
        )
    page.object_list = [rows[pk] for pk in page.object_list if pk in rows]
    return page


def _fallback_search(articles: QuerySet[Article], query_text: str) -> QuerySet[Article]:
    condition = Q()
    for word in query_text.split():
        condition &= Q(title__icontains=word) | Q(body_text__icontains=word)
    return articles.filter(condition).order_by("-published_at", "-id")


def highlight_snippet(raw: str) -> SafeString:
    """Return a marked snippet as HTML: escaped text, highlights in ``<mark>``."""
    escaped = escape(raw)
    marked = _MARKED.sub(r"<mark>\1</mark>", escaped)
    return mark_safe(marked.replace(_MARK_START, "").replace(_MARK_STOP, ""))  # noqa: S308


def fallback_snippet(*, text: str, query: str, width: int = 220) -> SafeString:
    """Return a window of ``text`` around the first query word, words highlighted.

    Plain Python, for databases without full-text search.
    """
    words = [word for word in query.split() if word]
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
