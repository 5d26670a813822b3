"""The worker heartbeat and the admin's status line on the source and issue pages."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from digest.core.heartbeat import CACHE_KEY, ago, last_seen, record_heartbeat, worker_status
from digest.core.models import WorkerHeartbeat
from digest.core.tasks import worker_heartbeat_task
from tests.factories import IssueFactory, SourceFactory

pytestmark = pytest.mark.django_db

NEVER = "Scheduled sends and polls need the worker: it has never been seen."
PAGES_WITH_THE_LINE = [
    ("admin:articles_source_changelist", None),
    ("admin:articles_source_add", None),
    ("admin:articles_source_change", "source"),
    ("admin:newsletters_issue_changelist", None),
    ("admin:newsletters_issue_add", None),
    ("admin:newsletters_issue_change", "issue"),
]


def page_url(name: str, needs: str | None) -> str:
    if needs == "source":
        return reverse(name, args=[SourceFactory().pk])
    if needs == "issue":
        return reverse(name, args=[IssueFactory().pk])
    return reverse(name)


def test_no_heartbeat_ever_is_stale_and_says_never_seen():
    status = worker_status()

    assert last_seen() is None
    assert status.is_stale
    assert status.message.startswith(NEVER)


def test_recent_heartbeat_is_not_stale_and_says_nothing(settings):
    settings.WORKER_HEARTBEAT_STALE_AFTER = timedelta(minutes=5)
    record_heartbeat(worker="embedded@laptop", now=timezone.now() - timedelta(minutes=4))

    status = worker_status()

    assert not status.is_stale
    assert status.message == ""


def test_old_heartbeat_says_how_long_ago(settings):
    settings.WORKER_HEARTBEAT_STALE_AFTER = timedelta(minutes=5)
    record_heartbeat(worker="embedded@laptop", now=timezone.now() - timedelta(hours=3))

    status = worker_status()

    assert status.is_stale
    assert status.message.startswith(
        "Scheduled sends and polls need the worker: it was last seen 3 h ago."
    )


def test_each_worker_keeps_one_row_and_the_newest_counts():
    now = timezone.now()
    record_heartbeat(worker="a@host", now=now - timedelta(hours=2))
    record_heartbeat(worker="a@host", now=now - timedelta(hours=1))
    record_heartbeat(worker="b@host", now=now - timedelta(minutes=1))

    assert WorkerHeartbeat.objects.count() == 2
    assert last_seen() == now - timedelta(minutes=1)


def test_the_heartbeat_task_records_the_worker_that_ran_it():
    worker_heartbeat_task.apply()

    assert WorkerHeartbeat.objects.count() == 1
    assert timezone.now() - last_seen() < timedelta(seconds=30)


@pytest.mark.parametrize(
    ("delta", "expected"),
    [
        (timedelta(seconds=40), "40 s"),
        (timedelta(minutes=12), "12 min"),
        (timedelta(hours=3, minutes=10), "3 h"),
        (timedelta(days=3), "3 days"),
    ],
)
def test_ago_reads_like_a_person_would_say_it(delta, expected):
    assert ago(delta) == expected


@pytest.mark.parametrize(("name", "needs"), PAGES_WITH_THE_LINE)
def test_source_and_issue_pages_show_the_line_when_no_worker_was_seen(admin_client, name, needs):
    response = admin_client.get(page_url(name, needs))

    assert response.status_code == 200
    page = response.content.decode()
    assert 'id="worker-status"' in page
    assert NEVER in page


def test_line_says_when_the_worker_was_last_seen(admin_client, settings):
    settings.WORKER_HEARTBEAT_STALE_AFTER = timedelta(minutes=5)
    record_heartbeat(worker="embedded@laptop", now=timezone.now() - timedelta(hours=3))

    page = admin_client.get(reverse("admin:newsletters_issue_changelist")).content.decode()

    assert "it was last seen 3 h ago" in page


@pytest.mark.parametrize(("name", "needs"), PAGES_WITH_THE_LINE)
def test_no_line_while_the_worker_is_seen(admin_client, name, needs):
    record_heartbeat(worker="embedded@laptop")

    page = admin_client.get(page_url(name, needs)).content.decode()

    assert 'id="worker-status"' not in page


def test_other_admin_pages_and_the_reader_site_neither_show_nor_read_it(
    admin_client, client, django_assert_num_queries
):
    for url in (reverse("admin:newsletters_subscriber_changelist"), reverse("admin:index")):
        assert 'id="worker-status"' not in admin_client.get(url).content.decode()
    client.get("/")
    with django_assert_num_queries(0):
        client.get("/")  # a cached reader page: no heartbeat read either


def test_status_line_reads_the_rows_once_then_the_cache(admin_client):
    url = reverse("admin:articles_source_changelist")

    def visit() -> tuple[int, bool]:
        """Heartbeat queries the page ran, and whether it showed the line."""
        with CaptureQueriesContext(connection) as queries:
            page = admin_client.get(url).content.decode()
        reads = [q for q in queries.captured_queries if "core_workerheartbeat" in q["sql"]]
        return len(reads), 'id="worker-status"' in page

    assert visit() == (1, True)  # nothing cached yet: the rows are read
    assert visit() == (0, True)  # then the cache answers
    record_heartbeat(worker="embedded@laptop")  # a new heartbeat drops the cached value
    assert visit() == (1, False)
    assert visit() == (0, False)


def test_a_heartbeat_written_elsewhere_shows_once_the_cached_reading_expires(settings):
    assert worker_status().is_stale
    WorkerHeartbeat.objects.create(worker="other@host", seen_at=timezone.now())  # no signal

    assert worker_status().is_stale  # the cached "never" still stands…
    cache.delete(CACHE_KEY)  # …until it expires (CACHE_SECONDS)
    assert not worker_status().is_stale
