"""Thin Celery tasks for sending: each loads by id and calls one function."""

from __future__ import annotations

import logging

from celery import shared_task
from django.db import InterfaceError
from django.db import OperationalError as DatabaseOperationalError
from kombu.exceptions import OperationalError as BrokerOperationalError

from newsletters.models import Issue, Subscriber
from newsletters.sending.batch import send_batch
from newsletters.sending.deliveries import finish_issue_if_done
from newsletters.sending.leases import lease_queued
from newsletters.sending.smtp_errors import classify_smtp_error
from newsletters.sending.start import start_due_scheduled_issues
from newsletters.sending.sweeper import requeue_stale_deliveries
from newsletters.subscribers.services import send_subscriber_email

logger = logging.getLogger(__name__)


# Retries for recipient-level temporary failures; past them the sweeper takes over. A
# relay pause retries without limit: it charges nobody, and an outage may last hours.
SEND_BATCH_MAX_RETRIES = 20


# A database or broker outage: the task is retried with backoff rather than dropped
# (an acknowledged task that failed would otherwise wait for the sweeper).
TRANSIENT_ERRORS = (DatabaseOperationalError, InterfaceError, BrokerOperationalError)


@shared_task(
    bind=True,
    acks_late=True,
    reject_on_worker_lost=True,
    max_retries=None,
    autoretry_for=TRANSIENT_ERRORS,
    retry_backoff=2,
    retry_backoff_max=60,
    retry_jitter=True,
)
def deliveries_send_batch_task(self, issue_id: int, delivery_ids: list[int]) -> None:
    """Send one batch; come back later for deliveries that hit temporary errors, and
    for the whole batch while the mail server is failing (a relay pause)."""
    result = send_batch(issue_id=issue_id, delivery_ids=delivery_ids)
    issue = Issue.objects.filter(pk=issue_id).first()
    if issue is not None:
        finish_issue_if_done(issue=issue)
    if not result.retry_ids or self.request.is_eager:
        return
    if not result.paused and self.request.retries >= SEND_BATCH_MAX_RETRIES:
        return  # the periodic sweeper picks the deliveries up again
    countdown = max(result.retry_in, 1)
    # The retry owns them until it runs: the sweeper leaves them alone meanwhile.
    lease_queued(result.retry_ids, countdown=countdown)
    raise self.retry(
        kwargs={"issue_id": issue_id, "delivery_ids": result.retry_ids}, countdown=countdown
    )


@shared_task(acks_late=True)
def deliveries_sweep_task() -> None:
    """Periodic: recover deliveries orphaned by dead workers or lost task messages."""
    requeue_stale_deliveries()


@shared_task(acks_late=True)
def issues_start_scheduled_task() -> None:
    """Periodic: start every scheduled issue whose time has come."""
    start_due_scheduled_issues()


@shared_task(bind=True, acks_late=True, max_retries=6)
def subscriber_email_send_task(
    self, subscriber_id: int, kind: str, topic_ids: list[int] | None = None
) -> None:
    """Send a subscriber's confirmation link or note; retry temporary SMTP trouble."""
    subscriber = Subscriber.objects.filter(pk=subscriber_id).first()
    if subscriber is None:
        return
    try:
        send_subscriber_email(subscriber=subscriber, kind=kind, topic_ids=topic_ids)
    except OSError as error:  # smtplib's errors and network errors
        failure = classify_smtp_error(error)
        if not failure.temporary or self.request.is_eager:
            logger.warning("Could not send the %s email to %s: %s", kind, subscriber, error)
            return
        raise self.retry(countdown=60 * 2**self.request.retries) from error
