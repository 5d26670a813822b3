import threading
from datetime import timedelta

import pytest
from django.db import connection
from django.utils import timezone

from articles.ingestion import scheduling
from articles.models import SOURCE_FLAG_AFTER_FAILURES, Source
from tests.factories import SourceFactory

pytestmark = pytest.mark.django_db


def test_backoff_doubles_with_each_failure_up_to_the_cap(settings):
    settings.SOURCE_BACKOFF_MAX = timedelta(hours=24)
    hour = timedelta(hours=1)

    delays = [scheduling.backoff_delay(poll_interval=hour, failures=n) for n in range(0, 8)]

    assert delays[:5] == [hour, 2 * hour, 4 * hour, 8 * hour, 16 * hour]
    assert delays[5:] == [24 * hour] * 3


def test_backoff_never_polls_more_often_than_the_interval(settings):
    settings.SOURCE_BACKOFF_MAX = timedelta(hours=24)
    week = timedelta(days=7)

    assert scheduling.backoff_delay(poll_interval=week, failures=3) == week


def test_huge_failure_counts_do_not_overflow():
    assert scheduling.backoff_delay(poll_interval=timedelta(minutes=5), failures=10**6)


def test_record_failure_counts_backs_off_and_flags(settings):
    settings.SOURCE_BACKOFF_MAX = timedelta(hours=24)
    source = SourceFactory(poll_interval=timedelta(minutes=30))
    now = timezone.now()

    for _ in range(SOURCE_FLAG_AFTER_FAILURES):
        scheduling.record_failure(source=source, error="HTTP 500", now=now)

    source.refresh_from_db()
    assert source.consecutive_failures == SOURCE_FLAG_AFTER_FAILURES
    assert source.is_flagged
    assert source.last_error == "HTTP 500"
    assert source.next_poll_at == now + timedelta(minutes=30) * 2**SOURCE_FLAG_AFTER_FAILURES


def test_record_success_resets_failures_and_keeps_validators():
    source = SourceFactory(consecutive_failures=7, last_error="boom")
    now = timezone.now()

    scheduling.record_success(source=source, now=now, etag='"abc"', last_modified="Tue")

    source.refresh_from_db()
    assert source.consecutive_failures == 0
    assert source.last_error == ""
    assert source.last_success_at == now
    assert (source.etag, source.last_modified) == ('"abc"', "Tue")
    assert source.next_poll_at == now + source.poll_interval


def test_reserve_due_sources_picks_due_active_idle_sources_once():
    now = timezone.now()
    never_polled = SourceFactory(next_poll_at=None)
    overdue = SourceFactory(next_poll_at=now - timedelta(minutes=5))
    SourceFactory(next_poll_at=now + timedelta(minutes=5))
    SourceFactory(next_poll_at=None, active=False)
    SourceFactory(next_poll_at=None, poll_started_at=now - timedelta(minutes=1))

    first = scheduling.reserve_due_sources(now=now)
    second = scheduling.reserve_due_sources(now=now)

    assert first == [never_polled.pk, overdue.pk]
    assert second == []


def test_a_lost_enqueue_comes_due_again_after_the_stale_timeout(settings):
    now = timezone.now()
    source = SourceFactory(next_poll_at=None)
    scheduling.reserve_due_sources(now=now)

    later = now + settings.SOURCE_POLL_STALE_AFTER + timedelta(seconds=1)

    assert scheduling.reserve_due_sources(now=later) == [source.pk]


def test_reserve_respects_the_limit_oldest_first():
    now = timezone.now()
    sources = [SourceFactory(next_poll_at=now - timedelta(minutes=m)) for m in (1, 3, 2)]

    assert scheduling.reserve_due_sources(now=now, limit=2) == [sources[1].pk, sources[2].pk]


def test_claim_is_exclusive_until_released_or_stale(settings):
    source = SourceFactory()
    now = timezone.now()

    assert scheduling.claim_source(source_id=source.pk, now=now)
    assert not scheduling.claim_source(source_id=source.pk, now=now + timedelta(minutes=1))
    stale = now + settings.SOURCE_POLL_STALE_AFTER + timedelta(seconds=1)
    assert scheduling.claim_source(source_id=source.pk, now=stale)
    scheduling.release_claim(source=source)
    assert scheduling.claim_source(source_id=source.pk, now=stale)


def test_claim_of_a_deleted_source_fails():
    assert not scheduling.claim_source(source_id=987654)


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_concurrent_claims_let_exactly_one_poll_run():
    source = SourceFactory()
    barrier = threading.Barrier(8)
    wins = []

    def claim():
        try:
            barrier.wait()
            wins.append(scheduling.claim_source(source_id=source.pk))
        finally:
            connection.close()

    threads = [threading.Thread(target=claim) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert sorted(wins) == [False] * 7 + [True]
    assert Source.objects.get(pk=source.pk).poll_started_at is not None
