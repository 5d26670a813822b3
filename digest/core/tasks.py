"""Thin Celery tasks of the core app: the worker heartbeat."""

from __future__ import annotations

import logging
import socket

from celery import shared_task
from celery.signals import worker_ready
from django.db import DatabaseError, connection

from digest.core.heartbeat import record_heartbeat

logger = logging.getLogger(__name__)


@shared_task(bind=True, ignore_result=True, time_limit=30, soft_time_limit=20)
def worker_heartbeat_task(self) -> None:
    """Periodic (beat): record that a worker ran this, for the admin's status line."""
    record_heartbeat(worker=self.request.hostname or socket.gethostname())


@worker_ready.connect
def _record_heartbeat_on_start(sender=None, **kwargs) -> None:
    """A worker that has just started is seen at once, before beat's first tick."""
    try:
        record_heartbeat(worker=getattr(sender, "hostname", "") or socket.gethostname())
    except DatabaseError as error:  # e.g. migrations not applied yet
        logger.warning("Could not record the worker heartbeat: %s", error)
    finally:
        # The main process takes no tasks: leave no connection open for the pool to inherit.
        connection.close()
