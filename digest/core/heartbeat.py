"""The worker heartbeat: written by the worker, read by the admin's status line.

Beat queues ``worker_heartbeat_task`` every ``BEAT_TICK_SECONDS`` and a worker runs it,
so a recent heartbeat means both are alive: polls and scheduled sends will run. The
worker also writes one when it starts, so the warning clears at once after ``make run``.

The rows are the truth; the admin reads the latest time through the shared cache (a
minute at most, and every new heartbeat drops the cached value), so the status line
costs the source and issue pages no query once warm.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from django.conf import settings
from django.core.cache import cache
from django.db.models import Max
from django.utils import timezone

from digest.core.models import WorkerHeartbeat

CACHE_KEY = "worker:last-heartbeat"
# Seconds a reading of the rows is reused; a new heartbeat replaces it at once anyway.
CACHE_SECONDS = 60


def record_heartbeat(*, worker: str, now: datetime | None = None) -> None:
    """Note that ``worker`` is alive now (one row per worker, updated in place)."""
    WorkerHeartbeat.objects.update_or_create(
        worker=worker[:200], defaults={"seen_at": now or timezone.now()}
    )
    cache.delete(CACHE_KEY)


def last_seen() -> datetime | None:
    """When any worker last wrote a heartbeat; None if none ever did."""
    stamp = cache.get(CACHE_KEY)
    if stamp is None:
        latest = WorkerHeartbeat.objects.aggregate(last=Max("seen_at"))["last"]
        stamp = latest.timestamp() if latest else 0.0  # 0: never seen
        cache.set(CACHE_KEY, stamp, timeout=CACHE_SECONDS)
    return datetime.fromtimestamp(stamp, tz=UTC) if stamp else None


def ago(delta: timedelta) -> str:
    """A short "how long ago": "40 s", "12 min", "3 h", "2 days"."""
    seconds = max(int(delta.total_seconds()), 0)
    if seconds < 90:
        return f"{seconds} s"
    if seconds < 90 * 60:
        return f"{round(seconds / 60)} min"
    if seconds < 36 * 3600:
        return f"{round(seconds / 3600)} h"
    return f"{round(seconds / 86400)} days"


@dataclass(frozen=True)
class WorkerStatus:
    last_seen: datetime | None
    is_stale: bool

    @property
    def message(self) -> str:
        """The admin's warning, or "" while the worker is seen regularly."""
        if not self.is_stale:
            return ""
        if self.last_seen is None:
            when = "it has never been seen"
        else:
            when = f"it was last seen {ago(timezone.now() - self.last_seen)} ago"
        return (
            f"Scheduled sends and polls need the worker: {when}. "
            "Start it with make run (or celery -A digest worker and celery -A digest beat)."
        )


def worker_status(*, now: datetime | None = None) -> WorkerStatus:
    """Whether a worker has written a heartbeat within ``WORKER_HEARTBEAT_STALE_AFTER``."""
    now = now or timezone.now()
    seen = last_seen()
    stale = seen is None or now - seen > settings.WORKER_HEARTBEAT_STALE_AFTER
    return WorkerStatus(last_seen=seen, is_stale=stale)
