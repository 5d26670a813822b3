"""When sources are polled: due sources, the one-poll-at-a-time claim, backoff.

Every transition is one conditional UPDATE, so two workers (or a task
delivered twice) can never both poll a source, and a crashed poll is taken
over once its claim is older than ``SOURCE_POLL_STALE_AFTER``.
"""

from __future__ import annotations

import logging
from collections import Counter
from datetime import datetime, timedelta

from django.conf import settings
from django.db.models import F, Q
from django.utils import timezone

from articles.models import SOURCE_FLAG_AFTER_FAILURES, Source

logger = logging.getLogger(__name__)

# Long enough for any error the fetcher or parser writes; a runaway message is cut.
MAX_ERROR_LENGTH = 2000
# Beyond this many doublings the delay is at the cap anyway; keeps 2**n small.
_MAX_DOUBLINGS = 20


def backoff_delay(*, poll_interval: timedelta, failures: int) -> timedelta:
    """How long to wait after ``failures`` failed polls in a row.

    The interval doubles with each failure (1 failure: twice the interval),
    never beyond ``SOURCE_BACKOFF_MAX`` and never below the interval itself.
    """
    cap = settings.SOURCE_BACKOFF_MAX
    delay = poll_interval * (2 ** min(max(failures, 0), _MAX_DOUBLINGS))
    return max(poll_interval, min(delay, cap))


def _not_running(now: datetime) -> Q:
    stale_before = now - settings.SOURCE_POLL_STALE_AFTER
    return Q(poll_started_at__isnull=True) | Q(poll_started_at__lt=stale_before)


def reserve_due_sources(*, now: datetime | None = None, limit: int | None = None) -> list[int]:
    """Ids of active sources whose poll is due, reserved for one enqueue each.

    Reserving moves ``next_poll_at`` to ``now + SOURCE_POLL_STALE_AFTER``, so the
    next beat tick does not enqueue the same source again while its task waits
    in the queue; if that task is lost, the source comes due again by itself.
    The poll then sets the real ``next_poll_at``. Oldest-due sources go first.
    """
    now = now or timezone.now()
    limit = limit or settings.SOURCE_ENQUEUE_LIMIT
    candidates = list(
        Source.objects.due(now)
        .filter(_not_running(now))
        .order_by(F("next_poll_at").asc(nulls_first=True), "pk")
        .values_list("pk", flat=True)[:limit]
    )
    reserved_until = now + settings.SOURCE_POLL_STALE_AFTER
    reserved = []
    for source_id in candidates:
        updated = (
            Source.objects.due(now)
            .filter(pk=source_id)
            .filter(_not_running(now))
            .update(next_poll_at=reserved_until)
        )
        if updated:
            reserved.append(source_id)
    return reserved


def claim_source(*, source_id: int, now: datetime | None = None) -> bool:
    """Mark the source as being polled; False if another poll holds a fresh claim."""
    now = now or timezone.now()
    updated = (
        Source.objects.filter(pk=source_id)
        .filter(_not_running(now))
        .update(poll_started_at=now, last_polled_at=now)
    )
    return updated == 1


def summarise_reasons(reasons: list[str]) -> str:
    """One line per distinct reason, with how many entries it applied to, most first."""
    counts = Counter(reasons)
    return "\n".join(
        f"{count} × {reason}" if count > 1 else reason for reason, count in counts.most_common()
    )


def record_success(
    *,
    source: Source,
    now: datetime | None = None,
    etag: str = "",
    last_modified: str = "",
    warning: str = "",
    skip_reasons: list[str] | None = None,
) -> None:
    """Release the claim after a good poll: failures reset, validators stored, next poll set.

    ``warning`` (a feed read despite being ill-formed) and the skipped entries'
    reasons replace the previous poll's; skipped entries add to the source's total.
    A 304 (nothing read) leaves them as they were.
    """
    now = now or timezone.now()
    values = {
        "poll_started_at": None,
        "last_success_at": now,
        "consecutive_failures": 0,
        "last_error": "",
        "etag": etag[:500],
        "last_modified": last_modified[:100],
        "next_poll_at": now + source.poll_interval,
    }
    if skip_reasons is not None:
        values |= {
            "last_warning": warning[:5000],
            "skipped_entries": len(skip_reasons),
            "skip_reasons": summarise_reasons(skip_reasons)[:5000],
        }
    Source.objects.filter(pk=source.pk).update(
        **values, skipped_entries_total=F("skipped_entries_total") + len(skip_reasons or [])
    )
    for name, value in values.items():
        setattr(source, name, value)
    source.skipped_entries_total += len(skip_reasons or [])


def record_failure(*, source: Source, error: str, now: datetime | None = None) -> None:
    """Release the claim after a failed poll: count it, keep the error, back off."""
    now = now or timezone.now()
    failures = source.consecutive_failures + 1
    values = {
        "poll_started_at": None,
        "consecutive_failures": failures,
        "last_error": error[:MAX_ERROR_LENGTH],
        "next_poll_at": now + backoff_delay(poll_interval=source.poll_interval, failures=failures),
    }
    Source.objects.filter(pk=source.pk).update(**values)
    for name, value in values.items():
        setattr(source, name, value)
    if failures == SOURCE_FLAG_AFTER_FAILURES:
        logger.warning("Source %s flagged after %d failures in a row: %s", source, failures, error)


def release_claim(*, source: Source) -> None:
    """Give the claim back without recording an outcome (the poll was interrupted)."""
    Source.objects.filter(pk=source.pk).update(poll_started_at=None)
    source.poll_started_at = None
