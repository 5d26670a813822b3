"""PostgreSQL search: the newest matches from a date window that widens only as needed.

Every search reads the narrow ``articles_articlesearch`` table (``articles/search_index.py``)
and never an article body. Whatever the order shown, it first needs the *newest* N
matches (N: the depth of the page shown, or ``RANKED_CANDIDATES`` when ranking). Those
are taken from a window of the newest rows of the archive: the window starts at a few
times N rows and grows (by what the matches seen so far predict, with a margin)
until it holds N matches or is the whole archive; a window with no match at all means
a rare word, which goes straight to the whole archive, and so does a window that says
the whole archive holds only a few matches (``WHOLE_RANGE_MATCHES``). The window's boundary date
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
matches are ranked by ``ts_rank`` (title weight A over body B), in the same query once the
window is known to be enough, and shown first; later pages continue with older matches,
newest first, so there is no cap a reader can see.

The page's rows come with their snippets in one more query (``page_rows``): ``ts_headline``
parses the text it is given, so it is given the passage around the first place a query
word may appear, not the whole body.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db import connection

from articles.search_index import SEARCH_CONFIG
from digest.core.page_cache import remembered

# Matches ranked for "relevance": ranking reads each candidate's vector, so it is bounded.
RANKED_CANDIDATES = 200
# The first window holds this many times the matches wanted (at least MIN_WINDOW rows;
# WINDOW_GROWTH times more under a topic or source filter), then grows to where the
# matches seen predict the matches wanted, times WINDOW_MARGIN (by MIN_GROWTH to
# MAX_GROWTH); past MAX_WINDOWS probes the whole archive is searched.
WINDOW_FACTOR = 4
MIN_WINDOW = 1000
WINDOW_GROWTH = 4
WINDOW_MARGIN = 1.4
MIN_GROWTH = 1.5
MAX_GROWTH = 64
# A window's every date is a key of the GIN index to read (about a microsecond each),
# a match a row to fetch and sort (several): when a window says the whole range holds
# no more than this many matches, the whole range is read next, without dates.
WHOLE_RANGE_MATCHES = 2000
MAX_WINDOWS = 3
# A snippet's headline is computed over the passage around the first possible match:
# this many characters before it, this many in all (a snippet is about 35 words).
PASSAGE_BEFORE = 80
PASSAGE_CHARS = 320


@dataclass(frozen=True)
class Candidates:
    """Result ids in the order shown (the newest matches, the ranked ones first), and how
    many matches there are."""

    ids: list[int]
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


# A span only sizes the windows (a stale one costs a wider window, never a wrong answer),
# and any change to the archive bumps the page version: remembered for a minute at most.
SPAN_SECONDS = 60


def _span(filters) -> _Span | None:
    """The archive's span for the reader's dates, read lately or now (``_read_span``)."""
    return remembered(
        ("search-span", filters.date_from, filters.date_to),
        lambda: _read_span(filters),
        seconds=SPAN_SECONDS,
    )


def _read_span(filters) -> _Span | None:
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


def candidate_sql(
    *, websearch: str, filters, bound: datetime | None, limit: int, ranked: int = 0, final=True
):
    """The query for the ``limit`` newest stories matching at or after ``bound`` (None:
    all), each by its newest match, with the number of stories matching in that window
    on every row. The ``ranked`` newest come first by ``ts_rank`` (then newest first),
    ranked only when the window is enough (``final``, or it holds ``limit`` stories), so a
    window that must widen ranks nothing. Rows: (article id, stories in window). Public
    for the plan tests."""
    where, params = _conditions(filters)
    window = ""
    if bound is not None:
        window = " AND s.published_at >= %s"
        params.append(bound)
    query = f"websearch_to_tsquery('{SEARCH_CONFIG}', %s)"
    # One row per story (the search row's own ``story``: no read of the wide table), the
    # newest match of each story kept, stories counted.
    newest = (
        "SELECT m.article_id, m.published_at, count(*) OVER () AS total, "  # noqa: S608
        "row_number() OVER (ORDER BY m.published_at DESC, m.article_id DESC) AS n FROM ("
        "SELECT DISTINCT ON (coalesce(s.story, -s.article_id)) s.article_id, s.published_at "
        "FROM articles_articlesearch s "
        f"WHERE s.vector @@ {query} AND {where}{window} "
        "ORDER BY coalesce(s.story, -s.article_id), s.published_at DESC, s.article_id DESC"
        ") m ORDER BY m.published_at DESC, m.article_id DESC LIMIT %s"
    )
    # Each ranked candidate's vector read once by its key, after the window is known.
    rank = (
        "CASE WHEN c.n <= %s AND (%s OR c.total >= %s) THEN "  # noqa: S608
        f"(SELECT ts_rank(r.vector, {query}) FROM articles_articlesearch r "
        "WHERE r.article_id = c.article_id) END"
    )
    sql = (
        f"SELECT c.article_id, c.total FROM ({newest}) c "  # noqa: S608
        f"ORDER BY {rank} DESC NULLS LAST, c.published_at DESC, c.article_id DESC"
    )
    return sql, [websearch, *params, limit, ranked, final, limit, websearch]


def newest_matches(*, websearch: str, filters, wanted: int, ranked: int = 0) -> Candidates:
    """The ``wanted`` newest matches of ``websearch`` within ``filters`` (the ``ranked``
    newest of them first, by rank), and the count.

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
            websearch=websearch,
            filters=filters,
            bound=bound,
            limit=wanted,
            ranked=ranked,
            final=bound is None,
        )
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
            found = cursor.fetchall()
        in_window = found[0][1] if found else 0
        ids = [row[0] for row in found]
        if bound is None:
            return Candidates(ids=ids, total=in_window, exact=True)
        share = (span.newest - bound) / (span.newest - span.oldest)
        if in_window >= wanted:
            return Candidates(ids=ids, total=max(in_window, round(in_window / share)), exact=False)
        if in_window == 0 or in_window / share <= WHOLE_RANGE_MATCHES:
            # Few matches in all (none recent: a rare word): the whole range from the GIN
            # index's words alone costs less than a wide window's every date.
            rows_back = None
        else:
            # Grow to where the matches seen so far say ``wanted`` will be, with a margin.
            growth = min(max(WINDOW_MARGIN * wanted / in_window, MIN_GROWTH), MAX_GROWTH)
            rows_back = int(rows_back * growth)
    raise AssertionError("unreachable: the last window is the whole range")


