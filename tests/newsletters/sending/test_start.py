"""Starting a send: the audience, idempotence, batches after commit, scheduled issues."""

import pytest
from django.core import mail
from django.utils import timezone

from newsletters.models import Delivery, Issue, IssueStatusChange, Subscriber
from newsletters.sending.start import (
    IssueNotSendable,
    begin_issue_send,
    start_due_scheduled_issues,
)
from tests.factories import (
    IssueFactory,
    SubscriberFactory,
)
from tests.newsletters.sending.helpers import active

pytestmark = pytest.mark.django_db


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


def test_start_due_scheduled_issues_starts_only_due_ones(django_capture_on_commit_callbacks):
    due = IssueFactory(status=Issue.Status.SCHEDULED, scheduled_at=timezone.now())
    future = IssueFactory(status=Issue.Status.SCHEDULED)
    active(2)
    with django_capture_on_commit_callbacks(execute=True):
        started = start_due_scheduled_issues()
    assert started == [due.pk]
    assert Issue.objects.get(pk=due.pk).status == Issue.Status.SENT
    assert Issue.objects.get(pk=future.pk).status == Issue.Status.SCHEDULED
    assert len(mail.outbox) == 2
