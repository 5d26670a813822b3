"""A relay outage longer than every retry a recipient would get, against a real worker,
PostgreSQL, Redis and an SMTP server on loopback that comes up late: nobody fails, the
send resumes by itself, and everyone gets exactly one copy."""

import time

import pytest
from aiosmtpd.controller import Controller
from django.utils import timezone

from newsletters.models import Delivery, Issue, Subscriber
from newsletters.sending.deliveries import delivery_counts
from newsletters.sending.start import begin_issue_send
from tests.factories import IssueFactory, IssueItemFactory
from tests.newsletters.conftest import RecordingHandler, SmtpSink, free_port

pytestmark = [
    pytest.mark.redis,
    pytest.mark.postgres,
    pytest.mark.slow,
    pytest.mark.django_db(transaction=True),
]

RECIPIENTS = 300
MAX_ATTEMPTS = 2


@pytest.fixture
def relay_port():
    return free_port()


@pytest.fixture
def celery_worker_env(relay_port):
    return {
        "EMAIL_URL": f"smtp://127.0.0.1:{relay_port}?timeout=5",
        "NEWSLETTER_BATCH_SIZE": "50",
        # Short pauses, so the outage outlasts many of them in a few seconds.
        "NEWSLETTER_RELAY_RETRY_SECONDS": "1",
        "NEWSLETTER_RELAY_RETRY_MAX_SECONDS": "2",
        # Had the outage been charged to recipients, two tries would fail them.
        "NEWSLETTER_MAX_ATTEMPTS": str(MAX_ATTEMPTS),
        "NEWSLETTER_RETRY_BACKOFF_SECONDS": "1",
    }


def test_relay_down_longer_than_all_retries_skips_nobody(relay_port, celery_worker_process):
    now = timezone.now()
    Subscriber.objects.bulk_create(
        Subscriber(
            email=f"outage{n}@example.org",
            status=Subscriber.Status.ACTIVE,
            confirmed_at=now,
            consent_at=now,
        )
        for n in range(RECIPIENTS)
    )
    issue = IssueFactory()
    IssueItemFactory(issue=issue)
    begin_issue_send(issue=issue)  # nothing listens on relay_port yet

    deadline = time.monotonic() + 90
    while True:
        issue.refresh_from_db()
        if issue.relay_failures >= 4 * MAX_ATTEMPTS:
            break
        assert time.monotonic() < deadline, f"the send never paused: {delivery_counts(issue)}"
        time.sleep(0.2)
    assert issue.status == Issue.Status.SENDING
    assert issue.relay_paused_since is not None
    assert not Delivery.objects.filter(issue=issue, status=Delivery.Status.FAILED).exists()
    assert not Delivery.objects.filter(issue=issue, attempts__gt=0).exists()

    handler = RecordingHandler()
    controller = Controller(handler, hostname="127.0.0.1", port=relay_port)
    controller.start()
    try:
        sink = SmtpSink(handler, relay_port)
        deadline = time.monotonic() + 90
        while True:
            issue.refresh_from_db()
            if issue.status == Issue.Status.SENT:
                break
            assert time.monotonic() < deadline, f"not resumed: {delivery_counts(issue)}"
            time.sleep(0.2)
    finally:
        controller.stop()

    counts = sink.recipient_counts()
    assert set(counts) == {f"outage{n}@example.org" for n in range(RECIPIENTS)}
    assert set(counts.values()) == {1}
    assert delivery_counts(issue)["failed"] == 0
    assert issue.relay_paused_since is None