def ordered_ids(*, websearch: str, filters, sort: str, depth: int) -> tuple[list[int], int, bool]:
    """Result ids in the order shown, at least ``depth`` of them when there are that many;
    the count of matches and whether it is exact."""
    relevance = sort == "relevance"
    candidates = newest_matches(
        websearch=websearch,
        filters=filters,
        wanted=max(depth, RANKED_CANDIDATES) if relevance else depth,
        ranked=RANKED_CANDIDATES if relevance else 0,
    )
    return candidates.ids, candidates.total, candidates.exact


def _prefix_pattern(word: str) -> str:
    prefix = word.lower()[: max(4, len(word) - 3)]
    return "".join(char if char.isalnum() else "\\" + char for char in prefix)


def _passage_pattern(terms: list[tuple[str, ...]]) -> str:
    """A regular expression for where any of ``terms`` (words, or phrases: their words in
    a row) may first appear in a text: words starting with each word's first letters
    (``regulat`` for "regulations"), so the passage holds the match whatever its
    ending. A guess: a miss costs the whole text."""
    patterns = {"\\w*\\W+".join(_prefix_pattern(word) for word in words) for words in terms}
    return "\\m(" + "|".join(sorted(patterns)) + ")" if patterns else ""


def _any_of(terms: list[tuple[str, ...]]) -> str:
    """A websearch query matching any of ``terms`` (a phrase as a phrase)."""
    return " or ".join('"' + " ".join(words).replace('"', " ") + '"' for words in terms)


