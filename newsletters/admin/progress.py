"""How far an issue's send has got: the counts its page and the issue list show."""

from __future__ import annotations

from django.db.models import Count, Q
from django.utils import timezone

from newsletters.models import Delivery, Issue

# While an issue is sending its page reloads itself this often (seconds), so the
# counts move without JavaScript; the page is read-only then, so nothing is lost.
PROGRESS_REFRESH_SECONDS = 5


def send_progress(counts: dict[str, int]) -> dict[str, int]:
    """``counts`` (as from ``sending.delivery_counts``) plus what the progress panel shows:
    ``open`` (pending + sending), ``done`` (sent + failed) and ``percent`` done, 0–100."""
    total = counts["total"]
    done = counts["sent"] + counts["failed"]
    return {
        **counts,
        "open": counts["pending"] + counts["sending"],
        "done": done,
        "percent": (done * 100 // total) if total else 0,
    }


def delivery_count_annotations() -> dict[str, Count]:
    """Per-issue delivery counts by status, as aggregates for one changelist query."""
    by_status = {
        f"deliveries_{status.value}": Count(
            "deliveries", filter=Q(deliveries__status=status.value)
        )
        for status in Delivery.Status
    }
    return {**by_status, "deliveries_total": Count("deliveries")}


def relay_pause_line(issue: Issue) -> str:
    """'paused: mail server unreachable since 10:42, retrying at 10:50 (…)' for a send
    paused by a relay failure (local time), else ''."""
    if issue.status != Issue.Status.SENDING or issue.relay_paused_since is None:
        return ""
    since = timezone.localtime(issue.relay_paused_since).strftime("%H:%M")
    line = f"paused: mail server unreachable since {since}, retrying"
    if issue.relay_retry_at is not None:
        line += f" at {timezone.localtime(issue.relay_retry_at):%H:%M:%S}"
    if issue.relay_error:
        line += f" (last error: {issue.relay_error})"
    return line
