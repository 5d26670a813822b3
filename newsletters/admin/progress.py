"""How far an issue's send has got: the counts its page and the issue list show."""

from __future__ import annotations

from django.db.models import Count, Q

from newsletters.models import Delivery

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
