"""Sending a batch: claims, retries, failures, pacing, query counts, the sent record."""

import time
from datetime import timedelta
from unittest import mock

import pytest
from django.core import mail
from django.utils import timezone

from newsletters import rendering
from newsletters.models import Delivery, Subscriber
from newsletters.sending import batch as sending
from newsletters.sending import claims, mime
from newsletters.sending.batch import send_batch
from newsletters.sending.deliveries import finish_issue_if_done
from newsletters.sending.sweeper import requeue_stale_deliveries
from tests.factories import (
    ArticleFactory,
    IssueFactory,
    IssueItemFactory,
    TopicFactory,
)
from tests.newsletters.sending.helpers import active, sending_issue_with

pytestmark = pytest.mark.django_db


def test_batch_sends_both_parts_with_headers_and_records_message_id(issue, smtp_sink):
    [subscriber] = active(1)
    [delivery] = sending_issue_with([subscriber], issue)
    result = send_batch(issue_id=issue.pk, delivery_ids=[delivery.pk])
    assert result.sent == 1
    delivery.refresh_from_db()
    assert delivery.status == Delivery.Status.SENT
    assert delivery.sent_at is not None and delivery.attempts == 1
    [recorded] = smtp_sink.messages
    message = recorded.parsed()
    assert message["Message-ID"] == delivery.message_id
    assert message["Subject"] == "Weekly #12 – Chips and rules"
    assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert "/unsubscribe/" in message["List-Unsubscribe"]
    types = [part.get_content_type() for part in message.walk()]
    assert types == ["multipart/alternative", "text/plain", "text/html"]
    assert "Export controls tighten" in message.get_body(("plain",)).get_content()
    assert "Export controls tighten" in message.get_body(("html",)).get_content()


def test_batch_run_twice_sends_nothing_twice(issue, smtp_sink):
    deliveries = sending_issue_with(active(3), issue)
    ids = [d.pk for d in deliveries]
    send_batch(issue_id=issue.pk, delivery_ids=ids)
    again = send_batch(issue_id=issue.pk, delivery_ids=ids)
    assert again.sent == 0
    assert len(smtp_sink.messages) == 3


def test_delivery_claimed_elsewhere_is_skipped(issue, smtp_sink):
    deliveries = sending_issue_with(active(2), issue)
    Delivery.objects.filter(pk=deliveries[0].pk).update(
        status=Delivery.Status.SENDING, claimed_at=timezone.now()
    )
    result = send_batch(issue_id=issue.pk, delivery_ids=[d.pk for d in deliveries])
    assert result.sent == 1
    assert [m.recipients for m in smtp_sink.messages] == [[deliveries[1].subscriber.email]]


def test_claim_lost_after_the_message_went_leaves_it_unfinished_and_goes_on(issue, smtp_sink):
    # Another batch claims the first delivery while this one's message bytes are going
    # out: the message is never ended (the relay discards it with the dropped
    # connection), and the next one goes over a new connection.
    deliveries = sending_issue_with(active(2), issue)
    real_claim = sending.mark_sent_and_claim

    def claimed_elsewhere_first(**kwargs):
        if kwargs["claim_id"] == deliveries[0].pk:
            Delivery.objects.filter(pk=deliveries[0].pk).update(status=Delivery.Status.SENDING)
        return real_claim(**kwargs)

    with mock.patch.object(sending, "mark_sent_and_claim", claimed_elsewhere_first):
        result = send_batch(issue_id=issue.pk, delivery_ids=[d.pk for d in deliveries])

    assert (result.sent, result.skipped) == (1, 1)
    assert [m.recipients for m in smtp_sink.messages] == [[deliveries[1].subscriber.email]]


