"""SQLite search through FTS5: the index follows every write, bm25 order, FTS5 syntax is inert."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from articles.models import Article
from digest.site import search_sqlite
from digest.site.search import SearchFilters, search_page
from tests.factories import ArticleFactory

pytestmark = pytest.mark.django_db

sqlite_only = pytest.mark.skipif(
    connection.vendor != "sqlite", reason="FTS5 is SQLite's; PostgreSQL has its own tests"
)


def titles(**filters) -> list[str]:
    return [article.title for article in search_page(filters=SearchFilters(**filters))]


@sqlite_only
def test_fts5_is_used_and_ranked_with_bm25():
    assert search_sqlite.fts_available()
    ArticleFactory(title="Weekly notes", body_text="one mention of spectrum here")
    ArticleFactory(title="Spectrum auction", body_text="spectrum, spectrum and spectrum")
    with CaptureQueriesContext(connection) as captured:
        found = titles(query="spectrum")
    assert found == ["Spectrum auction", "Weekly notes"]
    sql = " ".join(entry["sql"] for entry in captured.captured_queries)
    assert "articles_article_fts MATCH" in sql and "bm25(" in sql
    assert "LIKE" not in sql


@sqlite_only
def test_index_follows_inserts_updates_and_deletes():
    article = ArticleFactory(title="Satellite launch", body_text="orbit")
    assert titles(query="orbit") == ["Satellite launch"]
    article.body_text = "a new body about telescopes"
    article.save()
    assert titles(query="orbit") == []
    assert titles(query="telescopes") == ["Satellite launch"]
    Article.objects.filter(pk=article.pk).update(title="Renamed launch")
    assert titles(query="renamed") == ["Renamed launch"]
    article.delete()
    assert titles(query="telescopes") == []


@sqlite_only
def test_fts5_operators_typed_by_a_reader_are_plain_words():
    ArticleFactory(title="Near future", body_text="title: the NEAR term view on chips")
    for query in ("title:near", "NEAR(term chips)", "chip*", "body_text:chips", '"near'):
        response = search_page(filters=SearchFilters(query=query))
        assert response.paginator.count in (0, 1)
    assert titles(query="chip*") == ["Near future"]  # the star is dropped by the tokenizer


@sqlite_only
def test_fts5_snippet_is_escaped_and_marked(client):
    ArticleFactory(title="Story", body_text="<b>bold</b> claims & the tariff <script>x</script>")
    page = client.get("/search/", {"q": "tariff"}).content.decode()
    assert "<mark>tariff</mark>" in page
    assert "&lt;b&gt;bold&lt;/b&gt; claims &amp; the" in page
    assert "<script>x" not in page


@sqlite_only
def test_newest_order_and_dates_with_fts5():
    now = timezone.now()
    ArticleFactory(title="Old tariff", published_at=now - timedelta(days=10))
    ArticleFactory(title="Tariff tariff new", published_at=now - timedelta(hours=1))
    ArticleFactory(title="Mid tariff", published_at=now - timedelta(days=3))
    assert titles(query="tariff", sort="newest") == [
        "Tariff tariff new",
        "Mid tariff",
        "Old tariff",
    ]
    recent = titles(query="tariff", date_from=(now - timedelta(days=5)).date())
    assert set(recent) == {"Tariff tariff new", "Mid tariff"}
