"""The database's own search index of articles: DDL for PostgreSQL and for SQLite FTS5.

PostgreSQL: ``articles_articlesearch`` (the ``ArticleSearch`` model) holds one narrow row
per article (id, published_at, source_id, a weighted tsvector: title A, body B), written
only by triggers on ``articles_article``, and its topics (``topic_ids``, by a trigger on
``articles_articletopic``), with one GIN index over (published_at, source_id, topic_ids,
vector) (migration ``0010``), and its story (``story``: the story group, else minus the
article's id; migration ``0013``), so candidate selection never reads article bodies.

SQLite: ``articles_article_fts``, an FTS5 table over the article's title and text (external
content: it stores only the index), stemmed by the porter tokenizer, kept in sync by
triggers. Where SQLite was built without FTS5 the table is not created and search falls
back to substring matching (``digest/site/search.py`` says so to the reader).

Migration ``0008`` creates both; ``ensure_sqlite_triggers`` runs after every ``migrate``
because SQLite drops a table's triggers when Django rebuilds the table to alter it.
Change these statements only together with a new migration.
"""

# ruff: noqa: S608 - constant DDL: every name in it is a constant of this module

from __future__ import annotations

from django.db import OperationalError
from django.db.backends.base.base import BaseDatabaseWrapper

SEARCH_CONFIG = "english"
FTS_TABLE = "articles_article_fts"
# to_tsvector refuses documents whose vector passes 1 MB; a body's first 200,000
# characters are plenty to find it by.
MAX_INDEXED_BODY = 200_000

POSTGRES_VECTOR = (
    f"setweight(to_tsvector('{SEARCH_CONFIG}'::regconfig, coalesce(NEW.title, '')), 'A') || "
    f"setweight(to_tsvector('{SEARCH_CONFIG}'::regconfig, "
    f"left(coalesce(NEW.body_text, ''), {MAX_INDEXED_BODY})), 'B')"
)

POSTGRES_GIN_INDEX = (
    # fastupdate off: no pending list for every search to scan after a burst of inserts.
    "CREATE INDEX IF NOT EXISTS articlesearch_vector_gin ON articles_articlesearch "
    "USING GIN (vector) WITH (fastupdate = off)"
)
# One GIN over the date and source (btree_gin), the topics and the vector: "these words,
# published since then, in this topic" is a single index scan that intersects them all
# inside the index, so the planner has no plan that tests row by row (vectors read one by
# one, a cost it does not see) or walks a topic's every article.
POSTGRES_DATE_VECTOR_INDEX = (
    "CREATE INDEX IF NOT EXISTS articlesearch_date_vector_gin ON articles_articlesearch "
    "USING GIN (published_at, source_id, topic_ids, vector) WITH (fastupdate = off)"
)
_TOPIC_IDS_OF = (
    "(SELECT coalesce(array_agg(t.topic_id ORDER BY t.topic_id), '{}') "
    "FROM articles_articletopic t WHERE t.article_id = ARTICLE)"
)
# Every article's topic_ids from its topic rows in one statement (the migration, and bulk
# loads that switch the per-row trigger off).
POSTGRES_TOPIC_IDS_BACKFILL = f"""
    UPDATE articles_articlesearch s
       SET topic_ids = {_TOPIC_IDS_OF.replace("ARTICLE", "s.article_id")}
     WHERE EXISTS (SELECT 1 FROM articles_articletopic t WHERE t.article_id = s.article_id)
    """
POSTGRES_DATE_VECTOR_FORWARD = [
    "CREATE EXTENSION IF NOT EXISTS btree_gin",  # trusted: a database owner may create it
    # Not a model field (like the vector's maintenance, PostgreSQL's business alone).
    "ALTER TABLE articles_articlesearch ADD COLUMN topic_ids bigint[] NOT NULL DEFAULT '{}'",
    f"""
    CREATE OR REPLACE FUNCTION articles_articlesearch_topics_sync() RETURNS trigger AS $$
    BEGIN
        IF TG_OP IN ('UPDATE', 'DELETE') THEN
            UPDATE articles_articlesearch
               SET topic_ids = {_TOPIC_IDS_OF.replace("ARTICLE", "OLD.article_id")}
             WHERE article_id = OLD.article_id;
        END IF;
        IF TG_OP IN ('INSERT', 'UPDATE') THEN
            UPDATE articles_articlesearch
               SET topic_ids = {_TOPIC_IDS_OF.replace("ARTICLE", "NEW.article_id")}
             WHERE article_id = NEW.article_id;
        END IF;
        RETURN NULL;
    END
    $$ LANGUAGE plpgsql
    """,
    """
    CREATE TRIGGER articles_articlesearch_topics AFTER INSERT OR UPDATE OR DELETE
    ON articles_articletopic FOR EACH ROW EXECUTE FUNCTION articles_articlesearch_topics_sync()
    """,
    POSTGRES_TOPIC_IDS_BACKFILL,
    POSTGRES_DATE_VECTOR_INDEX,
    "DROP INDEX IF EXISTS articlesearch_vector_gin",
]
POSTGRES_DATE_VECTOR_BACKWARD = [
    POSTGRES_GIN_INDEX,
    "DROP INDEX IF EXISTS articlesearch_date_vector_gin",
    "DROP TRIGGER IF EXISTS articles_articlesearch_topics ON articles_articletopic",
    "DROP FUNCTION IF EXISTS articles_articlesearch_topics_sync()",
    "ALTER TABLE articles_articlesearch DROP COLUMN IF EXISTS topic_ids",
]

