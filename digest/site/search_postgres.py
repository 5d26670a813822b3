"""PostgreSQL search: the newest matches from a date window that widens only as needed.

Every search reads the narrow ``articles_articlesearch`` table (``articles/search_index.py``)
and never an article body. Whatever the order shown, it first needs the *newest* N
matches (N: the depth of the page shown, or ``RANKED_CANDIDATES`` when ranking). Those
are taken from a window of the newest rows of the archive: the window starts at a few
times N rows and grows (by what the matches seen so far predict, at least fourfold)
until it holds N matches or is the whole archive; a window with no match at all means
a rare word, which goes straight to the whole archive. The window's boundary date
comes from the archive's average rate (index endpoints and the table's row estimate:
no scan). Its matches come from one GIN index over (published_at, vector) (btree_gin):
a single index scan intersects the date range with the words, so there is no plan that
walks the window testing every row's vector, a cost the planner does not see.
So a word found in half the archive reads a few thousand narrow rows, a rare word its
few matches, and no planner setting is touched.

Results are stories, not articles: the reports of one story group count once and
appear once, by their newest match (the search row carries its story, so folding reads
nothing more; windows are still sized in matches).

When the window held everything, the count is exact; otherwise it is extrapolated from
the window ("about 12,000 results"). For relevance, the ``RANKED_CANDIDATES`` newest
matches are ranked by ``ts_rank`` (title weight A over body B) and shown first; later
pages continue with older matches, newest first, so there is no cap a reader can see.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db import connection

from articles.search_index import SEARCH_CONFIG

# Matches ranked for "relevance": ranking reads each candidate's vector, so it is bounded.
RANKED_CANDIDATES = 200
# The first window holds this many times the matches wanted (at least MIN_WINDOW rows),
# then grows by WINDOW_GROWTH; past MAX_WINDOWS probes the whole archive is searched.
WINDOW_FACTOR = 4
MIN_WINDOW = 1000
WINDOW_GROWTH = 4
MAX_GROWTH = 64
MAX_WINDOWS = 3


@dataclass(frozen=True)
class Candidates:
    """The newest matches in order (id, published_at), and how many matches there are."""

    rows: list[tuple[int, datetime]]
    total: int
    exact: bool


def _conditions(filters) -> tuple[str, list]:
    """SQL conditions on ``s`` (the search table) for the reader's topic, source and dates."""
    # "Published by now" as an expression no index can use: the GIN scan then covers only
    # the window's dates (or none), not every date up to now.
    sql = ["s.published_at + interval '0 seconds' <= now()"]
    params: list = []
    if filters.topic is not None:
        sql.append("s.topic_ids @> ARRAY[%s]::bigint[]")
        params.append(filters.topic.pk)
    if filters.source is not None:
        sql.append("s.source_id = %s")
        params.append(filters.source.pk)
    date_sql, date_params = _date_conditions(filters)
    return " AND ".join(sql + date_sql), params + date_params


def _date_conditions(filters) -> tuple[list[str], list]:
    sql, params = [], []
    if filters.date_from:
        sql.append("s.published_at >= %s::date")
        params.append(filters.date_from)
    if filters.date_to:
        sql.append("s.published_at < %s::date + 1")
        params.append(filters.date_to)
    return sql, params


@dataclass(frozen=True)
class _Span:
    """The reader's date range as the archive fills it: its newest and oldest published
    dates, and the archive's average seconds between two articles."""

    newest: datetime
    oldest: datetime
    seconds_per_row: float


def _span(filters) -> _Span | None:
    """Read from index endpoints and the table's row estimate: a few pages, any size."""
    # Index endpoints of the wide table's published_at index (the search table has only
    # its GIN index), and the search table's row estimate.
    date_sql, params = _date_conditions(filters)
    ranged = " AND ".join(["s.published_at <= now()", *date_sql])
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT (SELECT min(published_at) FROM articles_article), "  # noqa: S608
            "(SELECT max(published_at) FROM articles_article WHERE published_at <= now()), "
            f"(SELECT max(s.published_at) FROM articles_article s WHERE {ranged}), "
            f"(SELECT min(s.published_at) FROM articles_article s WHERE {ranged}), "
            "(SELECT reltuples FROM pg_class WHERE oid = 'articles_articlesearch'::regclass)",
            [*params, *params],
        )
        first, last, newest, oldest, rows = cursor.fetchone()
    if newest is None or first is None or not rows or rows <= 0:
        return None  # nothing in range, or never analysed: search the whole range at once
    return _Span(newest, oldest, (last - first).total_seconds() / float(rows))


