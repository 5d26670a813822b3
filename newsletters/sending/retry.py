"""Retrying an issue's failed deliveries: back to pending, the issue back to sending.

Safe to press twice: the failed deliveries move in one conditional UPDATE, so a second
press (or a second editor) finds none left and changes nothing; and a delivery sent in
the meantime is never touched. The issue keeps its ``sent_at``, so its web page stays
published while the retry runs.
"""

from __future__ import annotations

from django.db import transaction
from django.db.models import F, Value
from django.db.models.functions import Concat, Left
from django.utils import timezone

from newsletters.models import Delivery, Issue
from newsletters.sending.start import enqueue_batches, pending_batches
from newsletters.transitions import move_issue


def retry_failed_deliveries(*, issue: Issue, user=None) -> int:
    """Put every failed delivery of a sent (or sending) ``issue`` back to pending with its
    attempts reset, move the issue back to sending, and queue the batches after commit.
    Returns how many deliveries will be tried again (0: nothing changed)."""
    with transaction.atomic():
        retried = Delivery.objects.filter(
            issue_id=issue.pk,
            status=Delivery.Status.FAILED,
            issue__status__in=[Issue.Status.SENT, Issue.Status.SENDING],
        ).update(
            status=Delivery.Status.PENDING,
            attempts=0,
            next_attempt_at=None,
            claimed_at=None,
            error=Left(Concat(Value("Retried after: "), F("error")), 2000),
            updated_at=timezone.now(),
        )
        if not retried:
            return 0
        move_issue(
            issue_id=issue.pk,
            from_statuses=[Issue.Status.SENT],
            to_status=Issue.Status.SENDING,
            user=user,
            note=f"Retrying {retried} failed deliveries",
        )
        batches = pending_batches(issue_id=issue.pk)
        transaction.on_commit(lambda: enqueue_batches(issue_id=issue.pk, batches=batches))
    issue.refresh_from_db()
    return retried
