"""Search: ranked full-text search on PostgreSQL, the substring fallback, and hostile input."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from django.db import connection
from django.utils import timezone

from articles.models import Article
from digest.site.search import (
    MAX_QUERY_LENGTH,
    SearchFilters,
    clean_query,
    fallback_snippet,
    full_text_matches,
    full_text_query,
    highlight_snippet,
    search_page,
)
from tests.factories import ArticleFactory, TopicFactory

pytestmark = pytest.mark.django_db

# Topics, then on PostgreSQL: planner setting, ranked newest matches, the page's rows
# (plus a savepoint pair inside the test's transaction).
SEARCH_QUERIES = 6


def titles(filters: SearchFilters) -> list[str]:
    return [article.title for article in search_page(filters=filters, per_page=100)]


@pytest.fixture
def stories():
    ai = TopicFactory(name="AI", slug="ai")
    trade = TopicFactory(name="Trade", slug="trade")
    now = timezone.now()
    return {
        "ai": ai,
        "trade": trade,
        "title_hit": ArticleFactory(
            title="Parliament adopts the AI regulation",
            body_text="Members voted on Tuesday.",
            topics=[ai],
            published_at=now - timedelta(days=1),
        ),
        "body_hit": ArticleFactory(
            title="A busy week in Brussels",
            body_text="Among other things, the regulation on chips was discussed at length.",
            topics=[trade],
            published_at=now - timedelta(hours=3),
        ),
        "old_hit": ArticleFactory(
            title="Regulation of platforms, a history",
            body_text="Looking back.",
            topics=[trade],
            published_at=now - timedelta(days=400),
        ),
        "cyrillic": ArticleFactory(
            title="Новое регулирование платформ",
            body_text="Текст статьи о регулирование.",
            published_at=now - timedelta(days=2),
        ),
        "miss": ArticleFactory(title="Semiconductor tariffs", body_text="Nothing to see."),
    }


# ---------------------------------------------------------------- cleaning


def test_clean_query_caps_length_and_words():
    assert len(clean_query("word " * 5000)) <= MAX_QUERY_LENGTH
    assert clean_query("a\x00b\tc\u200bd  e") == "a b c d e"
    assert clean_query(None) == ""
    assert clean_query("x" * 10_000) == "x" * MAX_QUERY_LENGTH


def test_highlight_snippet_escapes_everything_but_marks():
    raw = "<img src=x onerror=alert(1)> the \ue000rule\ue001 & <b>"
    html = highlight_snippet(raw)
    assert "<img" not in html
    assert "&lt;img src=x onerror=alert(1)&gt;" in html
    assert "<mark>rule</mark>" in html
    assert "&amp; &lt;b&gt;" in html


def test_highlight_snippet_never_leaves_unbalanced_marks():
    html = highlight_snippet("\ue000open only and \ue001 close only \ue000")
    assert html.count("<mark>") == html.count("</mark>")


def test_fallback_snippet_marks_words_in_a_window():
    text = "Intro. " * 50 + "The <AI> regulation was adopted. " + "Outro. " * 50
    html = fallback_snippet(text=text, query="regulation")
    assert "<mark>regulation</mark>" in html
    assert "&lt;AI&gt;" in html
    assert html.startswith("… ") and html.endswith(" …")


# ------------------------------------------------------- both databases


def test_search_finds_title_and_body_matches(stories):
    found = titles(SearchFilters(query="regulation"))
    assert stories["title_hit"].title in found
    assert stories["body_hit"].title in found
    assert stories["miss"].title not in found


def test_search_filters_by_topic_and_dates(stories):
    by_topic = titles(SearchFilters(query="regulation", topic=stories["trade"]))
    assert set(by_topic) == {stories["body_hit"].title, stories["old_hit"].title}
    recent = titles(
        SearchFilters(query="regulation", date_from=timezone.localdate() - timedelta(days=30))
    )
    assert stories["old_hit"].title not in recent
    old = titles(SearchFilters(query="regulation", date_to=date.today() - timedelta(days=300)))
    assert old == [stories["old_hit"].title]


def test_search_finds_non_latin_words(stories):
    assert stories["cyrillic"].title in titles(SearchFilters(query="регулирование"))


def test_search_ignores_unpublished_articles(stories):
    ArticleFactory(title="Future regulation", published_at=timezone.now() + timedelta(days=1))
    assert "Future regulation" not in titles(SearchFilters(query="regulation"))


def test_punctuation_only_query_matches_nothing(stories):
    assert titles(SearchFilters(query="!!! ??? ... ---")) == []


def test_fallback_search_works_without_full_text(stories, monkeypatch):
    monkeypatch.setattr("digest.site.search.uses_full_text_search", lambda: False)
    found = titles(SearchFilters(query="Regulation chips"))
    assert found == [stories["body_hit"].title]


@pytest.mark.parametrize(
    "query",
    [
        "",
        "x" * 10_000,
        "regulation " * 1000,
        "!!!",
        "\"'`;:{}[]()<>",
        "'; DROP TABLE articles_article; --",
        "1 OR 1=1",
        "regulation) | (!chips",
        "人工智能 監管",
        "регулирование",
        "الذكاء الاصطناعي",
        "\x00\x01",
        "-",
        '"unterminated phrase',
    ],
)
def test_search_page_answers_any_query(client, stories, query):
    before = Article.objects.count()
    response = client.get("/search/", {"q": query})
    assert response.status_code == 200
    assert Article.objects.count() == before


def test_long_query_is_cut_and_reader_is_told(client, stories):
    page = client.get("/search/", {"q": "regulation " + "x" * 10_000}).content.decode()
    assert "only its first words were used" in page


def test_reflected_query_cannot_inject_markup(client, stories):
    attack = '"><script>alert(1)</script><img src=x onerror=alert(2)>'
    page = client.get("/search/", {"q": attack, "topic": attack, "from": attack}).content.decode()
    assert "<script>alert(1)" not in page
    assert "<img src=x" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page


def test_bad_dates_are_ignored_with_a_note(client, stories):
    response = client.get(
        "/search/", {"q": "regulation", "from": "not-a-date", "to": "2025-13-45"}
    )
    assert response.status_code == 200
    assert "was not in the form YYYY-MM-DD" in response.content.decode()


def test_snippet_from_article_text_is_escaped(client):
    ArticleFactory(
        title="Chip story",
        body_text='The <script>alert("s")</script> export regulation for chips.',
    )
    page = client.get("/search/", {"q": "regulation"}).content.decode()
    assert '<script>alert("s")' not in page
    assert "<mark>regulation</mark>" in page


def test_fallback_snippet_from_article_text_is_escaped(client, monkeypatch):
    monkeypatch.setattr("digest.site.search.uses_full_text_search", lambda: False)
    ArticleFactory(title="Chip story", body_text='The <script>alert("s")</script> regulation.')
    page = client.get("/search/", {"q": "regulation"}).content.decode()
    assert '<script>alert("s")' not in page
    assert "&lt;script&gt;alert(&quot;s&quot;)&lt;/script&gt;" in page
    assert "<mark>regulation</mark>" in page


def test_search_page_numbers_out_of_range_answer(client):
    for index in range(25):
        ArticleFactory(title=f"Regulation {index}")
    for page_number in ("2", "99", "zero", ""):
        response = client.get("/search/", {"q": "regulation", "page": page_number})
        assert response.status_code == 200
    assert (
        "Page 2 of 2" in client.get("/search/", {"q": "regulation", "page": "99"}).content.decode()
    )


def test_search_page_query_count_is_fixed(client, django_assert_max_num_queries):
    for index in range(60):
        ArticleFactory(title=f"Regulation {index}", topics=[TopicFactory()])
    with django_assert_max_num_queries(SEARCH_QUERIES):
        response = client.get("/search/", {"q": "regulation", "page": "2"})
    assert response.status_code == 200


def test_empty_search_page_explains_itself(client, stories):
    page = client.get("/search/").content.decode()
    assert "Type some words" in page


# ---------------------------------------------------------- PostgreSQL only


@pytest.mark.postgres
def test_title_match_ranks_above_body_match(stories):
    found = titles(SearchFilters(query="regulation"))
    assert found.index(stories["title_hit"].title) < found.index(stories["body_hit"].title)


@pytest.mark.postgres
def test_search_matches_word_forms(stories):
    assert stories["title_hit"].title in titles(SearchFilters(query="regulations"))


@pytest.mark.postgres
def test_websearch_syntax_excludes_and_quotes(stories):
    found = titles(SearchFilters(query="regulation -chips"))
    assert stories["body_hit"].title not in found
    assert stories["title_hit"].title in found
    assert titles(SearchFilters(query='"AI regulation"')) == [stories["title_hit"].title]


@pytest.mark.postgres
def test_search_vector_follows_title_changes(stories):
    article = stories["miss"]
    article.title = "Quantum computing export controls"
    article.save()
    assert titles(SearchFilters(query="quantum")) == [article.title]


@pytest.mark.postgres
def test_postgres_snippet_highlights_matches(client, stories):
    page = client.get("/search/", {"q": "chips"}).content.decode()
    assert "<mark>chips</mark>" in page


@pytest.mark.postgres
def test_full_text_search_uses_gin_index(stories):
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT indexdef FROM pg_indexes WHERE indexname = %s",
            ["articles_article_search_vector_gin"],
        )
        (definition,) = cursor.fetchone()
        assert "USING gin (search_vector)" in definition
        # Statistics as autovacuum may leave them mid-suite; with them, an ordered query
        # may walk the published_at index instead, so the plan is asked for the match alone.
        cursor.execute("ANALYZE articles_article")
        cursor.execute("SET LOCAL enable_seqscan = off")
        matches = full_text_matches(Article.objects.all(), full_text_query("regulation"))
        plan = matches.order_by().only("pk").explain()
    assert "articles_article_search_vector_gin" in plan


@pytest.mark.postgres
def test_only_the_newest_matches_are_ranked_and_reader_is_told(client, monkeypatch):
    monkeypatch.setattr("digest.site.search.MAX_RANKED_MATCHES", 3)
    now = timezone.now()
    for days in range(5):
        ArticleFactory(title=f"Tariff story {days}", published_at=now - timedelta(days=days))
    found = titles(SearchFilters(query="tariff"))
    assert sorted(found) == ["Tariff story 0", "Tariff story 1", "Tariff story 2"]
    page = client.get("/search/", {"q": "tariff"}).content.decode()
    assert "3+ results" in page
    assert "best of the 3 most recent" in page


@pytest.mark.postgres
def test_rare_phrase_is_found_among_many_common_words():
    for index in range(30):
        ArticleFactory(title=f"Data story {index}", body_text="transfer rules and data")
    ArticleFactory(title="The one", body_text="rules on data transfer to third countries")
    assert titles(SearchFilters(query='"data transfer"')) == ["The one"]


def test_searches_are_rate_limited_per_address(client, settings):
    settings.READER_SEARCH_PER_MINUTE = 3
    for _ in range(3):
        assert client.get("/search/", {"q": "regulation"}).status_code == 200
    response = client.get("/search/", {"q": "regulation"})
    assert response.status_code == 429
    assert response["Retry-After"] == "60"
    assert "try again in a minute" in response.content.decode()
    other = client.get("/search/", {"q": "regulation"}, REMOTE_ADDR="192.0.2.7")
    assert other.status_code == 200


def test_search_column_exists_only_on_postgresql():
    with connection.cursor() as cursor:
        columns = [
            column.name
            for column in connection.introspection.get_table_description(
                cursor, Article._meta.db_table
            )
        ]
    assert ("search_vector" in columns) == (connection.vendor == "postgresql")