# A search row's story: its story group, else minus its own id (migration 0013).
_STORY_OF_NEW = "coalesce(NEW.group_id, -NEW.id)"


def _sync_function(*, with_story: bool) -> str:
    """The search row's trigger function: migration 0008's, or with the row's story
    (migration 0013)."""
    story_set = f", story = {_STORY_OF_NEW}" if with_story else ""
    story_column = ", story" if with_story else ""
    story_value = f", {_STORY_OF_NEW}" if with_story else ""
    story_update = "story = EXCLUDED.story, " if with_story else ""
    return f"""
    CREATE OR REPLACE FUNCTION articles_articlesearch_sync() RETURNS trigger AS $$
    BEGIN
        IF TG_OP = 'DELETE' THEN
            DELETE FROM articles_articlesearch WHERE article_id = OLD.id;
            RETURN OLD;
        END IF;
        IF TG_OP = 'UPDATE' AND NEW.title IS NOT DISTINCT FROM OLD.title
                AND NEW.body_text IS NOT DISTINCT FROM OLD.body_text THEN
            UPDATE articles_articlesearch
               SET published_at = NEW.published_at, source_id = NEW.source_id{story_set}
             WHERE article_id = NEW.id;
            RETURN NEW;
        END IF;
        INSERT INTO articles_articlesearch
               (article_id, published_at, source_id{story_column}, vector)
        VALUES (NEW.id, NEW.published_at, NEW.source_id{story_value}, {POSTGRES_VECTOR})
        ON CONFLICT (article_id) DO UPDATE
           SET published_at = EXCLUDED.published_at,
               source_id = EXCLUDED.source_id,
               {story_update}vector = EXCLUDED.vector;
        RETURN NEW;
    END
    $$ LANGUAGE plpgsql
    """


POSTGRES_FORWARD = [
    # The wide table's own vector (migration 0002) gives way to the narrow table.
    "DROP INDEX IF EXISTS articles_article_search_vector_gin",
    "DROP TRIGGER IF EXISTS articles_article_search_vector_trigger ON articles_article",
    "DROP FUNCTION IF EXISTS articles_article_search_vector_update()",
    "ALTER TABLE articles_article DROP COLUMN IF EXISTS search_vector",
    # Vectors stay in the row (they barely compress): ranking and rechecking a phrase or
    # an exclusion read one heap page a candidate instead of a TOAST lookup and chunks.
    "ALTER TABLE articles_articlesearch ALTER COLUMN vector SET STORAGE MAIN",
    _sync_function(with_story=False),
    """
    CREATE TRIGGER articles_articlesearch_insert AFTER INSERT ON articles_article
    FOR EACH ROW EXECUTE FUNCTION articles_articlesearch_sync()
    """,
    """
    CREATE TRIGGER articles_articlesearch_update
    AFTER UPDATE OF title, body_text, published_at, source_id ON articles_article
    FOR EACH ROW WHEN (
        OLD.title IS DISTINCT FROM NEW.title OR OLD.body_text IS DISTINCT FROM NEW.body_text
        OR OLD.published_at IS DISTINCT FROM NEW.published_at
        OR OLD.source_id IS DISTINCT FROM NEW.source_id
    )
    EXECUTE FUNCTION articles_articlesearch_sync()
    """,
    """
    CREATE TRIGGER articles_articlesearch_delete AFTER DELETE ON articles_article
    FOR EACH ROW EXECUTE FUNCTION articles_articlesearch_sync()
    """,
    # Existing articles, then the index (faster built once than row by row).
    f"""
    INSERT INTO articles_articlesearch (article_id, published_at, source_id, vector)
    SELECT NEW.id, NEW.published_at, NEW.source_id, {POSTGRES_VECTOR}
      FROM articles_article AS NEW
    """,
    POSTGRES_GIN_INDEX,
]

# Each row's story (migration 0013): the article's story group, or minus its own id when
# it has none, so search can fold the reports of one story without reading the wide
# table. The sync function gains the column; a group change only moves the story.
POSTGRES_STORY_FORWARD = [
    "ALTER TABLE articles_articlesearch ADD COLUMN story bigint",
    _sync_function(with_story=True),
    f"""
    CREATE OR REPLACE FUNCTION articles_articlesearch_story_sync() RETURNS trigger AS $$
    BEGIN
        UPDATE articles_articlesearch SET story = {_STORY_OF_NEW} WHERE article_id = NEW.id;
        RETURN NULL;
    END
    $$ LANGUAGE plpgsql
    """,
    """
    CREATE TRIGGER articles_articlesearch_story AFTER UPDATE OF group_id ON articles_article
    FOR EACH ROW WHEN (OLD.group_id IS DISTINCT FROM NEW.group_id)
    EXECUTE FUNCTION articles_articlesearch_story_sync()
    """,
    """
    UPDATE articles_articlesearch s SET story = coalesce(a.group_id, -a.id)
      FROM articles_article a WHERE a.id = s.article_id
    """,
]
POSTGRES_STORY_BACKWARD = [
    "DROP TRIGGER IF EXISTS articles_articlesearch_story ON articles_article",
    "DROP FUNCTION IF EXISTS articles_articlesearch_story_sync()",
    _sync_function(with_story=False),  # as migration 0008 made it
    "ALTER TABLE articles_articlesearch DROP COLUMN IF EXISTS story",
]