def test_temporary_refusal_goes_back_to_pending_with_backoff(issue, smtp_sink, settings):
    settings.NEWSLETTER_RETRY_BACKOFF_SECONDS = 60
    one, two, three = active(3)
    deliveries = sending_issue_with([one, two, three], issue)
    smtp_sink.script(two.email, "451 4.3.0 Mailbox busy, try later")
    result = send_batch(issue_id=issue.pk, delivery_ids=[d.pk for d in deliveries])
    assert (result.sent, result.failed, result.retry_ids) == (2, 0, [deliveries[1].pk])
    assert 55 <= result.retry_in <= 60
    deferred = Delivery.objects.get(pk=deliveries[1].pk)
    assert deferred.status == Delivery.Status.PENDING
    assert deferred.attempts == 1
    assert deferred.next_attempt_at > timezone.now() + timedelta(seconds=50)
    assert "451" in deferred.error
    # Not due yet: a rerun now sends nothing and asks to come back.
    rerun = send_batch(issue_id=issue.pk, delivery_ids=[deferred.pk])
    assert rerun.sent == 0 and rerun.retry_ids == [deferred.pk]
    Delivery.objects.filter(pk=deferred.pk).update(next_attempt_at=timezone.now())
    assert send_batch(issue_id=issue.pk, delivery_ids=[deferred.pk]).sent == 1
    assert smtp_sink.recipient_counts()[two.email] == 1
    assert finish_issue_if_done(issue=issue)


def test_temporary_data_error_is_retried(issue, smtp_sink):
    [subscriber] = active(1)
    [delivery] = sending_issue_with([subscriber], issue)
    smtp_sink.script_data(subscriber.email, "452 4.3.1 Insufficient storage")
    result = send_batch(issue_id=issue.pk, delivery_ids=[delivery.pk])
    assert result.retry_ids == [delivery.pk]
    assert Delivery.objects.get().status == Delivery.Status.PENDING


def test_permanent_refusal_fails_delivery_and_counts_bounce(issue, smtp_sink, settings):
    settings.NEWSLETTER_BOUNCE_LIMIT = 1
    one, two = active(2)
    deliveries = sending_issue_with([one, two], issue)
    smtp_sink.script(one.email, "550 5.1.1 No such user")
    result = send_batch(issue_id=issue.pk, delivery_ids=[d.pk for d in deliveries])
    assert (result.sent, result.failed, result.retry_ids) == (1, 1, [])
    failed = Delivery.objects.get(pk=deliveries[0].pk)
    assert failed.status == Delivery.Status.FAILED and "550" in failed.error
    one.refresh_from_db()
    assert one.bounce_count == 1
    assert one.status == Subscriber.Status.BOUNCED


def test_gives_up_after_max_attempts(issue, smtp_sink, settings):
    settings.NEWSLETTER_MAX_ATTEMPTS = 2
    [subscriber] = active(1)
    [delivery] = sending_issue_with([subscriber], issue)
    smtp_sink.script(subscriber.email, "451 busy", "451 busy")
    send_batch(issue_id=issue.pk, delivery_ids=[delivery.pk])
    Delivery.objects.filter(pk=delivery.pk).update(next_attempt_at=timezone.now())
    result = send_batch(issue_id=issue.pk, delivery_ids=[delivery.pk])
    assert result.failed == 1 and result.retry_ids == []
    delivery.refresh_from_db()
    assert delivery.status == Delivery.Status.FAILED
    assert "Gave up after 2 attempts" in delivery.error
    subscriber.refresh_from_db()
    assert subscriber.bounce_count == 0  # temporary trouble is not a bounce


def test_subscriber_who_left_after_the_start_gets_nothing(issue):
    stays, leaves = active(2)
    deliveries = sending_issue_with([stays, leaves], issue)
    Subscriber.objects.filter(pk=leaves.pk).update(status=Subscriber.Status.UNSUBSCRIBED)
    result = send_batch(issue_id=issue.pk, delivery_ids=[d.pk for d in deliveries])
    assert (result.sent, result.failed) == (1, 1)
    assert [m.to for m in mail.outbox] == [[stays.email]]
    assert "unsubscribed" in Delivery.objects.get(subscriber=leaves).error


def test_topic_digests_rendered_once_per_selection(issue):
    ai, privacy = TopicFactory(name="AI"), TopicFactory(name="Privacy")
    IssueItemFactory(issue=issue, headline="AI story", article=ArticleFactory(topics=[ai]))
    whole = active(3)
    ai_readers = active(3, topics=[ai])
    privacy_reader = active(1, topics=[privacy])
    deliveries = sending_issue_with(whole + ai_readers + privacy_reader, issue)
    with mock.patch.object(
        mime, "render_issue_email", wraps=rendering.render_issue_email
    ) as render:
        send_batch(issue_id=issue.pk, delivery_ids=[d.pk for d in deliveries])
    assert render.call_count == 3
    by_recipient = {m.to[0]: m.body for m in mail.outbox}
    assert "AI story" in by_recipient[ai_readers[0].email]
    assert "Export controls tighten" not in by_recipient[ai_readers[0].email]
    assert "AI story" not in by_recipient[privacy_reader[0].email]
    assert "AI story" in by_recipient[whole[0].email]
    assert "Export controls tighten" in by_recipient[whole[0].email]


