"""Showing an event's dates and times the way the newsletter does.

"10.00 EST | 14.00 UTC | 16.00 CEST": each zone's abbreviation is the one in
force on the event's date, so summer and winter time come out right. An event
over several days shows as a date range ("10–12 December 2026"), with a
duration only when it lasts less than a day.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from datetime import time as dt_time
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

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


def _organiser_zone(zone_name: str | None) -> ZoneInfo:
    try:
        return ZoneInfo(zone_name or "UTC")
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo("UTC")


def event_days(
    *, starts_at: datetime, ends_at: datetime, zone_name: str | None = None
) -> tuple[date, date]:
    """The first and last calendar day an event covers, in its organiser's zone.

    An end at midnight belongs to the day before (iCalendar's all-day events end at
    the next day's 00:00), so a one-day all-day event covers one day.
    """
    zone = _organiser_zone(zone_name)
    first = starts_at.astimezone(zone).date()
    last_moment = ends_at.astimezone(zone)
    if ends_at > starts_at and last_moment.time() == dt_time(0, 0):
        last_moment -= timedelta(microseconds=1)
    return first, max(first, last_moment.date())


def format_event_dates(
    *, starts_at: datetime, ends_at: datetime, zone_name: str | None = None
) -> str:
    """The event's day or days as a date range, in the organiser's zone."""
    first, last = event_days(starts_at=starts_at, ends_at=ends_at, zone_name=zone_name)
    return format_date_range(start=first, end=last)


def format_event_length(
    *, starts_at: datetime, ends_at: datetime, zone_name: str | None = None
) -> str:
    """'2 h', '45 min' for an event within one day; "" for one over several days,
    whose date range says how long it is ("56 h" says nothing a reader can use)."""
    first, last = event_days(starts_at=starts_at, ends_at=ends_at, zone_name=zone_name)
    length = ends_at - starts_at
    if first != last or length >= timedelta(days=1):
        return ""
    return format_duration(length)
