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