def test_rate_limit_spaces_messages(issue, settings):
    settings.NEWSLETTER_RATE_LIMIT = 40.0
    deliveries = sending_issue_with(active(9), issue)
    sending._pacer._next = 0.0
    started = time.monotonic()
    send_batch(issue_id=issue.pk, delivery_ids=[d.pk for d in deliveries])
    assert time.monotonic() - started >= 8 / 40 - 0.01
    assert len(mail.outbox) == 9


def test_batch_query_count_is_bounded(issue, django_assert_max_num_queries):
    deliveries = sending_issue_with(active(20), issue)
    # Setup: issue, deliveries, topics, sections (rendering), the last "sent"; then per
    # message one statement holding the previous message's "sent" and this claim.
    # Click tracking adds five, once per rendering: the issue's links (count, read,
    # insert, read back) and its items.
    with django_assert_max_num_queries(6 + 5 + 20):
        result = send_batch(issue_id=issue.pk, delivery_ids=[d.pk for d in deliveries])
    assert result.sent == 20


def test_each_delivery_is_marked_sent_before_the_next_message_goes(issue, smtp_sink):
    deliveries = sending_issue_with(active(3), issue)
    seen = []
    real_send = sending.mark_sent_and_claim

    def spy(**kwargs):
        result = real_send(**kwargs)
        seen.append(dict(Delivery.objects.values_list("pk", "status")))
        return result

    with (
        mock.patch.object(sending, "mark_sent_and_claim", spy),
        mock.patch.object(claims, "mark_sent_and_claim", spy),
    ):
        send_batch(issue_id=issue.pk, delivery_ids=[d.pk for d in deliveries])
    first, second, third = (d.pk for d in deliveries)
    # Before each send only the delivery being sent is 'sending'; earlier ones are sent.
    assert seen[0] == {first: "sending", second: "pending", third: "pending"}
    assert seen[1] == {first: "sent", second: "sending", third: "pending"}
    assert seen[2] == {first: "sent", second: "sent", third: "sending"}
    assert seen[3] == {first: "sent", second: "sent", third: "sent"}


def test_a_message_goes_only_once_its_claim_is_committed(issue, smtp_sink):
    # The envelope (MAIL FROM, RCPT TO) and the message's bytes overlap the claim; the
    # line that ends the message, where the relay accepts it, must wait for it.
    deliveries = sending_issue_with(active(3), issue)
    at_data = []
    real_begin = mime.NewsletterSMTPBackend.begin_raw
    real_finish = mime.NewsletterSMTPBackend.finish_raw

    def begin_spy(self, *, recipient, data):
        self.spied_recipient = recipient
        return real_begin(self, recipient=recipient, data=data)

    def spy(self):
        recipient = self.spied_recipient
        at_data.append(Delivery.objects.get(subscriber__email=recipient).status)
        return real_finish(self)

    with (
        mock.patch.object(mime.NewsletterSMTPBackend, "begin_raw", begin_spy),
        mock.patch.object(mime.NewsletterSMTPBackend, "finish_raw", spy),
    ):
        result = send_batch(issue_id=issue.pk, delivery_ids=[d.pk for d in deliveries])

    assert result.sent == 3
    assert at_data == ["sending"] * 3


@pytest.mark.postgres
def test_asynchronous_commit_setting_still_sends_everyone_once(issue, smtp_sink, settings):
    settings.NEWSLETTER_SYNCHRONOUS_COMMIT = False
    deliveries = sending_issue_with(active(5), issue)
    assert send_batch(issue_id=issue.pk, delivery_ids=[d.pk for d in deliveries]).sent == 5
    assert set(Delivery.objects.values_list("status", flat=True)) == {"sent"}
    assert len(smtp_sink.messages) == 5
    from django.db import connection

    with connection.cursor() as cursor:  # only the batch ran without the flush wait
        cursor.execute("SHOW synchronous_commit")
        assert cursor.fetchone()[0] == "on"


