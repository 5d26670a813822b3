import time
from datetime import timedelta

import pytest
from django.utils import timezone

from articles.models import Article, Source
from articles.tasks import source_poll_task, sources_enqueue_due_task
from tests.articles.builders import serve_story_feed
from tests.factories import SourceFactory

pytestmark = pytest.mark.django_db


def test_enqueue_due_polls_every_due_source_and_only_those(
    loopback, django_capture_on_commit_callbacks
):
    due = SourceFactory(url=serve_story_feed(loopback, "due", 2), next_poll_at=None)
    later = SourceFactory(
        url=serve_story_feed(loopback, "later", 2),
        next_poll_at=timezone.now() + timedelta(hours=1),
    )

    with django_capture_on_commit_callbacks(execute=True):
        enqueued = sources_enqueue_due_task.delay().get()

    assert enqueued == 1
    assert Article.objects.filter(source=due).count() == 2
    assert not Article.objects.filter(source=later).exists()
    due.refresh_from_db()
    assert due.next_poll_at > timezone.now() + timedelta(minutes=50)


def test_one_failing_source_does_not_block_the_others(
    loopback, django_capture_on_commit_callbacks
):
    broken = SourceFactory(url=loopback.serve("/broken.xml", b"x", status=500))
    healthy = SourceFactory(url=serve_story_feed(loopback, "ok", 1))

    with django_capture_on_commit_callbacks(execute=True):
        sources_enqueue_due_task.delay()

    broken.refresh_from_db()
    assert broken.consecutive_failures == 1
    assert Article.objects.filter(source=healthy).count() == 1


def test_poll_task_for_a_deleted_source_returns_quietly():
    assert source_poll_task.delay(123456).get() == ""


def test_poll_task_returns_the_poll_status(loopback):
    source = SourceFactory(url=serve_story_feed(loopback, "s", 1))

    assert source_poll_task.delay(source.pk).get() == "ok"
    assert Source.objects.get(pk=source.pk).last_success_at is not None


def test_beat_schedule_names_the_enqueue_task(settings):
    tasks = {entry["task"] for entry in settings.CELERY_BEAT_SCHEDULE.values()}

    assert sources_enqueue_due_task.name in tasks


@pytest.fixture
def celery_worker_env():
    # The worker may reach the loopback test server, and nothing else that is private.
    return {"FETCH_ALLOW_PRIVATE_NETWORKS": "0", "FETCH_ALLOWED_NETWORKS": "127.0.0.0/8"}


@pytest.mark.redis
@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_real_worker_on_redis_ingests_several_feeds_and_their_pages(
    loopback, celery_worker_process
):
    feeds = [
        SourceFactory(url=serve_story_feed(loopback, f"outlet{n}", 3, seed=n), next_poll_at=None)
        for n in range(3)
    ]
    broken = SourceFactory(url=loopback.serve("/broken.xml", b"", status=500), next_poll_at=None)

    sources_enqueue_due_task.delay()

    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        broken.refresh_from_db()
        if Article.objects.count() >= 9 and broken.consecutive_failures:
            break
        time.sleep(0.5)
    else:
        pytest.fail("worker did not finish:\n" + celery_worker_process.log_text()[-3000:])

    for source in feeds:
        source.refresh_from_db()
        assert source.last_success_at is not None
        assert source.poll_started_at is None
        assert Article.objects.filter(source=source).count() == 3
    assert "HTTP 500" in broken.last_error
    assert set(Article.objects.values_list("extraction_status", flat=True)) == {
        Article.Extraction.EXTRACTED
    }
    assert loopback.hits("/outlet0/story-0.html") == 1
