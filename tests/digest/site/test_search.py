"""Search: the same semantics on PostgreSQL and SQLite FTS5, the plain fallback, hostile input."""

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
    highlight_snippet,
    search_page,
)
from tests.factories import ArticleFactory, TopicFactory

pytestmark = pytest.mark.django_db

# Topics and sources (once per page version), then on PostgreSQL: the archive's span,
# newest matches in a window and (when the table's statistics say the archive is large)
# in the whole range, ranked in the same query, the page's rows with snippets and the
# other outlets of their stories; on SQLite: FTS5 table lookup, count of stories, the
# page's story ids, their rows with snippets, then the other outlets of the page's stories.
SEARCH_QUERIES = 7


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


def without_full_text(monkeypatch):
    monkeypatch.setattr("digest.site.search.search_mode", lambda: "plain")


def test_fallback_search_works_without_full_text(stories, monkeypatch):
    without_full_text(monkeypatch)
    found = titles(SearchFilters(query="Regulation chips"))
    assert found == [stories["body_hit"].title]
    assert stories["body_hit"].title not in titles(SearchFilters(query="regulation -chips"))
    either = titles(SearchFilters(query="chips or Members"))
    assert set(either) == {stories["body_hit"].title, stories["title_hit"].title}


def test_fallback_is_announced_to_the_reader(client, stories, monkeypatch):
    without_full_text(monkeypatch)
    page = client.get("/search/", {"q": "regulation"}).content.decode()
    assert "Full-text search is not available" in page
    assert "<mark>regulation</mark>" in page or "<mark>Regulation</mark>" in page


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
    without_full_text(monkeypatch)
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


def test_search_filters_keep_the_chosen_topic_and_source(client, stories):
    source = stories["body_hit"].source
    page = client.get(
        "/search/", {"q": "regulation", "topic": "trade", "source": str(source.pk)}
    ).content.decode()
    assert '<option value="trade" selected>Trade</option>' in page
    assert '<option value="ai">AI</option>' in page
    assert f'<option value="{source.pk}" selected>{source.name}</option>' in page
    # Both filters reached the search: only the trade story from that source is listed.
    assert "A busy week in Brussels" in page
    assert "Parliament adopts the AI regulation" not in page
    # Same topic, another outlet (each factory article has its own source).
    assert "Regulation of platforms, a history" not in page


def test_filter_options_and_result_links_are_escaped_and_exact(client):
    TopicFactory(name='R&D <"labs">', slug="r-d-labs")
    article = ArticleFactory(title="Regulation story", source__name="Tom & Jerry's")
    page = client.get("/search/", {"q": "regulation"}).content.decode()
    assert '<option value="r-d-labs">R&amp;D &lt;&quot;labs&quot;&gt;</option>' in page
    assert f'<option value="{article.source.pk}">Tom &amp; Jerry&#x27;s</option>' in page
    assert f'href="{article.get_absolute_url()}"' in page


def test_empty_search_page_explains_itself(client, stories):
    page = client.get("/search/").content.decode()
    assert "Type some words" in page


# ------------------------------------ full-text semantics, PostgreSQL and SQLite FTS5


def test_title_match_ranks_above_body_match(stories):
    found = titles(SearchFilters(query="regulation"))
    assert found.index(stories["title_hit"].title) < found.index(stories["body_hit"].title)


def test_more_matches_rank_above_fewer_and_newest_sort_ignores_rank():
    now = timezone.now()
    once = ArticleFactory(
        title="Week in review",
        body_text="A note on tariffs among many other things discussed this week.",
        published_at=now - timedelta(hours=1),
    )
    often = ArticleFactory(
        title="Tariffs, tariffs and more tariffs",
        body_text="Tariffs on chips; tariffs on steel.",
        published_at=now - timedelta(days=3),
    )
    assert titles(SearchFilters(query="tariffs")) == [often.title, once.title]
    newest = titles(SearchFilters(query="tariffs", sort="newest"))
    assert newest == [once.title, often.title]


def test_search_matches_word_forms(stories):
    assert stories["title_hit"].title in titles(SearchFilters(query="regulations"))


def test_negation_leaves_matches_out(stories):
    found = titles(SearchFilters(query="regulation -chips"))
    assert stories["body_hit"].title not in found
    assert stories["title_hit"].title in found
    assert stories["old_hit"].title in found
    assert stories["body_hit"].title not in titles(SearchFilters(query='regulation -"on chips"'))


def test_only_exclusions_match_nothing(stories):
    assert titles(SearchFilters(query="-chips")) == []


def test_phrase_needs_words_in_order(stories):
    assert titles(SearchFilters(query='"AI regulation"')) == [stories["title_hit"].title]
    assert titles(SearchFilters(query='"regulation AI"')) == []
    unordered = titles(SearchFilters(query="regulation AI"))
    assert unordered == [stories["title_hit"].title]


def test_or_finds_either(stories):
    found = titles(SearchFilters(query="Members or chips"))
    assert set(found) == {stories["title_hit"].title, stories["body_hit"].title}


def test_search_follows_title_changes_and_deletes(stories):
    article = stories["miss"]
    article.title = "Quantum computing export controls"
    article.save()
    assert titles(SearchFilters(query="quantum")) == [article.title]
    article.delete()
    assert titles(SearchFilters(query="quantum")) == []


def test_snippet_highlights_matches(client, stories):
    page = client.get("/search/", {"q": "chips"}).content.decode()
    assert "<mark>chips</mark>" in page


def test_rare_phrase_is_found_among_many_common_words():
    for index in range(30):
        ArticleFactory(title=f"Data story {index}", body_text="transfer rules and data")
    ArticleFactory(title="The one", body_text="rules on data transfer to third countries")
    assert titles(SearchFilters(query='"data transfer"')) == ["The one"]


def test_search_filters_by_source(stories):
    source = stories["body_hit"].source
    assert titles(SearchFilters(query="regulation", source=source)) == [stories["body_hit"].title]


def test_results_page_counts_filters_and_sorts(client, stories):
    page = client.get("/search/", {"q": "regulation"}).content.decode()
    assert "3 results for" in page
    assert 'name="source"' in page and 'name="sort"' in page
    newest = client.get("/search/", {"q": "regulation", "sort": "newest"}).content.decode()
    assert newest.index(stories["body_hit"].title) < newest.index(stories["title_hit"].title)


def test_every_result_page_is_reachable_with_no_cap(client):
    for index in range(45):
        ArticleFactory(title=f"Spectrum auction {index}")
    page = client.get("/search/", {"q": "spectrum", "page": "3"}).content.decode()
    assert "45 results" in page
    assert "Page 3 of 3" in page
    assert page.count('class="search-result"') == 5


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


def test_search_mode_names_the_backend():
    expected = "postgresql" if connection.vendor == "postgresql" else "fts5"
    assert search_page(filters=SearchFilters(query="anything")).search_mode == expected
