"""Crash safety: SIGKILL a worker in the middle of a send, start a new one, and check
that, with the default lease and sweep timings, everyone has the issue within 90 s of the
new worker starting and (almost) nobody got it twice."""

import time

import pytest
from django.utils import timezone

from newsletters.models import Delivery, Issue, Subscriber
from newsletters.sending.deliveries import delivery_counts
from newsletters.sending.start import begin_issue_send
from newsletters.sending.sweeper import requeue_stale_deliveries
from tests.factories import IssueFactory, IssueItemFactory

pytestmark = [
    pytest.mark.redis,
    pytest.mark.postgres,
    pytest.mark.slow,
    pytest.mark.django_db(transaction=True),
]

RECIPIENTS = 2000
# The default: each pool child sends over this many connections at once.
SMTP_CONNECTIONS = 4
# What beat does by default (digest/settings.py: sweep-stale-deliveries).
SWEEP_EVERY_SECONDS = 30


@pytest.fixture
def celery_worker_env(smtp_sink):
    return {
        "EMAIL_URL": smtp_sink.url,
        "NEWSLETTER_BATCH_SIZE": "100",
        # Throttled so the kill lands mid-send.
        "NEWSLETTER_RATE_LIMIT": "200",
        "NEWSLETTER_SMTP_CONNECTIONS": str(SMTP_CONNECTIONS),
    }


def test_worker_killed_mid_send_then_restarted_reaches_everyone_once(
    settings, smtp_sink, celery_worker_process
):
    now = timezone.now()
    Subscriber.objects.bulk_create(
        Subscriber(
            email=f"crash{n}@example.org",
            status=Subscriber.Status.ACTIVE,
            confirmed_at=now,
            consent_at=now,
        )
        for n in range(RECIPIENTS)
    )
    issue = IssueFactory()
    IssueItemFactory(issue=issue)
    # The server takes a moment to accept each message, so the kill is likely to find
    # one on the wire: the worst case the design allows.
    smtp_sink.delay = 0.004
    begin_issue_send(issue=issue)

    deadline = time.monotonic() + 120
    while Delivery.objects.filter(status=Delivery.Status.SENT).count() < RECIPIENTS // 4 + 37:
        assert time.monotonic() < deadline, "the send did not get going"
        time.sleep(0.05)
    celery_worker_process.kill()
    at_kill = delivery_counts(issue)
    print(f"\nkilled the worker at {at_kill}")
    assert 0 < at_kill["sent"] < RECIPIENTS, "the kill must land in the middle of the send"

    celery_worker_process.start()
    restarted = time.monotonic()
    next_sweep = restarted
    while True:
        issue.refresh_from_db()
        if issue.status == Issue.Status.SENT:
            break
        assert time.monotonic() - restarted < 90, f"not finished: {delivery_counts(issue)}"
        if time.monotonic() >= next_sweep:
            # What beat does every 30 s: take over what the dead worker held.
            requeue_stale_deliveries()
            next_sweep += SWEEP_EVERY_SECONDS
        time.sleep(0.5)
    print(f"everyone had the issue {time.monotonic() - restarted:.0f} s after the restart")

    counts = smtp_sink.recipient_counts()
    expected = {f"crash{n}@example.org" for n in range(RECIPIENTS)}
    missing = expected - set(counts)
    duplicates = sum(count - 1 for count in counts.values())
    message_ids: dict[str, set[str]] = {}
    for recorded in smtp_sink.messages:
        if counts[recorded.recipients[0]] > 1:
            message_ids.setdefault(recorded.recipients[0], set()).add(
                recorded.parsed()["Message-ID"]
            )
    print(
        f"recipients: {len(counts)} of {RECIPIENTS}, missing: {len(missing)}, "
        f"duplicates: {duplicates} (each with its first copy's Message-ID: "
        f"{all(len(ids) == 1 for ids in message_ids.values())})"
    )
    assert not missing
    assert set(counts) == expected
    # At most the messages on the wire when the worker died (one per connection of its
    # one pool child), and a resend carries the same Message-ID, so mail clients can
    # show it once.
    assert duplicates <= SMTP_CONNECTIONS
    assert all(len(ids) == 1 for ids in message_ids.values())
    assert delivery_counts(issue)["sent"] == RECIPIENTS
