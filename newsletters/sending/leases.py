"""Batch leases: who owns an open delivery, and until when.

A queued batch task owns its deliveries for ``NEWSLETTER_QUEUED_LEASE_SECONDS`` past the
time it is due to run; a running batch takes them for ``NEWSLETTER_LEASE_SECONDS`` and
renews that while it sends. A delivery whose lease has run out belongs to nobody: its
worker died, or its task message was lost (a broker restarted empty), and the sweeper
takes it over. Deliveries waiting for a retry keep their task's lease, so they are never
queued twice.
"""

from __future__ import annotations

import os
import socket
from collections.abc import Iterable
from datetime import datetime, timedelta

from django.conf import settings
from django.utils import timezone

from newsletters.models import Delivery

OPEN = (Delivery.Status.PENDING, Delivery.Status.SENDING)


def worker_name() -> str:
    """This process, as the ``claimed_by`` of the deliveries its batches hold."""
    return f"{socket.gethostname()}:{os.getpid()}"


def lease_queued(delivery_ids: Iterable[int], *, countdown: float = 0.0) -> int:
    """A batch task for ``delivery_ids`` was just queued to run in ``countdown`` seconds:
    its pending deliveries belong to it until then plus the queued lease."""
    until = timezone.now() + timedelta(
        seconds=countdown + settings.NEWSLETTER_QUEUED_LEASE_SECONDS
    )
    return Delivery.objects.filter(
        pk__in=list(delivery_ids), status=Delivery.Status.PENDING
    ).update(lease_until=until, claimed_by="")


def take_lease(delivery_ids: Iterable[int], *, owner: str) -> datetime:
    """A running batch takes (or renews) the lease of its open deliveries; returns the
    new end of the lease."""
    until = timezone.now() + timedelta(seconds=settings.NEWSLETTER_LEASE_SECONDS)
    Delivery.objects.filter(pk__in=list(delivery_ids), status__in=OPEN).update(
        lease_until=until, claimed_by=owner
    )
    return until


def renew_every() -> float:
    """Seconds between two renewals of a running batch's lease: a third of it, so one
    slow message or a busy database never lets it run out."""
    return settings.NEWSLETTER_LEASE_SECONDS / 3
