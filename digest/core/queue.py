"""Enqueueing Celery tasks by name, after the current transaction commits.

Services name the task they want run (``"newsletters.tasks.deliveries_send_batch_task"``)
instead of importing it, so only ``tasks`` modules import task objects and no service
has to import its own app's tasks module (which imports the service back). The task
object is looked up in the Celery app's registry, so eager mode (no broker set) runs it
in-process exactly as ``task.delay`` would. Each app's ``AppConfig.ready`` imports its
tasks module, so every name is registered in web processes as well as in workers.
"""

from __future__ import annotations

from typing import Any

from celery import current_app
from django.db import transaction


class UnknownTask(LookupError):
    """No task of that name is registered (its tasks module was never imported)."""


def enqueue(task_name: str, /, *, countdown: float | None = None, **kwargs: Any) -> None:
    """Queue ``task_name(**kwargs)`` now (or run it now, in eager mode)."""
    try:
        task = current_app.tasks[task_name]
    except KeyError:
        raise UnknownTask(f"No Celery task is registered as {task_name!r}") from None
    task.apply_async(kwargs=kwargs, countdown=countdown)


def enqueue_on_commit(task_name: str, /, **kwargs: Any) -> None:
    """Queue ``task_name(**kwargs)`` once the current transaction commits (at once
    outside one), so a worker never looks for rows that are not there yet."""
    transaction.on_commit(lambda: enqueue(task_name, **kwargs))
