"""End to end: a real Celery worker on Redis sends an issue through a real SMTP server."""

import time
from urllib.parse import urlsplit

import pytest
from django.test import Client

from newsletters.models import Delivery, Issue, Subscriber
from newsletters.sending.start import begin_issue_send
from tests.factories import IssueFactory, IssueItemFactory, SubscriberFactory, TopicFactory

pytestmark = [
    pytest.mark.redis,
    pytest.mark.postgres,
    pytest.mark.slow,
    pytest.mark.django_db(transaction=True),
]

SITE_URL = "https://news.example.org"


@pytest.fixture
def celery_worker_env(smtp_sink):
    return {
        "EMAIL_URL": smtp_sink.url,
        "SITE_URL": SITE_URL,
        "NEWSLETTER_BATCH_SIZE": "25",
        "NEWSLETTER_RETRY_BACKOFF_SECONDS": "1",
    }


def wait_until_sent(issue: Issue, timeout: float = 180) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        issue.refresh_from_db()
        if issue.status == Issue.Status.SENT:
            return
        time.sleep(0.5)
    from newsletters.sending.deliveries import delivery_counts

    raise AssertionError(f"issue not sent in {timeout} s: {delivery_counts(issue)}")


def test_worker_sends_issue_to_each_active_subscriber_exactly_once(
    settings, smtp_sink, celery_worker_process
):
    settings.SITE_URL = SITE_URL
    topic = TopicFactory(name="AI")
    issue = IssueFactory(number=209, title="Big Tech on global trial")
    IssueItemFactory(issue=issue, headline="Court rules on data transfers")
    active = [SubscriberFactory(active=True) for _ in range(195)]
    active += [SubscriberFactory(active=True, topics=[topic]) for _ in range(5)]
    others = [SubscriberFactory() for _ in range(5)]  # never confirmed
    others += [
        SubscriberFactory(active=True, status=status)
        for status in (
            Subscriber.Status.UNSUBSCRIBED,
            Subscriber.Status.BOUNCED,
            Subscriber.Status.COMPLAINED,
        )
        for _ in range(3)
    ]
    others += [SubscriberFactory(active=True, is_paused=True) for _ in range(3)]
    # One recipient's server is busy the first time: the worker must retry it.
    smtp_sink.script(active[7].email, "451 4.3.0 Mailbox busy, try again later")

    begin_issue_send(issue=issue)  # autocommit: the batches are queued at once
    wait_until_sent(issue)

    counts = smtp_sink.recipient_counts()
    assert counts == {s.email: 1 for s in active}
    assert not set(counts) & {s.email for s in others}
    assert Delivery.objects.filter(status=Delivery.Status.SENT).count() == 200
    assert Delivery.objects.get(subscriber=active[7]).attempts == 2

    message_ids = set(Delivery.objects.values_list("message_id", flat=True))
    by_recipient = {}
    for recorded in smtp_sink.messages:
        message = recorded.parsed()
        assert message["Message-ID"] in message_ids
        assert message["Subject"] == "Weekly #209 – Big Tech on global trial"
        types = [part.get_content_type() for part in message.walk()]
        assert types == ["multipart/alternative", "text/plain", "text/html"]
        assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
        by_recipient[recorded.recipients[0]] = message

    # The unsubscribe headers work: a one-click POST to the https URL unsubscribes.
    client = Client(enforce_csrf_checks=True)
    for subscriber in active[:3]:
        header = by_recipient[subscriber.email]["List-Unsubscribe"]
        https_url, mailto = [part.strip(" <>") for part in header.split(",")]
        assert https_url.startswith(SITE_URL + "/unsubscribe/")
        assert mailto.startswith("mailto:unsubscribe@localhost?subject=unsubscribe-")
        assert https_url in by_recipient[subscriber.email].get_body(("plain",)).get_content()
        response = client.post(
            urlsplit(https_url).path,
            "List-Unsubscribe=One-Click",
            content_type="application/x-www-form-urlencoded",
        )
        assert response.status_code == 200
        subscriber.refresh_from_db()
        assert subscriber.status == Subscriber.Status.UNSUBSCRIBED
    assert Subscriber.objects.receiving().count() == 197