def _passage_sql(start: str) -> str:
    """SQL for the body's ``PASSAGE_CHARS`` characters from ``start`` (an SQL expression,
    1 or more), without the partial words where it was cut."""
    cut = f"substr(b.body, {start}, {PASSAGE_CHARS})"
    cut = f"CASE WHEN {start} > 1 THEN regexp_replace({cut}, '^\\S*\\s+', '') ELSE {cut} END"
    return (
        f"CASE WHEN {start} + {PASSAGE_CHARS} <= length(b.body) "
        f"THEN regexp_replace({cut}, '\\s+\\S*$', '') ELSE {cut} END"
    )


# The other published reports of a row's story group, oldest first (what "also reported
# by" shows of them), read by the group's index.
_OTHER_REPORTS = (
    "(SELECT json_agg(json_build_array(o.id, o.slug, o.source_id, os.name) "
    "ORDER BY o.published_at, o.id) "
    "FROM articles_article o JOIN articles_source os ON os.id = o.source_id "
    "WHERE a.group_id IS NOT NULL AND o.group_id = a.group_id AND o.id <> a.id "
    "AND o.published_at IS NOT NULL AND o.published_at <= now())"
)


def page_rows(
    *,
    ids: list[int],
    websearch: str,
    terms: list[tuple[str, ...]],
    headline_options: str,
    mark: str,
) -> list[tuple]:
    """The page's articles (id, title, slug, published_at, source_id, group_id, source
    name, ``ts_headline`` of the body, the story's other published reports as a JSON
    list of [id, slug, source id, source name], oldest first, or None), in no particular
    order: one query.

    The headline costs a parse of the text it is given, so it is given the passage
    around the first place a query word may appear (``PASSAGE_BEFORE`` characters before
    it, ``PASSAGE_CHARS`` in all, partial words at the cut ends dropped). When that
    passage holds no highlight (``mark`` is the highlight's start), the search row tells
    whether the body holds any of ``terms`` (or the match is in the title only): if it does, the
    headline is of the whole body, else of its first passage (what the whole body's
    headline would show: its start)."""
    if not ids:
        return []
    pattern = _passage_pattern(terms)
    query = f"websearch_to_tsquery('{SEARCH_CONFIG}', %(q)s)"
    headline = f"ts_headline('{SEARCH_CONFIG}', TEXT, {query}, %(options)s)"
    in_body = (
        f"(SELECT ts_filter(r.vector, '{{b}}') @@ websearch_to_tsquery('{SEARCH_CONFIG}', "  # noqa: S608
        "%(any)s) FROM articles_articlesearch r WHERE r.article_id = a.id)"
    )
    passage = _passage_sql(f"greatest(1, f.at - {PASSAGE_BEFORE})")
    sql = (
        "SELECT a.id, a.title, a.slug, a.published_at, a.source_id, a.group_id, src.name, "  # noqa: S608
        "CASE WHEN strpos(w.headline, %(mark)s) > 0 THEN w.headline "
        f"WHEN {in_body} IS NOT FALSE THEN {headline.replace('TEXT', 'b.body')} "
        f"ELSE {headline.replace('TEXT', _passage_sql('1'))} END, "
        f"{_OTHER_REPORTS} "
        "FROM articles_article a JOIN articles_source src ON src.id = a.source_id "
        # OFFSET 0 in each: its expression is computed once, not once per mention (the
        # body read from its TOAST chunks once, the first match looked for once).
        "CROSS JOIN LATERAL (SELECT a.body_text || '' AS body OFFSET 0) b "
        "CROSS JOIN LATERAL (SELECT CASE WHEN %(pattern)s = '' THEN 0 ELSE "
        "regexp_instr(b.body, %(pattern)s, 1, 1, 0, 'i') END AS at OFFSET 0) f "
        "CROSS JOIN LATERAL (SELECT CASE WHEN f.at > 0 THEN "
        f"{headline.replace('TEXT', passage)} END AS headline OFFSET 0) w "
        "WHERE a.id = ANY(%(ids)s)"
    )
    params = {
        "q": websearch,
        "options": headline_options,
        "mark": mark,
        "pattern": pattern,
        "any": _any_of(terms),
        "ids": ids,
    }
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall()
