"""The periodic sweep (every 30 s): take over deliveries whose batch lease ran out, and
finish issues with nothing left open.

A lease runs out when the worker holding it died (SIGKILL, OOM, a lost host) or when a
queued task message was lost (a broker restarted empty). Deliveries merely waiting for
a retry (``next_attempt_at`` ahead, or a relay pause) keep their task's lease and are left
alone, so nothing is claimed twice and no attempt is burnt.
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

    Deliveries in 'sending' whose lease ran out go back to pending (their message may
    have been on the wire: the one possible duplicate per dead pool child, sent again
    with its first Message-ID). Due pending deliveries whose lease ran out (or that
    never got one: the enqueue after commit failed) are queued again in batches, each
    with a fresh queued lease. A second task for a delivery is harmless: claims are
    conditional. Sending issues with nothing left open are finished.
    """
    now = timezone.now()
    expired = Q(lease_until__isnull=True) | Q(lease_until__lt=now)
    reclaimed = Delivery.objects.filter(
        expired, status=Delivery.Status.SENDING, issue__status=Issue.Status.SENDING
    ).update(
        status=Delivery.Status.PENDING,
        claimed_at=None,
        lease_until=None,
        claimed_by="",
        error="Claimed by a worker that stopped; sent again.",
        updated_at=now,
    )
    requeued = 0
    finished = 0
    for issue in Issue.objects.filter(status=Issue.Status.SENDING):
        if issue.relay_retry_at is not None and issue.relay_retry_at > now:
            continue  # paused for the relay: its batch tasks come back by themselves
        ids = list(
            Delivery.objects.filter(expired, issue_id=issue.pk, status=Delivery.Status.PENDING)
            .filter(Q(next_attempt_at__isnull=True) | Q(next_attempt_at__lte=now))
            .order_by("pk")
            .values_list("pk", flat=True)
        )
        if ids:
            size = settings.NEWSLETTER_BATCH_SIZE
            batches = [ids[i : i + size] for i in range(0, len(ids), size)]
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
