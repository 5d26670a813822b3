"""Delivery state outside the send loop: counts for the admin, finishing an issue
once nothing is open, and failing or deferring one claimed delivery.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import Count, F, Q, Value
from django.db.models.functions import Coalesce, Greatest
from django.utils import timezone

from newsletters.models import Delivery, Issue
from newsletters.transitions import move_issue

OPEN_STATUSES = (Delivery.Status.PENDING, Delivery.Status.SENDING)


def retry_backoff(attempts: int) -> timedelta:
    base = settings.NEWSLETTER_RETRY_BACKOFF_SECONDS
    return timedelta(seconds=min(base * 2 ** max(attempts - 1, 0), 6 * 3600))


def mark_failed(delivery_id: int, error: str, *, from_status: str) -> bool:
    return bool(
        Delivery.objects.filter(pk=delivery_id, status=from_status).update(
            status=Delivery.Status.FAILED, error=error[:2000], updated_at=timezone.now()
        )
    )


def release_claim(delivery_id: int, error: str) -> bool:
    """Return a claimed delivery to pending without charging it the attempt its claim
    counted (the relay failed, not the recipient)."""
    return bool(release_claims([delivery_id], error))


def release_claims(delivery_ids: list[int], error: str) -> int:
    """``release_claim`` for several deliveries in one statement; how many."""
    return Delivery.objects.filter(pk__in=delivery_ids, status=Delivery.Status.SENDING).update(
        status=Delivery.Status.PENDING,
        attempts=Greatest(F("attempts") - 1, Value(0)),
        claimed_at=None,
        error=error[:2000],
        updated_at=timezone.now(),
    )


def postpone_pending(delivery_ids: list[int], *, until: datetime) -> int:
    """Hold the pending deliveries among ``delivery_ids`` until ``until`` (a relay pause):
    no batch or sweep takes them earlier. Returns how many."""
    return Delivery.objects.filter(pk__in=delivery_ids, status=Delivery.Status.PENDING).update(
        next_attempt_at=until
    )


def defer_delivery(delivery: Delivery, error: str) -> timedelta | None:
    """Return a claimed delivery to pending with a later next_attempt_at, or fail it
    after NEWSLETTER_MAX_ATTEMPTS. Returns the wait, or None if it failed."""
    attempts = delivery.attempts + 1  # the claim incremented it in the database
    if attempts >= settings.NEWSLETTER_MAX_ATTEMPTS:
        mark_failed(
            delivery.pk,
            f"Gave up after {attempts} attempts: {error}",
            from_status=Delivery.Status.SENDING,
        )
        return None
    wait = retry_backoff(attempts)
    now = timezone.now()
    Delivery.objects.filter(pk=delivery.pk, status=Delivery.Status.SENDING).update(
        status=Delivery.Status.PENDING,
        next_attempt_at=now + wait,
        claimed_at=None,
        error=error[:2000],
        updated_at=now,
    )
    return wait


def delivery_counts(issue: Issue) -> dict[str, int]:
    """{'pending', 'sending', 'sent', 'failed', 'total'} for the admin; one query."""
    counts = Delivery.objects.filter(issue_id=issue.pk).aggregate(
        **{status.value: Count("pk", filter=Q(status=status.value)) for status in Delivery.Status},
        total=Count("pk"),
    )
    return {key: int(value or 0) for key, value in counts.items()}


def finish_issue_if_done(*, issue: Issue) -> bool:
    """Mark a sending issue sent once every delivery is sent or failed.

    Conditional UPDATE; records an ``IssueStatusChange``. Returns True only for
    the call that made the change.
    """
    if Delivery.objects.filter(issue_id=issue.pk, status__in=OPEN_STATUSES).exists():
        return False
    now = timezone.now()
    with transaction.atomic():
        counts = delivery_counts(issue)
        moved = move_issue(
            issue_id=issue.pk,
            from_statuses=[Issue.Status.SENDING],
            to_status=Issue.Status.SENT,
            note=f"{counts['sent']} sent, {counts['failed']} failed",
            # A retry of failed deliveries keeps the date the issue first went out.
            sent_at=Coalesce(F("sent_at"), Value(now)),
        )
        if moved is None:
            return False
    issue.refresh_from_db(fields=["status", "sent_at"])
    return True