POSTGRES_BACKWARD = [
    "DROP TRIGGER IF EXISTS articles_articlesearch_insert ON articles_article",
    "DROP TRIGGER IF EXISTS articles_articlesearch_update ON articles_article",
    "DROP TRIGGER IF EXISTS articles_articlesearch_delete ON articles_article",
    "DROP FUNCTION IF EXISTS articles_articlesearch_sync()",
    "DROP INDEX IF EXISTS articlesearch_vector_gin",
]

SQLITE_TABLE = (
    f"CREATE VIRTUAL TABLE IF NOT EXISTS {FTS_TABLE} USING fts5("
    "title, body_text, content='articles_article', content_rowid='id', "
    "tokenize='porter unicode61 remove_diacritics 2')"
)

SQLITE_TRIGGERS = [
    f"""
    CREATE TRIGGER IF NOT EXISTS {FTS_TABLE}_insert AFTER INSERT ON articles_article BEGIN
        INSERT INTO {FTS_TABLE} (rowid, title, body_text)
        VALUES (new.id, new.title, new.body_text);
    END
    """,
    f"""
    CREATE TRIGGER IF NOT EXISTS {FTS_TABLE}_delete AFTER DELETE ON articles_article BEGIN
        INSERT INTO {FTS_TABLE} ({FTS_TABLE}, rowid, title, body_text)
        VALUES ('delete', old.id, old.title, old.body_text);
    END
    """,
    f"""
    CREATE TRIGGER IF NOT EXISTS {FTS_TABLE}_update
    AFTER UPDATE OF title, body_text ON articles_article BEGIN
        INSERT INTO {FTS_TABLE} ({FTS_TABLE}, rowid, title, body_text)
        VALUES ('delete', old.id, old.title, old.body_text);
        INSERT INTO {FTS_TABLE} (rowid, title, body_text)
        VALUES (new.id, new.title, new.body_text);
    END
    """,
]

SQLITE_BACKWARD = [
    f"DROP TRIGGER IF EXISTS {FTS_TABLE}_insert",
    f"DROP TRIGGER IF EXISTS {FTS_TABLE}_delete",
    f"DROP TRIGGER IF EXISTS {FTS_TABLE}_update",
    f"DROP TABLE IF EXISTS {FTS_TABLE}",
]


def on_postgres(statements: list[str]):
    """A ``RunPython`` function that executes ``statements`` on PostgreSQL and does nothing
    elsewhere (the migrations' PostgreSQL-only steps)."""

    def run(apps, schema_editor) -> None:
        if schema_editor.connection.vendor != "postgresql":
            return
        for statement in statements:
            schema_editor.execute(statement)

    return run


def sqlite_fts_table_exists(connection: BaseDatabaseWrapper) -> bool:
    """Whether this SQLite database has the FTS5 article index."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = %s", [FTS_TABLE]
        )
        return cursor.fetchone() is not None


def create_sqlite_index(connection: BaseDatabaseWrapper) -> bool:
    """Create the FTS5 table, its triggers and its contents; False where FTS5 is missing.

    A SQLite built without FTS5 refuses the table with "no such module: fts5"; the
    database is then left as it was and search falls back to substring matching.
    """
    with connection.cursor() as cursor:
        try:
            cursor.execute(SQLITE_TABLE)
        except OperationalError as error:
            if "fts5" in str(error).lower():
                return False
            raise
        for statement in SQLITE_TRIGGERS:
            cursor.execute(statement)
        cursor.execute(f"INSERT INTO {FTS_TABLE} ({FTS_TABLE}) VALUES ('rebuild')")
    return True


def ensure_sqlite_triggers(connection: BaseDatabaseWrapper) -> None:
    """Recreate the FTS5 triggers if a table rebuild dropped them (rows keep their ids)."""
    if connection.vendor != "sqlite" or not sqlite_fts_table_exists(connection):
        return
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM sqlite_master WHERE type = 'trigger' AND name LIKE %s",
            [f"{FTS_TABLE}_%"],
        )
        (present,) = cursor.fetchone()
        if present == len(SQLITE_TRIGGERS):
            return
        for statement in SQLITE_TRIGGERS:
            cursor.execute(statement)
        # Rows written while the triggers were missing are indexed again.
        cursor.execute(f"INSERT INTO {FTS_TABLE} ({FTS_TABLE}) VALUES ('rebuild')")
