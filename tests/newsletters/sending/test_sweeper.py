"""The sweeper: stale claims handed back, lost tasks re-queued, issues finished."""

from datetime import timedelta

import pytest
from django.core import mail
from django.utils import timezone

from newsletters.models import Delivery, Issue
from newsletters.sending.sweeper import requeue_stale_deliveries
from tests.newsletters.sending.helpers import active, sending_issue_with

pytestmark = pytest.mark.django_db


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
