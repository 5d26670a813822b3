import time
from datetime import timedelta
from unittest import mock

import pytest
from django.core import mail
from django.utils import timezone

from newsletters import rendering
from newsletters.models import Delivery, Issue, IssueStatusChange, Subscriber
from newsletters.sending import batch as sending
from newsletters.sending.batch import (
    IssueNotSendable,
    begin_issue_send,
    delivery_counts,
    finish_issue_if_done,
    requeue_stale_deliveries,
    send_batch,
    send_test_copy,
)
from newsletters.subscribers.services import InvalidAddress
from tests.factories import (
    ArticleFactory,
    DeliveryFactory,
    IssueFactory,
    IssueItemFactory,
    SubscriberFactory,
    TopicFactory,
)

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _fresh_render_cache():
    sending._render_cache.clear()
    yield
    sending._render_cache.clear()


@pytest.fixture
def issue():
    issue = IssueFactory(number=12, title="Chips and rules")
    IssueItemFactory(issue=issue, headline="Export controls tighten")
    return issue


def active(n, **kwargs):
    return [SubscriberFactory(active=True, **kwargs) for _ in range(n)]


def sending_issue_with(subscribers, issue):
    Issue.objects.filter(pk=issue.pk).update(status=Issue.Status.SENDING)
    issue.refresh_from_db()
    return [DeliveryFactory(issue=issue, subscriber=s) for s in subscribers]


# ------------------------------------------------------------------- start


def test_begin_send_fixes_audience_of_receiving_subscribers_only(issue, admin_user):
    receiving = active(3)
    SubscriberFactory()  # pending confirmation
    SubscriberFactory(active=True, is_paused=True)
    SubscriberFactory(active=True, status=Subscriber.Status.UNSUBSCRIBED)
    SubscriberFactory(active=True, status=Subscriber.Status.BOUNCED)
    SubscriberFactory(active=True, status=Subscriber.Status.COMPLAINED)
    start = begin_issue_send(issue=issue, user=admin_user, enqueue=False)
    assert start.deliveries == 3
    assert set(Delivery.objects.values_list("subscriber_id", flat=True)) == {
        s.pk for s in receiving
    }
    assert Delivery.objects.filter(status=Delivery.Status.PENDING).count() == 3
    issue.refresh_from_db()
    assert issue.status == Issue.Status.SENDING
    assert issue.send_started_at is not None
    change = IssueStatusChange.objects.get(issue=issue)
    assert (change.from_status, change.to_status, change.changed_by) == (
        "draft",
        "sending",
        admin_user,
    )


def test_begin_send_twice_changes_nothing(issue):
    active(2)
    begin_issue_send(issue=issue, enqueue=False)
    SubscriberFactory(active=True)  # arrives after the audience was fixed
    with pytest.raises(IssueNotSendable, match="sending"):
        begin_issue_send(issue=Issue.objects.get(pk=issue.pk), enqueue=False)
    assert Delivery.objects.count() == 2
    assert IssueStatusChange.objects.count() == 1


def test_begin_send_of_scheduled_issue_records_from_scheduled():
    issue = IssueFactory(status=Issue.Status.SCHEDULED)
    begin_issue_send(issue=issue, enqueue=False)
    assert IssueStatusChange.objects.get().from_status == "scheduled"


def test_begin_send_enqueues_batches_after_commit_and_finishes(
    issue, smtp_sink, settings, django_capture_on_commit_callbacks
):
    settings.NEWSLETTER_BATCH_SIZE = 4
    subscribers = active(10)
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        start = begin_issue_send(issue=issue)
    assert [len(b) for b in start.batches] == [4, 4, 2]
    assert smtp_sink.messages == []  # nothing goes out before the commit
    for callback in callbacks:
        callback()
    assert smtp_sink.recipient_counts() == {s.email: 1 for s in subscribers}
    assert smtp_sink.connections() == 3  # one connection per batch
    issue.refresh_from_db()
    assert issue.status == Issue.Status.SENT
    assert issue.sent_at is not None
    assert IssueStatusChange.objects.filter(to_status="sent").count() == 1


# ------------------------------------------------------------------ batches


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


def test_closed_connection_stops_batch_and_leaves_the_rest_pending(issue, smtp_sink):
    subscribers = active(4)
    deliveries = sending_issue_with(subscribers, issue)
    smtp_sink.script(subscribers[1].email, "421 4.4.2 Closing connection")
    result = send_batch(issue_id=issue.pk, delivery_ids=[d.pk for d in deliveries])
    assert result.sent == 1
    assert result.retry_ids == [d.pk for d in deliveries[1:]]
    statuses = list(Delivery.objects.order_by("pk").values_list("status", "attempts"))
    assert statuses == [("sent", 1), ("pending", 1), ("pending", 0), ("pending", 0)]


