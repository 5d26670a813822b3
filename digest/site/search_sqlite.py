"""SQLite search (the embedded default): the FTS5 index, ranked with bm25, snippets by FTS5.

``articles_article_fts`` (``articles/search_index.py``) indexes each article's title and
text with the porter stemmer. The reader's query arrives as an FTS5 expression built by
``search_query.to_fts5`` (every word quoted, so nothing a reader types is FTS5 syntax).
bm25 weighs a title match ten times a body match; snippets mark matches with the same
private-use characters as PostgreSQL's, so they are escaped and highlighted the same way.
"""

from __future__ import annotations

from django.db import connection
from django.db.models import Count, F, QuerySet
from django.db.models.functions import Coalesce

from articles.models import Article
from articles.search_index import FTS_TABLE, sqlite_fts_table_exists

TITLE_WEIGHT = 10.0
BODY_WEIGHT = 1.0
SNIPPET_TOKENS = 32


def fts_available() -> bool:
    """Whether this database can search with FTS5 (SQLite built with it, table present)."""
    # One lookup in sqlite_master, cheaper than remembering it across test databases.
    return connection.vendor == "sqlite" and sqlite_fts_table_exists(connection)


def _matching(articles: QuerySet[Article], expression: str) -> QuerySet[Article]:
    # The FTS table joins on rowid = id; MATCH must name the table itself.
    return articles.extra(  # noqa: S610 - constant SQL, the expression is a parameter
        tables=[FTS_TABLE],
        where=[f"{FTS_TABLE}.rowid = articles_article.id", f"{FTS_TABLE} MATCH %s"],
        params=[expression],
    )


def count(articles: QuerySet[Article], expression: str) -> int:
    """How many stories among ``articles`` match (exact: FTS5 answers from its index):
    a story group counts once, each ungrouped article once."""
    story = Coalesce(F("group_id"), F("id") * -1)
    matching = _matching(articles, expression).order_by()
    return matching.aggregate(stories=Count(story, distinct=True))["stories"]


def page_ids(
    articles: QuerySet[Article], expression: str, *, sort: str, offset: int, limit: int
) -> list[int]:
    """One page of matching stories in the order shown: each story group by its best
    match (best ranked, or newest), at that match's place. One pass over the matches."""
    inner, params = articles.order_by().values("id").query.sql_with_params()
    # bm25() works only in the query that does the MATCH, not inside a window: the
    # matches are materialised with their rank first, then each story's best one kept.
    ranking = sort == "relevance"
    order = "h.published_at DESC, h.id DESC"
    order = f"h.fts_rank, {order}" if ranking else order
    sql = (
        "WITH hits AS MATERIALIZED ("  # noqa: S608 - constant names; values are parameters
        f"SELECT a.id, a.published_at, a.group_id, bm25({FTS_TABLE}, %s, %s) AS fts_rank "
        f"FROM articles_article a JOIN {FTS_TABLE} ON {FTS_TABLE}.rowid = a.id "
        f"WHERE {FTS_TABLE} MATCH %s AND a.id IN ({inner})) "
        "SELECT m.id FROM (SELECT h.id, h.published_at, h.fts_rank, row_number() OVER ("
        f"PARTITION BY coalesce(h.group_id, -h.id) ORDER BY {order}) AS story_place "
        f"FROM hits h) m WHERE m.story_place = 1 ORDER BY {order.replace('h.', 'm.')} "
        "LIMIT %s OFFSET %s"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [TITLE_WEIGHT, BODY_WEIGHT, expression, *params, limit, offset])
        return [row[0] for row in cursor.fetchall()]


def page_rows(
    articles: QuerySet[Article],
    expression: str,
    *,
    sort: str,
    offset: int,
    limit: int,
    mark_start: str,
    mark_stop: str,
) -> list[Article]:
    """One page of matching articles in the order shown, each with ``search_snippet_raw``."""
    ordering = (
        ["fts_rank", "-published_at", "-id"] if sort == "relevance" else ["-published_at", "-id"]
    )
    rows = _matching(articles.defer("body_text"), expression).extra(  # noqa: S610 - constants
        select={
            "fts_rank": f"bm25({FTS_TABLE}, %s, %s)",
            "search_snippet_raw": f"snippet({FTS_TABLE}, 1, %s, %s, ' … ', %s)",
        },
        select_params=[TITLE_WEIGHT, BODY_WEIGHT, mark_start, mark_stop, SNIPPET_TOKENS],
    )
    return list(rows.order_by(*ordering)[offset : offset + limit])
