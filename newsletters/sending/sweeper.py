"""The periodic sweep: hand back deliveries a stopped worker held, re-queue pending
deliveries whose task was lost, and finish issues with nothing left open.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from newsletters.models import Delivery, Issue
from newsletters.sending.deliveries import finish_issue_if_done
from newsletters.sending.start import enqueue_batches

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class SweepResult:
    reclaimed: int
    requeued: int
    finished: int


def requeue_stale_deliveries() -> SweepResult:
    """Recover from lost workers and lost task messages.

    Deliveries left in 'sending' longer than ``NEWSLETTER_STALE_AFTER`` go back to
    pending (their message may have been on the wire: the one possible duplicate).
    When no delivery of an issue has moved for that long either, its due pending
    deliveries lost their task messages and are enqueued again (a second task for
    a delivery is harmless: claims are conditional). Sending issues with nothing
    left open are finished.
    """
    now = timezone.now()
    cutoff = now - settings.NEWSLETTER_STALE_AFTER
    stale = Delivery.objects.filter(
        status=Delivery.Status.SENDING, claimed_at__lt=cutoff, issue__status=Issue.Status.SENDING
    )
    reclaimed_ids = list(stale.values_list("pk", flat=True))
    reclaimed = 0
    if reclaimed_ids:
        reclaimed = Delivery.objects.filter(
            pk__in=reclaimed_ids, status=Delivery.Status.SENDING, claimed_at__lt=cutoff
        ).update(
            status=Delivery.Status.PENDING,
            claimed_at=None,
            error="Claimed by a worker that stopped; sent again.",
            updated_at=now,
        )
    requeued = 0
    finished = 0
    for issue in Issue.objects.filter(status=Issue.Status.SENDING):
        due = (
            Delivery.objects.filter(issue_id=issue.pk, status=Delivery.Status.PENDING)
            .filter(Q(next_attempt_at__isnull=True) | Q(next_attempt_at__lte=now))
            .order_by("pk")
        )
        # While workers are visibly getting through the queue, leave the queued tasks
        # alone and only hand back what a dead worker held; once activity stops, any
        # delivery still pending lost its task and is queued again.
        progressing = (
            Delivery.objects.filter(issue_id=issue.pk, updated_at__gte=cutoff)
            .exclude(pk__in=reclaimed_ids)
            .exists()
        )
        if progressing:
            due = due.filter(pk__in=reclaimed_ids)
        else:
            due = due.filter(Q(updated_at__lt=cutoff) | Q(pk__in=reclaimed_ids))
        ids = list(due.values_list("pk", flat=True))
        if ids:
            size = settings.NEWSLETTER_BATCH_SIZE
            batches = [ids[i : i + size] for i in range(0, len(ids), size)]
            # Touch them so the next sweep leaves them to the tasks just queued.
            Delivery.objects.filter(pk__in=ids, status=Delivery.Status.PENDING).update(
                updated_at=now
            )
            transaction.on_commit(
                lambda issue_id=issue.pk, batches=batches: enqueue_batches(
                    issue_id=issue_id, batches=batches
                )
            )
            requeued += len(ids)
        elif finish_issue_if_done(issue=issue):
            finished += 1
    if reclaimed or requeued:
        logger.info("Sweeper: %s reclaimed, %s re-enqueued", reclaimed, requeued)
    return SweepResult(reclaimed=reclaimed, requeued=requeued, finished=finished)
