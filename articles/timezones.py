"""Showing an event's time in several zones, the way the newsletter does.

"10.00 EST | 14.00 UTC | 16.00 CEST": each zone's abbreviation is the one in
force on the event's date, so summer and winter time come out right.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from django.conf import settings


def format_zoned_times(*, moment: datetime, zones: list[str] | None = None) -> str:
    """Return ``moment`` as "HH.MM ABBR | …" in each of ``zones`` (default: the setting)."""
    if moment.tzinfo is None:
        raise ValueError("format_zoned_times needs an aware datetime")
    zones = zones or settings.EVENT_DISPLAY_TIME_ZONES
    parts = []
    for zone_name in zones:
        local = moment.astimezone(ZoneInfo(zone_name))
        parts.append(f"{local:%H.%M} {local.tzname()}")
    return " | ".join(parts)


def format_duration(duration: timedelta) -> str:
    """'45 min', '2 h', '1 h 30 min', '3 days'."""
    minutes = int(duration.total_seconds() // 60)
    if minutes <= 0:
        return ""
    if minutes >= 24 * 60 and minutes % (24 * 60) == 0:
        days = minutes // (24 * 60)
        return f"{days} day" if days == 1 else f"{days} days"
    hours, rest = divmod(minutes, 60)
    if hours and rest:
        return f"{hours} h {rest} min"
    if hours:
        return f"{hours} h"
    return f"{rest} min"


def format_date_range(*, start: date, end: date) -> str:
    """'10 December 2025' for one day; '10–12 December 2025', '30 November – 2 December
    2025' or '30 December 2025 – 2 January 2026' for several, the year said once."""
    if end <= start:
        return f"{start.day} {start:%B %Y}"
    if (start.year, start.month) == (end.year, end.month):
        return f"{start.day}–{end.day} {end:%B %Y}"
    if start.year == end.year:
        return f"{start.day} {start:%B} – {end.day} {end:%B %Y}"
    return f"{start.day} {start:%B %Y} – {end.day} {end:%B %Y}"