def candidate_sql(*, websearch: str, filters, bound: datetime | None, limit: int):
    """The query for the ``limit`` newest stories matching at or after ``bound`` (None:
    all), each by its newest match, with the number of stories matching in that window
    on every row. Public for the plan tests."""
    where, params = _conditions(filters)
    window = ""
    if bound is not None:
        window = " AND s.published_at >= %s"
        params.append(bound)
    # One row per story (the search row's own ``story``: no read of the wide table), the
    # newest match of each story kept, stories counted.
    sql = (
        "SELECT m.article_id, m.published_at, count(*) OVER () FROM ("  # noqa: S608
        "SELECT DISTINCT ON (coalesce(s.story, -s.article_id)) s.article_id, s.published_at "
        "FROM articles_articlesearch s "
        f"WHERE s.vector @@ websearch_to_tsquery('{SEARCH_CONFIG}', %s) AND {where}{window} "
        "ORDER BY coalesce(s.story, -s.article_id), s.published_at DESC, s.article_id DESC"
        ") m ORDER BY m.published_at DESC, m.article_id DESC LIMIT %s"
    )
    return sql, [websearch, *params, limit]


def newest_matches(*, websearch: str, filters, wanted: int) -> Candidates:
    """The ``wanted`` newest matches of ``websearch`` within ``filters``, and the count.

    Cost grows with ``wanted`` and with how rare the words are in recent rows, not with
    the number of matches in the archive. Windows are measured in rows at the archive's
    average rate; a wrong guess costs a wider window, never a wrong answer, because the
    newest ``wanted`` matches inside a window that holds that many are the newest overall.
    """
    span = _span(filters)
    narrowed = filters.topic is not None or filters.source is not None
    rows_back: int | None = max(MIN_WINDOW, WINDOW_FACTOR * wanted)
    rows_back *= WINDOW_GROWTH if narrowed else 1
    for attempt in range(MAX_WINDOWS + 1):
        bound = None
        if span is not None and rows_back is not None and attempt < MAX_WINDOWS:
            bound = span.newest - timedelta(seconds=rows_back * span.seconds_per_row)
            if bound <= span.oldest:
                bound = None
        sql, params = candidate_sql(
            websearch=websearch, filters=filters, bound=bound, limit=wanted
        )
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
            found = cursor.fetchall()
        in_window = found[0][2] if found else 0
        rows = [row[:2] for row in found]
        if bound is None:
            return Candidates(rows=rows, total=in_window, exact=True)
        if in_window >= wanted:
            share = (span.newest - bound) / (span.newest - span.oldest)
            return Candidates(
                rows=rows, total=max(in_window, round(in_window / share)), exact=False
            )
        if in_window == 0:
            rows_back = None  # nothing recent at all: a rare word, read from the GIN index
        else:
            # Grow to where the matches seen so far say ``wanted`` will be, with a margin.
            growth = min(max(2 * wanted / in_window, WINDOW_GROWTH), MAX_GROWTH)
            rows_back = int(rows_back * growth)
    raise AssertionError("unreachable: the last window is the whole range")


def rank(*, websearch: str, ids: list[int]) -> dict[int, float]:
    """``ts_rank`` of each of ``ids`` against the query (title matches weigh most)."""
    if not ids:
        return {}
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT article_id, "  # noqa: S608 - SEARCH_CONFIG is a constant
            f"ts_rank(vector, websearch_to_tsquery('{SEARCH_CONFIG}', %s)) "
            "FROM articles_articlesearch WHERE article_id = ANY(%s)",
            [websearch, ids],
        )
        return dict(cursor.fetchall())


def ordered_ids(*, websearch: str, filters, sort: str, depth: int) -> tuple[list[int], int, bool]:
    """Result ids in the order shown, at least ``depth`` of them when there are that many;
    the count of matches and whether it is exact."""
    wanted = max(depth, RANKED_CANDIDATES) if sort == "relevance" else depth
    candidates = newest_matches(websearch=websearch, filters=filters, wanted=wanted)
    ids = [pk for pk, _ in candidates.rows]
    if sort == "relevance":
        head = candidates.rows[:RANKED_CANDIDATES]
        ranks = rank(websearch=websearch, ids=[pk for pk, _ in head])
        head.sort(key=lambda row: (ranks.get(row[0], 0.0), row[1], row[0]), reverse=True)
        ids = [pk for pk, _ in head] + ids[RANKED_CANDIDATES:]
    return ids, candidates.total, candidates.exact
