"""Models shared by the apps: the timestamped base model and the worker heartbeat."""

from django.db import models


class TimestampedModel(models.Model):
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        abstract = True


class WorkerHeartbeat(models.Model):
    """When a Celery worker last ran the heartbeat task (one row per worker name).

    In the database, not in process memory or a per-process cache, so the web process
    sees what the worker wrote, on one machine or many.
    """

    worker = models.CharField(max_length=200, unique=True, help_text="Celery worker name.")
    seen_at = models.DateTimeField(db_index=True)

    class Meta:
        verbose_name = "worker heartbeat"

    def __str__(self) -> str:
        return f"{self.worker} seen {self.seen_at:%Y-%m-%d %H:%M:%S}"