def test_unreachable_server_is_temporary(issue, settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT, settings.EMAIL_TIMEOUT = "127.0.0.1", 9, 2
    deliveries = sending_issue_with(active(2), issue)
    result = send_batch(issue_id=issue.pk, delivery_ids=[d.pk for d in deliveries])
    assert result.sent == 0 and result.failed == 0
    assert sorted(result.retry_ids) == sorted(d.pk for d in deliveries)
    assert set(Delivery.objects.values_list("status", flat=True)) == {"pending"}


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
        sending, "render_issue_email", wraps=rendering.render_issue_email
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
    with django_assert_max_num_queries(6 + 20):
        result = send_batch(issue_id=issue.pk, delivery_ids=[d.pk for d in deliveries])
    assert result.sent == 20


# ----------------------------------------------------------------- finishing


def test_delivery_counts_and_finish(issue):
    deliveries = sending_issue_with(active(4), issue)
    Delivery.objects.filter(pk=deliveries[0].pk).update(status=Delivery.Status.SENT)
    Delivery.objects.filter(pk=deliveries[1].pk).update(status=Delivery.Status.FAILED)
    Delivery.objects.filter(pk=deliveries[2].pk).update(status=Delivery.Status.SENDING)
    assert delivery_counts(issue) == {
        "pending": 1,
        "sending": 1,
        "sent": 1,
        "failed": 1,
        "total": 4,
    }
    assert finish_issue_if_done(issue=issue) is False
    Delivery.objects.filter(status__in=["pending", "sending"]).update(status="sent")
    assert finish_issue_if_done(issue=issue) is True
    assert finish_issue_if_done(issue=issue) is False
    issue.refresh_from_db()
    assert issue.status == Issue.Status.SENT
    assert IssueStatusChange.objects.get().note == "3 sent, 1 failed"


def test_sweeper_returns_stale_sending_to_pending_and_sends_it(
    issue, settings, django_capture_on_commit_callbacks
):
    settings.NEWSLETTER_STALE_AFTER = timedelta(minutes=10)
    stale, fresh = sending_issue_with(active(2), issue)
    Delivery.objects.filter(pk=stale.pk).update(
        status="sending", claimed_at=timezone.now() - timedelta(minutes=11)
    )
    Delivery.objects.filter(pk=fresh.pk).update(status="sending", claimed_at=timezone.now())
    with django_capture_on_commit_callbacks(execute=True):
        result = requeue_stale_deliveries()
    assert result.reclaimed == 1 and result.requeued == 1
    assert [m.to for m in mail.outbox] == [[stale.subscriber.email]]
    assert Delivery.objects.get(pk=fresh.pk).status == "sending"


def test_sweeper_requeues_forgotten_pending_deliveries_once_the_send_stalls(
    issue, settings, django_capture_on_commit_callbacks
):
    settings.NEWSLETTER_STALE_AFTER = timedelta(minutes=10)
    forgotten, done, later = sending_issue_with(active(3), issue)
    long_ago = timezone.now() - timedelta(minutes=30)
    Delivery.objects.filter(pk=done.pk).update(status="sent", updated_at=long_ago)
    Delivery.objects.filter(pk__in=[forgotten.pk, later.pk]).update(updated_at=long_ago)
    Delivery.objects.filter(pk=later.pk).update(
        next_attempt_at=timezone.now() + timedelta(minutes=5)
    )
    with django_capture_on_commit_callbacks(execute=True):
        result = requeue_stale_deliveries()
    assert result.requeued == 1
    assert [m.to for m in mail.outbox] == [[forgotten.subscriber.email]]


def test_sweeper_leaves_queued_deliveries_alone_while_the_send_progresses(
    issue, settings, django_capture_on_commit_callbacks
):
    settings.NEWSLETTER_STALE_AFTER = timedelta(minutes=10)
    queued, just_sent = sending_issue_with(active(2), issue)
    Delivery.objects.filter(pk=queued.pk).update(updated_at=timezone.now() - timedelta(hours=1))
    Delivery.objects.filter(pk=just_sent.pk).update(status="sent", updated_at=timezone.now())
    with django_capture_on_commit_callbacks(execute=True):
        assert requeue_stale_deliveries().requeued == 0
    assert mail.outbox == []


def test_sweeper_finishes_issue_with_nothing_open(issue):
    sending_issue_with(active(1), issue)
    Delivery.objects.update(status="sent")
    assert requeue_stale_deliveries().finished == 1
    assert Issue.objects.get(pk=issue.pk).status == Issue.Status.SENT


def test_start_due_scheduled_issues_starts_only_due_ones(django_capture_on_commit_callbacks):
    due = IssueFactory(status=Issue.Status.SCHEDULED, scheduled_at=timezone.now())
    future = IssueFactory(status=Issue.Status.SCHEDULED)
    active(2)
    with django_capture_on_commit_callbacks(execute=True):
        started = sending.start_due_scheduled_issues()
    assert started == [due.pk]
    assert Issue.objects.get(pk=due.pk).status == Issue.Status.SENT
    assert Issue.objects.get(pk=future.pk).status == Issue.Status.SCHEDULED
    assert len(mail.outbox) == 2


# ----------------------------------------------------------------- test copy


def test_test_copy_goes_to_one_address_and_touches_no_delivery(issue, smtp_sink):
    active(2)
    message_id = send_test_copy(issue=issue, email="editor@example.org")
    [recorded] = smtp_sink.messages
    message = recorded.parsed()
    assert recorded.recipients == ["editor@example.org"]
    assert message["Message-ID"] == message_id
    assert message["Subject"].startswith("[Test] Weekly #12")
    assert Delivery.objects.count() == 0
    assert Issue.objects.get(pk=issue.pk).status == Issue.Status.DRAFT


def test_test_copy_refuses_header_injection(issue):
    with pytest.raises(InvalidAddress):
        send_test_copy(issue=issue, email="a@b.c\r\nBcc: x@y.z")
    assert mail.outbox == []


# ------------------------------------------------------------------ the MIME


def _prepared(**overrides):
    from newsletters.rendering import PersonalMessage

    fields = {
        "to": "reader@example.org",
        "subject": "Weekly #3 – Über alles",
        "html": "<p>Grüße</p>\n<p>second line</p>",
        "text": "Grüße\nsecond line\n",
        "headers": {"List-Unsubscribe": "<https://x.example/u/1/>"},
        "unsubscribe_url": "https://x.example/u/1/",
        "preferences_url": "https://x.example/p/1/",
    }
    fields.update(overrides)
    return sending.build_email(message=PersonalMessage(**fields), message_id="<m1@example.org>")


def parse(email_message):
    import email as email_lib
    import email.policy

    return email_lib.message_from_bytes(
        email_message.message().as_bytes(linesep="\r\n"), policy=email.policy.default
    )


def test_prepared_email_parses_as_the_same_message():
    message = parse(_prepared())
    assert message["Subject"] == "Weekly #3 – Über alles"
    assert message["To"] == "reader@example.org"
    assert message["Message-ID"] == "<m1@example.org>"
    assert message["List-Unsubscribe"] == "<https://x.example/u/1/>"
    plain = message.get_body(("plain",)).get_content()
    assert plain.replace("\r\n", "\n") == "Grüße\nsecond line\n"
    assert "<p>Grüße</p>" in message.get_body(("html",)).get_content()


def test_prepared_email_uses_base64_for_overlong_lines():
    long_line = "word " * 400
    email_message = _prepared(html=f"<p>{long_line}</p>")
    raw = email_message.message().as_bytes(linesep="\r\n")
    assert max(len(line) for line in raw.split(b"\r\n")) <= 998
    assert long_line in parse(email_message).get_body(("html",)).get_content()


def test_prepared_email_refuses_line_breaks_in_headers():
    from django.core.mail import BadHeaderError

    with pytest.raises(BadHeaderError):
        _prepared(headers={"List-Unsubscribe": "<https://x>\r\nBcc: x@y.z"}).message()
    with pytest.raises(BadHeaderError):
        _prepared(subject="Hello\r\nBcc: x@y.z").message()


def test_each_delivery_is_marked_sent_before_the_next_message_goes(issue, smtp_sink):
    deliveries = sending_issue_with(active(3), issue)
    seen = []
    real_send = sending._mark_sent_and_claim

    def spy(**kwargs):
        result = real_send(**kwargs)
        seen.append(dict(Delivery.objects.values_list("pk", "status")))
        return result

    with mock.patch.object(sending, "_mark_sent_and_claim", spy):
        send_batch(issue_id=issue.pk, delivery_ids=[d.pk for d in deliveries])
    first, second, third = (d.pk for d in deliveries)
    # Before each send only the delivery being sent is 'sending'; earlier ones are sent.
    assert seen[0] == {first: "sending", second: "pending", third: "pending"}
    assert seen[1] == {first: "sent", second: "sending", third: "pending"}
    assert seen[2] == {first: "sent", second: "sent", third: "sending"}
    assert seen[3] == {first: "sent", second: "sent", third: "sent"}


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
    sending._mark_sent_and_claim(sent=None, claim_id=delivery.pk, claim_message_id="<x@y.z>")
    Delivery.objects.filter(pk=delivery.pk).update(claimed_at=timezone.now() - timedelta(hours=1))
    settings.NEWSLETTER_STALE_AFTER = timedelta(minutes=10)
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
