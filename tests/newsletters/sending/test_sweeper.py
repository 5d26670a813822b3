"""The sweeper: expired leases taken over, lost tasks re-queued, retries left to wait,
issues finished."""

from datetime import timedelta

import pytest
from django.core import mail
from django.utils import timezone

from newsletters.models import Delivery, Issue
from newsletters.sending.batch import send_batch
from newsletters.sending.start import enqueue_batches
from newsletters.sending.sweeper import requeue_stale_deliveries
from tests.newsletters.sending.helpers import active, sending_issue_with

pytestmark = pytest.mark.django_db


def ago(**kwargs):
    return timezone.now() - timedelta(**kwargs)


def ahead(**kwargs):
    return timezone.now() + timedelta(**kwargs)


def test_sweeper_returns_sending_with_an_expired_lease_to_pending_and_sends_it(
    issue, django_capture_on_commit_callbacks
):
    dead, alive = sending_issue_with(active(2), issue)
    Delivery.objects.filter(pk=dead.pk).update(status="sending", lease_until=ago(seconds=1))
    Delivery.objects.filter(pk=alive.pk).update(status="sending", lease_until=ahead(seconds=20))

    with django_capture_on_commit_callbacks(execute=True):
        result = requeue_stale_deliveries()

    assert result.reclaimed == 1 and result.requeued == 1
    assert [m.to for m in mail.outbox] == [[dead.subscriber.email]]
    assert Delivery.objects.get(pk=alive.pk).status == "sending"


def test_sweeper_requeues_pending_deliveries_whose_task_was_lost_at_once(
    issue, django_capture_on_commit_callbacks
):
    # No need for the whole send to stall: another batch is busy right now.
    lost, never_queued, busy = sending_issue_with(active(3), issue)
    Delivery.objects.filter(pk=lost.pk).update(lease_until=ago(seconds=1))
    Delivery.objects.filter(pk=busy.pk).update(
        status="sending", lease_until=ahead(seconds=25), updated_at=timezone.now()
    )

    with django_capture_on_commit_callbacks(execute=True):
        result = requeue_stale_deliveries()

    assert result.requeued == 2
    assert sorted(m.to[0] for m in mail.outbox) == sorted(
        [lost.subscriber.email, never_queued.subscriber.email]
    )


def test_sweeper_leaves_queued_and_retry_waiting_deliveries_alone(
    issue, settings, django_capture_on_commit_callbacks
):
    queued, waiting_retry, lease_gone_but_not_due = sending_issue_with(active(3), issue)
    Delivery.objects.filter(pk=queued.pk).update(lease_until=ahead(seconds=90))
    Delivery.objects.filter(pk=waiting_retry.pk).update(
        next_attempt_at=ahead(minutes=4), lease_until=ahead(minutes=6)
    )
    Delivery.objects.filter(pk=lease_gone_but_not_due.pk).update(
        next_attempt_at=ahead(minutes=4), lease_until=ago(seconds=1)
    )

    with django_capture_on_commit_callbacks(execute=True):
        assert requeue_stale_deliveries().requeued == 0
    assert mail.outbox == []


def test_sweeper_leaves_a_send_paused_for_the_relay_alone(
    issue, django_capture_on_commit_callbacks
):
    sending_issue_with(active(2), issue)
    Issue.objects.filter(pk=issue.pk).update(
        relay_paused_since=ago(minutes=3), relay_retry_at=ahead(seconds=40)
    )

    with django_capture_on_commit_callbacks(execute=True):
        assert requeue_stale_deliveries().requeued == 0
    assert mail.outbox == []


def test_a_queued_batch_is_left_to_its_task_until_its_queued_lease_runs_out(
    issue, settings, monkeypatch, django_capture_on_commit_callbacks
):
    # The task message sits in the broker (nothing runs it here): while its queued lease
    # holds, the sweeper must not queue the deliveries a second time; once the lease has
    # run out (the message was lost), it must.
    settings.NEWSLETTER_QUEUED_LEASE_SECONDS = 120
    queued: list[list[int]] = []
    monkeypatch.setattr(
        "newsletters.sending.start.enqueue",
        lambda name, *, issue_id, delivery_ids: queued.append(delivery_ids),
    )
    ids = sorted(d.pk for d in sending_issue_with(active(2), issue))

    enqueue_batches(issue_id=issue.pk, batches=[ids])
    assert queued == [ids]
    for lease_until in Delivery.objects.values_list("lease_until", flat=True):
        assert ahead(seconds=115) < lease_until <= ahead(seconds=121)

    with django_capture_on_commit_callbacks(execute=True):
        assert requeue_stale_deliveries().requeued == 0
    assert queued == [ids]

    Delivery.objects.update(lease_until=ago(seconds=1))  # 120 s later, no task ran
    with django_capture_on_commit_callbacks(execute=True):
        assert requeue_stale_deliveries().requeued == 2
    assert queued == [ids, ids]


def test_running_batch_takes_a_lease_in_its_own_name(issue, settings):
    settings.NEWSLETTER_LEASE_SECONDS = 30
    deliveries = sending_issue_with(active(1), issue)
    Delivery.objects.update(next_attempt_at=None)
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"

    send_batch(issue_id=issue.pk, delivery_ids=[d.pk for d in deliveries])

    delivery = Delivery.objects.get()
    assert delivery.status == "sent"
    assert ":" in delivery.claimed_by
    assert ahead(seconds=20) < delivery.lease_until <= ahead(seconds=31)


def test_sweeper_finishes_issue_with_nothing_open(issue):
    sending_issue_with(active(1), issue)
    Delivery.objects.update(status="sent")
    assert requeue_stale_deliveries().finished == 1
    assert Issue.objects.get(pk=issue.pk).status == Issue.Status.SENT
