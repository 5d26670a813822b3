from datetime import timedelta

import pytest
from django.utils import timezone

from articles.models import SOURCE_FLAG_AFTER_FAILURES, Article, Source
from tests.articles.builders import serve_story_feed
from tests.factories import ArticleFactory, SourceFactory

pytestmark = pytest.mark.django_db

CHANGELIST = "/admin/articles/source/"


def make_sources(count: int) -> list[Source]:
    sources = [SourceFactory() for _ in range(count)]
    for source in sources:
        ArticleFactory.create_batch(2, source=source)
    return sources


def test_source_list_shows_health_at_a_glance(admin_client):
    healthy = SourceFactory(name="Healthy wire", last_success_at=timezone.now())
    ArticleFactory.create_batch(3, source=healthy)
    old = ArticleFactory(source=healthy)
    Article.objects.filter(pk=old.pk).update(created_at=timezone.now() - timedelta(days=8))
    SourceFactory(
        name="Broken wire",
        consecutive_failures=SOURCE_FLAG_AFTER_FAILURES,
        last_error="https://broken.example/feed answered HTTP 500 Internal Server Error.",
    )

    response = admin_client.get(CHANGELIST, {"o": "1"})

    assert response.status_code == 200
    page = response.content.decode()
    rows = {row.name: row for row in response.context["cl"].result_list}
    assert rows["Healthy wire"].recent_articles == 3
    assert rows["Broken wire"].recent_articles == 0
    assert "answered HTTP 500" in page
    assert "icon-yes.svg" in page and "icon-no.svg" in page


def test_source_list_query_count_does_not_grow_with_rows(
    admin_client, django_assert_max_num_queries
):
    make_sources(3)
    admin_client.get(CHANGELIST)  # warm the session and content types
    with django_assert_max_num_queries(12) as few:
        admin_client.get(CHANGELIST)
    make_sources(12)

    with django_assert_max_num_queries(len(few.captured_queries)):
        response = admin_client.get(CHANGELIST)

    assert len(response.context["cl"].result_list) == 15


def test_flagged_filter_lists_only_flagged_sources(admin_client):
    SourceFactory(name="Fine")
    SourceFactory(name="Flagged", consecutive_failures=SOURCE_FLAG_AFTER_FAILURES + 2)
    SourceFactory(name="Wobbly", consecutive_failures=1)

    response = admin_client.get(CHANGELIST, {"health": "flagged"})

    assert [source.name for source in response.context["cl"].result_list] == ["Flagged"]


def test_poll_now_action_polls_the_selected_sources(
    admin_client, loopback, django_capture_on_commit_callbacks
):
    source = SourceFactory(
        url=serve_story_feed(loopback, "admin", 2),
        next_poll_at=timezone.now() + timedelta(days=1),
    )

    with django_capture_on_commit_callbacks(execute=True):
        response = admin_client.post(
            CHANGELIST, {"action": "poll_now", "_selected_action": [source.pk]}, follow=True
        )

    assert "1 source(s) queued for polling." in response.content.decode()
    assert Article.objects.filter(source=source).count() == 2


def test_reset_backoff_action_clears_failures_and_makes_the_source_due(admin_client):
    source = SourceFactory(
        consecutive_failures=9, next_poll_at=timezone.now() + timedelta(hours=20)
    )

    admin_client.post(CHANGELIST, {"action": "reset_backoff", "_selected_action": [source.pk]})

    source.refresh_from_db()
    assert source.consecutive_failures == 0
    assert Source.objects.due().filter(pk=source.pk).exists()


def test_source_page_shows_skipped_entries_and_the_feed_warning(admin_client):
    source = SourceFactory(
        name="Odd wire",
        last_warning="The feed is not well-formed XML; 3 entries were read anyway.",
        skipped_entries=2,
        skipped_entries_total=9,
        skip_reasons="2 × The entry has no link, GUID, title or content.",
    )

    listing = admin_client.get(CHANGELIST).content.decode()
    page = admin_client.get(f"{CHANGELIST}{source.pk}/change/").content.decode()

    assert "not well-formed XML" in listing
    for text in ["not well-formed XML", "2 × The entry has no link, GUID, title or content.", "9"]:
        assert text in page


def test_article_list_tells_which_dates_are_only_the_fetch_time(admin_client):
    ArticleFactory(title="Undatable story", date_from_fetch_time=True)

    response = admin_client.get("/admin/articles/article/", {"date_from_fetch_time__exact": "1"})

    assert response.status_code == 200
    assert [article.title for article in response.context["cl"].result_list] == ["Undatable story"]
