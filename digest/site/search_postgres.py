"""PostgreSQL search: the newest matches from a date window that widens only as needed.

Every search reads the narrow ``articles_articlesearch`` table (``articles/search_index.py``)
and never an article body. Whatever the order shown, it first needs the *newest* N
matches (N: the depth of the page shown, or ``RANKED_CANDIDATES`` when ranking). Those
are taken from a window of the newest rows of the archive: the window starts at a few
times N rows and grows eightfold until it holds N matches or is the whole archive. The
window's boundary date is read first (an index-only walk over the window), then passed
as a literal so the planner knows how small the window is; the matches inside it come
from the GIN index and the date index together. So a word found in half the archive
reads a few thousand rows, a rare word reads its few matches (after two or three cheap
probes), and no global planner setting is touched.

When the window held everything, the count is exact; otherwise it is extrapolated from
the window ("about 12,000 results"). For relevance, the ``RANKED_CANDIDATES`` newest
matches are ranked by ``ts_rank`` (title weight A over body B) and shown first; later
pages continue with older matches, newest first, so there is no cap a reader can see.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from django.db import connection

from articles.search_index import SEARCH_CONFIG

# Matches ranked for "relevance": ranking reads each candidate's vector, so it is bounded.
RANKED_CANDIDATES = 400
# The first window holds this many times the matches wanted (at least MIN_WINDOW rows),
# then grows by WINDOW_GROWTH; past MAX_WINDOWS probes the whole archive is searched.
WINDOW_FACTOR = 4
MIN_WINDOW = 2000
WINDOW_GROWTH = 8
MAX_WINDOWS = 4


@dataclass(frozen=True)
class Candidates:
    """The newest matches in order (id, published_at), and how many matches there are."""

    rows: list[tuple[int, datetime]]
    total: int
    exact: bool


def _conditions(filters) -> tuple[str, list]:
    """SQL conditions on ``s`` (the search table) for the reader's topic, source and dates."""
    sql = ["s.published_at <= now()"]
    params: list = []
    if filters.topic is not None:
        sql.append(
            "s.article_id IN (SELECT article_id FROM articles_articletopic WHERE topic_id = %s)"
        )
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


def _window_bound(rows_back: int, filters) -> datetime | None:
    """The date of the ``rows_back``-th newest published row (within the reader's dates)."""
    date_sql, params = _date_conditions(filters)
    where = " AND ".join(["s.published_at <= now()", *date_sql])
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT s.published_at FROM articles_articlesearch s WHERE {where} "  # noqa: S608
            "ORDER BY s.published_at DESC, s.article_id DESC OFFSET %s LIMIT 1",
            [*params, rows_back],
        )
        row = cursor.fetchone()
    return row[0] if row else None


def candidate_sql(*, websearch: str, filters, bound: datetime | None, limit: int):
    """The query for the ``limit`` newest matches at or after ``bound`` (None: all),
    with the number of matches in that window on every row. Public for the plan tests."""
    where, params = _conditions(filters)
    window = ""
    if bound is not None:
        window = " AND s.published_at >= %s"
        params.append(bound)
    sql = (
        "SELECT s.article_id, s.published_at, count(*) OVER () "  # noqa: S608
        "FROM articles_articlesearch s "
        f"WHERE s.vector @@ websearch_to_tsquery('{SEARCH_CONFIG}', %s) AND {where}{window} "
        "ORDER BY s.published_at DESC, s.article_id DESC LIMIT %s"
    )
    return sql, [websearch, *params, limit]


def _estimated_rows(filters, bound: datetime, rows_back: int) -> float:
    """About how many rows the reader's date range holds, to extrapolate a window's count."""
    with connection.cursor() as cursor:
        if not (filters.date_from or filters.date_to):
            cursor.execute(
                "SELECT reltuples FROM pg_class WHERE oid = 'articles_articlesearch'::regclass"
            )
            (rows,) = cursor.fetchone()
            return max(float(rows), float(rows_back))
        # Within a date range: the window's rows per second, over the range's span.
        date_sql, params = _date_conditions(filters)
        where = " AND ".join(["s.published_at <= now()", *date_sql])
        cursor.execute(
            f"SELECT extract(epoch FROM now() - %s), "  # noqa: S608
            f"extract(epoch FROM now() - min(s.published_at)) "
            f"FROM articles_articlesearch s WHERE {where}",
            [bound, *params],
        )
        window_seconds, range_seconds = cursor.fetchone()
    if not window_seconds or not range_seconds:
        return float(rows_back)
    return rows_back * max(1.0, float(range_seconds) / float(window_seconds))


def newest_matches(*, websearch: str, filters, wanted: int) -> Candidates:
    """The ``wanted`` newest matches of ``websearch`` within ``filters``, and the count.

    Cost grows with ``wanted`` and with how rare the words are in recent rows, not with
    the number of matches in the archive.
    """
    narrowed = filters.topic is not None or filters.source is not None
    rows_back = max(MIN_WINDOW, WINDOW_FACTOR * wanted) * (WINDOW_GROWTH if narrowed else 1)
    for attempt in range(MAX_WINDOWS + 1):
        bound = None if attempt == MAX_WINDOWS else _window_bound(rows_back, filters)
        sql, params = candidate_sql(
            websearch=websearch, filters=filters, bound=bound, limit=wanted
        )
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
            found = cursor.fetchall()
        in_window = found[0][2] if found else 0
        if bound is None:
            return Candidates(rows=[row[:2] for row in found], total=in_window, exact=True)
        if in_window >= wanted:
            total = in_window * _estimated_rows(filters, bound, rows_back) / rows_back
            return Candidates(
                rows=[row[:2] for row in found], total=max(in_window, round(total)), exact=False
            )
        rows_back *= WINDOW_GROWTH
    raise AssertionError("unreachable: the last window is the whole archive")


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