def test_delivery_swept_back_after_a_crash_is_resent_with_the_same_message_id(
    issue, smtp_sink, settings
):
    [delivery] = sending_issue_with(active(1), issue)
    # A worker claimed it, recorded the Message-ID it was sending with, and died.
    sending.mark_sent_and_claim(sent=None, claim_id=delivery.pk, claim_message_id="<x@y.z>")
    Delivery.objects.filter(pk=delivery.pk).update(
        lease_until=timezone.now() - timedelta(seconds=1)
    )
    requeue_stale_deliveries()
    send_batch(issue_id=issue.pk, delivery_ids=[delivery.pk])
    delivery.refresh_from_db()
    assert delivery.status == Delivery.Status.SENT and delivery.attempts == 2
    assert delivery.message_id == "<x@y.z>"
    assert smtp_sink.messages[0].parsed()["Message-ID"] == "<x@y.z>"


def test_recipient_whose_message_cannot_be_built_fails_alone(issue, smtp_sink):
    good, bad = active(2)
    Subscriber.objects.filter(pk=bad.pk).update(email="x@example.org\r\nBcc: y@example.org")
    deliveries = sending_issue_with([bad, good], issue)
    result = send_batch(issue_id=issue.pk, delivery_ids=[d.pk for d in deliveries])
    assert (result.sent, result.failed) == (1, 1)
    assert [m.recipients for m in smtp_sink.messages] == [[good.email]]
    assert "Message not built" in Delivery.objects.get(subscriber=bad).error


@pytest.mark.parametrize("address", ["x@[127.0.0.1]", "x@[IPv6:::1]", "x@127.0.0.1"])
def test_recipient_whose_domain_is_an_ip_literal_fails_alone_with_the_reason(
    issue, smtp_sink, address
):
    # Stored by hand past the subscribe form's check: the relay would accept it.
    before, literal, after = active(3)
    Subscriber.objects.filter(pk=literal.pk).update(email=address)
    deliveries = sending_issue_with([before, literal, after], issue)

    result = send_batch(issue_id=issue.pk, delivery_ids=[d.pk for d in deliveries])

    assert (result.sent, result.failed) == (2, 1)
    assert sorted(r for m in smtp_sink.messages for r in m.recipients) == sorted(
        [before.email, after.email]
    )
    refused = Delivery.objects.get(subscriber=literal)
    assert refused.status == Delivery.Status.FAILED
    assert refused.error.startswith("Not sent: the address's domain is an IP")
    assert address.rpartition("@")[2] in refused.error
    assert refused.attempts == 0 and refused.message_id == ""
    assert Subscriber.objects.get(pk=literal.pk).status == Subscriber.Status.ACTIVE
    assert set(Delivery.objects.exclude(pk=refused.pk).values_list("status", flat=True)) == {
        Delivery.Status.SENT
    }
    finish_issue_if_done(issue=issue)
    assert "1 failed" in issue.status_changes.order_by("pk").last().note


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_batch_sends_over_several_connections_at_once_on_postgresql(smtp_sink, settings):
    settings.NEWSLETTER_SMTP_CONNECTIONS = 4
    issue = IssueFactory(number=77, title="Lanes")
    IssueItemFactory(issue=issue)
    deliveries = sending_issue_with(active(12), issue)
    smtp_sink.delay = 0.05

    result = send_batch(issue_id=issue.pk, delivery_ids=[d.pk for d in deliveries])

    assert (result.sent, result.failed) == (12, 0)
    assert smtp_sink.connections() == 4
    assert sorted(smtp_sink.recipient_counts().values()) == [1] * 12
    assert set(Delivery.objects.values_list("status", flat=True)) == {"sent"}
    assert len(set(Delivery.objects.values_list("message_id", flat=True))) == 12


def test_one_connection_inside_a_transaction(issue, smtp_sink, settings):
    # (And on SQLite, which takes one writer at a time.)
    settings.NEWSLETTER_SMTP_CONNECTIONS = 4
    deliveries = sending_issue_with(active(6), issue)

    result = send_batch(issue_id=issue.pk, delivery_ids=[d.pk for d in deliveries])

    assert result.sent == 6
    assert smtp_sink.connections() == 1
