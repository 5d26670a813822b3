import pytest
from django.core import mail
from django.utils import timezone

from newsletters.models import Delivery, Issue
from newsletters.tasks import (
    deliveries_send_batch_task,
    deliveries_sweep_task,
    issues_start_scheduled_task,
)
from tests.factories import IssueFactory, SubscriberFactory

pytestmark = pytest.mark.django_db


def test_tasks_return_quietly_when_rows_are_gone():
    deliveries_send_batch_task.delay(issue_id=987654, delivery_ids=[1, 2])
    assert mail.outbox == []


def test_batch_task_sends_and_finishes_issue():
    issue = IssueFactory(status=Issue.Status.SENDING)
    delivery = Delivery.objects.create(issue=issue, subscriber=SubscriberFactory(active=True))
    deliveries_send_batch_task.delay(issue_id=issue.pk, delivery_ids=[delivery.pk])
    assert Delivery.objects.get().status == Delivery.Status.SENT
    assert Issue.objects.get(pk=issue.pk).status == Issue.Status.SENT


def test_start_scheduled_task_starts_due_issue(django_capture_on_commit_callbacks):
    issue = IssueFactory(status=Issue.Status.SCHEDULED, scheduled_at=timezone.now())
    SubscriberFactory(active=True)
    with django_capture_on_commit_callbacks(execute=True):
        issues_start_scheduled_task.delay()
    assert Issue.objects.get(pk=issue.pk).status == Issue.Status.SENT
    assert len(mail.outbox) == 1


def test_sweep_task_finishes_a_send_left_complete():
    issue = IssueFactory(status=Issue.Status.SENDING)
    Delivery.objects.create(
        issue=issue, subscriber=SubscriberFactory(active=True), status=Delivery.Status.SENT
    )
    deliveries_sweep_task.delay()
    assert Issue.objects.get(pk=issue.pk).status == Issue.Status.SENT


def test_beat_schedule_names_existing_tasks(settings):
    from digest.celery import app

    app.loader.import_default_modules()
    for entry in settings.CELERY_BEAT_SCHEDULE.values():
        if entry["task"].startswith("newsletters."):
            assert entry["task"] in app.tasks


def test_subscriber_email_task_sends_and_survives_refusals(smtp_sink):
    from newsletters.tasks import subscriber_email_send_task

    subscriber = SubscriberFactory(email="new@example.org")
    subscriber_email_send_task.delay(subscriber_id=subscriber.pk, kind="confirm")
    assert [m.recipients for m in smtp_sink.messages] == [["new@example.org"]]
    smtp_sink.script("new@example.org", "550 5.1.1 No such user", "451 4.3.0 Busy")
    subscriber_email_send_task.delay(subscriber_id=subscriber.pk, kind="confirm")
    subscriber_email_send_task.delay(subscriber_id=subscriber.pk, kind="confirm")
    assert len(smtp_sink.messages) == 1
    subscriber_email_send_task.delay(subscriber_id=987654, kind="confirm")  # gone: quiet


def test_subscriber_email_task_writes_nothing_to_a_complaint():
    from newsletters.models import Subscriber
    from newsletters.tasks import subscriber_email_send_task

    subscriber = SubscriberFactory(status=Subscriber.Status.COMPLAINED)
    subscriber_email_send_task.delay(subscriber_id=subscriber.pk, kind="confirm")
    assert mail.outbox == []
