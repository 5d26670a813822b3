"""The database's search index DDL: created per vendor, FTS5 missing handled, triggers restored."""

from __future__ import annotations

import pytest
from django.db import OperationalError, connection

from articles import search_index
from articles.models import Article
from tests.factories import ArticleFactory

pytestmark = pytest.mark.django_db

sqlite_only = pytest.mark.skipif(connection.vendor != "sqlite", reason="SQLite FTS5 only")


def fts_rowids(word: str) -> list[int]:
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT rowid FROM {search_index.FTS_TABLE} WHERE {search_index.FTS_TABLE} MATCH %s",
            [f'"{word}"'],
        )
        return [row[0] for row in cursor.fetchall()]


class _NoFts5Cursor:
    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False

    def execute(self, sql, params=None):
        raise OperationalError("no such module: fts5")


class _NoFts5Connection:
    vendor = "sqlite"

    def cursor(self):
        return _NoFts5Cursor()


def test_a_sqlite_without_fts5_is_left_as_it_was():
    assert search_index.create_sqlite_index(_NoFts5Connection()) is False


@sqlite_only
@pytest.mark.django_db(transaction=True)
def test_triggers_come_back_after_a_table_rebuild():
    article = ArticleFactory(title="Before", body_text="lighthouse")
    with connection.schema_editor() as editor:
        editor._remake_table(Article)  # what AlterField does on SQLite: triggers are dropped
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM sqlite_master WHERE type = 'trigger'")
        assert cursor.fetchone()[0] == 0
    search_index.ensure_sqlite_triggers(connection)
    assert fts_rowids("lighthouse") == [article.pk]
    later = ArticleFactory(title="After", body_text="lighthouse keeper")
    assert sorted(fts_rowids("lighthouse")) == sorted([article.pk, later.pk])


def test_vendor_has_its_index():
    with connection.cursor() as cursor:
        tables = connection.introspection.table_names(cursor)
    if connection.vendor == "postgresql":
        assert "articles_articlesearch" in tables
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT indexdef FROM pg_indexes WHERE indexname = 'articlesearch_date_vector_gin'"
            )
            definition = cursor.fetchone()[0]
        assert "USING gin (published_at, source_id, topic_ids, vector)" in definition
    else:
        assert search_index.FTS_TABLE in tables
