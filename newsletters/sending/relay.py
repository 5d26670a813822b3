"""The relay pause: a send whose mail server failed waits as a whole, charging nobody.

``pause_send`` records the failure on the issue (since when, why, how many in a row) and
when to try again, backing off from ``NEWSLETTER_RELAY_RETRY_SECONDS`` up to
``NEWSLETTER_RELAY_RETRY_MAX_SECONDS``; ``resume_send`` clears it once a message goes
through. Both are single conditional UPDATEs, so concurrent batches may call them freely.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from django.conf import settings
from django.db.models import F, Value
from django.db.models.functions import Coalesce
from django.utils import timezone

from newsletters.models import Issue


def relay_backoff(failures: int) -> timedelta:
    """The pause after ``failures`` relay failures in a row: doubling, capped."""
    base = settings.NEWSLETTER_RELAY_RETRY_SECONDS
    cap = settings.NEWSLETTER_RELAY_RETRY_MAX_SECONDS
    return timedelta(seconds=min(base * 2 ** max(failures - 1, 0), cap))


def pause_send(*, issue_id: int, error: str) -> datetime:
    """Record a relay failure on a sending issue; returns when to try the relay again."""
    now = timezone.now()
    Issue.objects.filter(pk=issue_id).update(
        relay_paused_since=Coalesce(F("relay_paused_since"), Value(now)),
        relay_failures=F("relay_failures") + 1,
        relay_error=error[:500],
    )
    failures = Issue.objects.filter(pk=issue_id).values_list("relay_failures", flat=True).first()
    retry_at = now + relay_backoff(failures or 1)
    Issue.objects.filter(pk=issue_id).update(relay_retry_at=retry_at)
    return retry_at


def resume_send(*, issue_id: int) -> bool:
    """Clear a relay pause (a message went through); True if there was one."""
    return bool(
        Issue.objects.filter(pk=issue_id, relay_paused_since__isnull=False).update(
            relay_paused_since=None, relay_retry_at=None, relay_failures=0, relay_error=""
        )
    )


def relay_wait(issue: Issue, *, now: datetime | None = None) -> float:
    """Seconds until a paused send may try its relay again (0: go ahead)."""
    if issue.relay_retry_at is None:
        return 0.0
    now = now or timezone.now()
    return max((issue.relay_retry_at - now).total_seconds(), 0.0)
