"""Thin Celery tasks for ingestion: each loads by id and calls one function.

There are no Celery retries here: a failed poll is recorded on the source and
the source comes due again after its backoff, which is the retry.
"""

from __future__ import annotations

import logging
from functools import partial

from celery import shared_task
from django.db import transaction

from articles.ingestion import poll as ingestion
from articles.ingestion import scheduling
from articles.models import Source

logger = logging.getLogger(__name__)


@shared_task(
    acks_late=True, reject_on_worker_lost=True, time_limit=10 * 60, soft_time_limit=9 * 60
)
def source_poll_task(source_id: int) -> str:
    """Poll one source now; returns the poll status ("" if the source is gone)."""
    source = Source.objects.filter(pk=source_id).first()
    if source is None:
        return ""
    result = ingestion.poll_source(source=source)
    return result.status


@shared_task(acks_late=True, time_limit=60, soft_time_limit=50)
def sources_enqueue_due_task() -> int:
    """Periodic (beat): enqueue one poll task per due source; returns how many."""
    source_ids = scheduling.reserve_due_sources()
    for source_id in source_ids:
        transaction.on_commit(partial(source_poll_task.delay, source_id))
    if source_ids:
        logger.info("Enqueued %d due source(s)", len(source_ids))
    return len(source_ids)
