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
from django.db import connection
from django.db.models import F, Q, QuerySet
from django.db.models.expressions import RawSQL
from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

from articles.models import Article, Topic

# Longer queries are cut: nobody types more, and the parser's work grows with length.
MAX_QUERY_LENGTH = 200
# Words kept from a query; a reader pasting a paragraph still gets an answer quickly.
MAX_QUERY_WORDS = 12
SEARCH_CONFIG = "english"
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


def search_articles(*, filters: SearchFilters) -> QuerySet[Article]:
    """Return published articles matching ``filters``, best first.

    Each result has ``search_snippet_raw`` (marked plain text, PostgreSQL only;
    pass it to ``highlight_snippet``). A query with no letters or digits in it
    matches nothing rather than everything; no query at all lists the newest
    articles within the topic and date filters.
    """
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
    if not filters.query:
        return articles.order_by("-published_at", "-id")
    if not _has_word_characters(filters.query):
        return articles.none()
    if uses_full_text_search():
        # The snippet is made by the database; the body need not travel.
        return _postgres_search(articles.defer("body_text"), filters.query)
    return _fallback_search(articles, filters.query)


def full_text_query(query_text: str) -> SearchQuery:
    return SearchQuery(query_text, search_type="websearch", config=SEARCH_CONFIG)


def full_text_matches(articles: QuerySet[Article], query: SearchQuery) -> QuerySet[Article]:
    """``articles`` whose search vector matches ``query`` (PostgreSQL; uses the GIN index).

    The vector is available to later expressions as ``F("document")``.
    """
    # A constant column reference; no reader input reaches this SQL.
    document = RawSQL(  # noqa: S611
        f'"{Article._meta.db_table}"."search_vector"', [], output_field=SearchVectorField()
    )
    return articles.alias(document=document).filter(document=query)


def _postgres_search(articles: QuerySet[Article], query_text: str) -> QuerySet[Article]:
    query = full_text_query(query_text)
    return (
        full_text_matches(articles, query)
        .annotate(
            search_rank=SearchRank(F("document"), query),
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
            ),
        )
        .order_by("-search_rank", "-published_at", "-id")
    )


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
