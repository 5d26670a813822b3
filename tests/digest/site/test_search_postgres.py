"""PostgreSQL search: the narrow table's plans, the widening window, counts, bounded ranking."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from articles.models import Article, ArticleSearch
from digest.core.page_cache import invalidate_pages
from digest.site import search_postgres
from digest.site.search import SearchFilters, search_page
from tests.factories import ArticleFactory, SourceFactory, StoryGroupFactory, TopicFactory

pytestmark = [pytest.mark.django_db, pytest.mark.postgres]

ARCHIVE = 20_000
RARE_EVERY = 5_000  # "zebrafish" in 4 articles


def insert_archive(source, *, rows: int, rare_every: int, rare_word: str = "zebrafish"):
    """``rows`` articles, one an hour back from now: "government" in all, ``rare_word``
    in every ``rare_every``-th; the search table analysed."""
    with connection.cursor() as cursor:
        cursor.execute(
            """
            INSERT INTO articles_article (source_id, canonical_url, guid, title, slug, summary,
                body_html, body_text, image_url, author, published_at, fetched_at, language,
                extraction_status, extraction_error, created_at, updated_at)
            SELECT %s, 'https://example.org/' || i, '', 'Story ' || i, 'story-' || i, '', '',
                   'The government said ' || CASE WHEN i %% %s = 0 THEN %s || ' ' ELSE '' END
                   || 'on day ' || i, '', '', now() - i * interval '1 hour', now(), 'en',
                   'extracted', '', now(), now()
              FROM generate_series(1, %s) AS i
            """,
            [source.pk, rare_every, rare_word, rows],
        )
        cursor.execute("ANALYZE articles_articlesearch")


@pytest.fixture
def archive():
    """20,000 articles, one an hour back from now: "government" in all, "zebrafish" in 4."""
    source = SourceFactory()
    insert_archive(source, rows=ARCHIVE, rare_every=RARE_EVERY)
    yield source
    forget_statistics()


@pytest.fixture
def walrus_archive():
    """20,000 articles as in ``archive``, "walrus" in every 50th (400 in all)."""
    insert_archive(SourceFactory(), rows=ARCHIVE, rare_every=50, rare_word="walrus")
    yield
    forget_statistics()


def forget_statistics():
    # Statistics outlive the test's rollback (ANALYZE writes them in place): leave them
    # as for an empty table, or later tests' searches would size windows for 20,000 rows.
    with connection.cursor() as cursor:
        cursor.execute("DELETE FROM articles_articlesearch")
        cursor.execute("ANALYZE articles_articlesearch")


def plan_of(sql: str) -> dict:
    """The executed plan of ``sql`` (EXPLAIN ANALYZE, as JSON)."""
    with connection.cursor() as cursor:
        cursor.execute("EXPLAIN (ANALYZE, FORMAT JSON) " + sql)
        (document,) = cursor.fetchone()
    document = json.loads(document) if isinstance(document, str) else document
    return document[0]["Plan"]


def nodes(plan: dict):
    yield plan
    for child in plan.get("Plans", []):
        yield from nodes(child)


def candidate_queries(query: str, **filters) -> tuple[list[str], object]:
    """Run a search; return the candidate queries it sent (as executed) and the page."""
    with CaptureQueriesContext(connection) as captured:
        page = search_page(filters=SearchFilters(query=query, **filters), per_page=20)
    sent = [entry["sql"] for entry in captured.captured_queries if "OVER ()" in entry["sql"]]
    return sent, page


@pytest.mark.parametrize(("word", "matches"), [("zebrafish", 4), ("government", ARCHIVE)])
def test_plan_reads_neither_whole_table_nor_all_matches(archive, word, matches):
    sent, page = candidate_queries(word)
    assert sent, "no candidate query ran"
    for sql in sent:
        plan = plan_of(sql)
        kinds = {node["Node Type"] for node in nodes(plan)}
        assert "Seq Scan" not in kinds, json.dumps(plan)[:2000]
        # Folding by story reads the search row's own story: never the wide article table.
        read = {node.get("Relation Name") for node in nodes(plan)} - {None}
        assert read == {"articles_articlesearch"}, read
        for node in nodes(plan):
            if node["Node Type"] == "Sort":
                sorted_rows = sum(child["Actual Rows"] for child in node["Plans"])
                # Never more than the window holds: far fewer than the matches of a common word.
                assert sorted_rows <= max(matches if matches < 100 else 0, 10 * 400), sorted_rows
    if word == "government":
        # One window of a few thousand rows was enough; the count is extrapolated.
        assert len(sent) == 1
        assert page.count_is_exact is False
        assert abs(page.paginator.count - ARCHIVE) < ARCHIVE * 0.2
    else:
        assert page.count_is_exact is True
        assert page.paginator.count == matches


def test_rare_word_in_old_articles_is_found_by_widening(archive):
    ids, total, exact = search_postgres.ordered_ids(
        websearch="zebrafish", filters=SearchFilters(), sort="newest", depth=20
    )
    assert (total, exact) == (4, True)
    days = sorted(
        int(title.rsplit(" ", 1)[1])
        for title in Article.objects.filter(pk__in=ids).values_list("title", flat=True)
    )
    assert days == [5_000, 10_000, 15_000, 20_000]


def test_newest_sort_deep_page_is_exact_order(archive):
    page = search_page(
        filters=SearchFilters(query="government", sort="newest"), page_number=30, per_page=20
    )
    assert [article.title for article in page][:2] == ["Story 581", "Story 582"]


def test_relevance_ranks_a_bounded_candidate_set_and_later_pages_continue(archive, monkeypatch):
    monkeypatch.setattr(search_postgres, "RANKED_CANDIDATES", 40)
    newest_title = Article.objects.get(title="Story 30")
    newest_title.title = "Government government: Story 30"
    newest_title.save()
    first = search_page(filters=SearchFilters(query="government"), per_page=20)
    assert next(iter(first)).pk == newest_title.pk
    third = search_page(filters=SearchFilters(query="government"), page_number=3, per_page=20)
    # Past the 40 ranked candidates the order is newest first: stories 41, 42, ...
    assert [article.title for article in third][:2] == ["Story 41", "Story 42"]


def test_search_row_follows_date_source_and_text():
    article = ArticleFactory(title="Spectrum", body_text="auction")
    row = ArticleSearch.objects.get(pk=article.pk)
    assert row.published_at == article.published_at and row.source_id == article.source_id
    other = SourceFactory()
    later = timezone.now() - timedelta(minutes=5)
    Article.objects.filter(pk=article.pk).update(source=other, published_at=later)
    row.refresh_from_db()
    assert (row.source_id, row.published_at) == (other.pk, later)
    ai, trade = TopicFactory(), TopicFactory()
    article.topics.add(ai, trade)
    assert topic_ids_of(article.pk) == sorted([ai.pk, trade.pk])
    article.topics.remove(ai)
    assert topic_ids_of(article.pk) == [trade.pk]
    assert [a.pk for a in search_page(filters=SearchFilters(query="auction", topic=trade))] == [
        article.pk
    ]
    assert list(search_page(filters=SearchFilters(query="auction", topic=ai))) == []
    article.topics.clear()
    assert topic_ids_of(article.pk) == []
    with connection.cursor() as cursor:
        cursor.execute("DELETE FROM articles_article WHERE id = %s", [article.pk])
    assert not ArticleSearch.objects.filter(pk=article.pk).exists()


def test_search_row_follows_story_group():
    first, second = ArticleFactory(title="Spectrum sale"), ArticleFactory(title="Spectrum sold")
    assert story_of(first.pk) == -first.pk  # a story of its own
    group = StoryGroupFactory()
    Article.objects.filter(pk__in=[first.pk, second.pk]).update(group=group)
    assert story_of(first.pk) == story_of(second.pk) == group.pk
    page = search_page(filters=SearchFilters(query="spectrum"), per_page=20)
    assert page.paginator.count == 1 and len(list(page)) == 1
    second.group = None
    second.save()
    assert story_of(second.pk) == -second.pk
    assert search_page(filters=SearchFilters(query="spectrum"), per_page=20).paginator.count == 2


def story_of(article_id: int) -> int:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT story FROM articles_articlesearch WHERE article_id = %s", [article_id]
        )
        return cursor.fetchone()[0]


def topic_ids_of(article_id: int) -> list[int]:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT topic_ids FROM articles_articlesearch WHERE article_id = %s", [article_id]
        )
        return list(cursor.fetchone()[0])


def test_no_planner_setting_is_changed(archive):
    with CaptureQueriesContext(connection) as captured:
        search_page(filters=SearchFilters(query='"government said" -zebrafish'), per_page=20)
    assert not [q for q in captured.captured_queries if "set_config" in q["sql"].lower()]
    assert not [q for q in captured.captured_queries if q["sql"].lower().startswith("set ")]


def snippet_of(query: str) -> str:
    (article,) = search_page(filters=SearchFilters(query=query), per_page=20)
    return article.search_snippet_raw


def filler(letter: str) -> str:
    return " ".join(f"{letter}{index}" for index in range(400))  # about 2,000 characters


def test_snippet_is_the_passage_around_a_match_deep_in_a_long_body():
    body = f"{filler('a')} the regulations on spectrum. {filler('b')}"
    ArticleFactory(title="Spectrum", body_text=body)
    snippet = snippet_of("regulation")
    assert "\ue000regulations\ue001" in snippet
    # From the passage only, cut between words: nothing of the body's start, no half word.
    assert "a0 " not in snippet
    words = {word.strip(".") for word in body.split()} | {"\ue000regulations\ue001"}
    assert set(snippet.split()) <= words


def test_snippet_falls_back_to_the_whole_body_when_the_guess_misses():
    # "studies" is found as "studi…": the guessed passage ("stud…") starts at "student".
    ArticleFactory(title="Campus", body_text=f"student {filler('a')} one study {filler('b')}")
    assert "\ue000study\ue001" in snippet_of("studies")


def test_snippet_of_a_title_only_match_is_the_body_start():
    ArticleFactory(title="Zebrafish rules", body_text=f"Opening line. {filler('a')}")
    assert snippet_of("zebrafish").startswith("Opening line.")


def test_relevance_ranking_is_inside_the_candidate_query(archive, django_assert_num_queries):
    # The archive's span, one window of newest matches ranked in the same query, the page.
    with django_assert_num_queries(3):
        page = search_page(filters=SearchFilters(query="government"), per_page=20)
        assert len(list(page)) == 20
    # The span is remembered for the page version: the window and the page.
    with django_assert_num_queries(2):
        page = search_page(filters=SearchFilters(query="government", sort="newest"), per_page=20)
        assert [article.title for article in page][:2] == ["Story 1", "Story 2"]
    invalidate_pages()  # the archive changed: its span is read again
    with django_assert_num_queries(3):
        search_page(filters=SearchFilters(query="government"), per_page=20)


def test_a_window_that_predicts_few_matches_in_all_reads_the_whole_range_next(walrus_archive):
    # The first window of 1,000 rows holds 20 of the 400: the whole range comes next.
    sent, page = candidate_queries("walrus")
    assert len(sent) == 2 and "published_at >=" not in sent[1]
    assert (page.paginator.count, page.count_is_exact) == (400, True)


def test_snippet_of_a_phrase_is_the_passage_around_the_phrase():
    body = f"An act. {filler('a')} the digital services act applies. {filler('b')}"
    ArticleFactory(title="Platforms", body_text=body)
    snippet = snippet_of('"digital services act"')
    assert "\ue000services\ue001" in snippet and "a0 " not in snippet
