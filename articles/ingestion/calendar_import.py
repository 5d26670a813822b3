"""iCalendar sources: fetched ``.ics`` bytes become ``Event`` rows.

Each VEVENT is stored once per source, keyed by its UID (or, without one, by
title and start), and updated when the organiser changes it. Recurring events
are stored by their first occurrence; cancelled ones are left out (and removed
if stored before). Text is plain text; descriptions are stored as sanitised HTML.
"""

from __future__ import annotations

import logging
import re
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import icalendar
from django.db import transaction
from django.utils.html import escape, linebreaks

from articles.cleaning.sanitising import plain_text, sanitize_html
from articles.models import Event, Source
from digest.core.links import is_web_url

logger = logging.getLogger(__name__)

_ONLINE = re.compile(r"\b(online|virtual|webinar|zoom|webex|teams|livestream)\b", re.IGNORECASE)


class CalendarError(Exception):
    """The bytes are not a readable iCalendar file; the message says why."""


def _zone_name(zone: tzinfo | None) -> str:
    name = getattr(zone, "key", None) or getattr(zone, "zone", None) or ""
    if not name and zone is not None:
        name = str(zone)
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return "UTC"
    return name


def _calendar_zone(calendar: icalendar.Calendar) -> ZoneInfo:
    name = str(calendar.get("X-WR-TIMEZONE", "") or "")
    try:
        return ZoneInfo(name) if name else ZoneInfo("UTC")
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo("UTC")


def _moment(value: date | datetime, default_zone: ZoneInfo) -> datetime:
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=default_zone)
    return datetime.combine(value, time.min, tzinfo=default_zone)


def _decoded(component: icalendar.cal.Component, name: str):
    try:
        return component.decoded(name) if name in component else None
    except (ValueError, TypeError, KeyError):
        return None


def _description_html(component: icalendar.cal.Component) -> str:
    html = component.get("X-ALT-DESC")
    if isinstance(html, list):  # the property repeated: the first one counts
        html = html[0] if html else None
    if html is not None and "html" in str(html.params.get("FMTTYPE", "")).lower():
        return sanitize_html(str(html))
    text = str(component.get("DESCRIPTION", "") or "").strip()
    return sanitize_html(linebreaks(escape(text))) if text else ""


def _http_url(value: object) -> str:
    url = str(value or "").strip()
    return url[:2000] if is_web_url(url) else ""


def _event_values(
    component: icalendar.cal.Component, *, default_zone: ZoneInfo
) -> dict[str, object] | None:
    title = plain_text(str(component.get("SUMMARY", "") or ""))[:300]
    start_value = _decoded(component, "DTSTART")
    if not title or not isinstance(start_value, date):
        return None
    starts_at = _moment(start_value, default_zone)
    end_value = _decoded(component, "DTEND")
    duration = _decoded(component, "DURATION")
    if isinstance(end_value, date):
        ends_at = _moment(end_value, default_zone)
    elif isinstance(duration, timedelta):
        ends_at = starts_at + duration
    elif not isinstance(start_value, datetime):
        ends_at = starts_at + timedelta(days=1)  # an all-day event
    else:
        ends_at = starts_at
    ends_at = max(ends_at, starts_at)
    location = plain_text(str(component.get("LOCATION", "") or ""))
    url = _http_url(component.get("URL"))
    location_is_link = bool(_http_url(location))
    is_online = bool(_ONLINE.search(location)) or location_is_link or (not location and url)
    zone = start_value.tzinfo if isinstance(start_value, datetime) else default_zone
    return {
        "title": title,
        "url": url or (location if location_is_link else ""),
        "starts_at": starts_at.astimezone(UTC),
        "ends_at": ends_at.astimezone(UTC),
        "time_zone": _zone_name(zone) if zone else default_zone.key,
        "is_online": bool(is_online),
        "place": "" if location_is_link else location[:300],
        "description": _description_html(component),
    }


def parse_calendar(content: bytes) -> icalendar.Calendar:
    """The parsed calendar; raises CalendarError for anything that is not iCalendar."""
    if b"BEGIN:VCALENDAR" not in content[:4096].upper():
        raise CalendarError("The document is not an iCalendar file (no BEGIN:VCALENDAR).")
    try:
        return icalendar.Calendar.from_ical(content)
    except (ValueError, IndexError, KeyError) as error:
        raise CalendarError(f"The iCalendar file could not be read: {error}.") from None


def ingest_calendar(*, source: Source, content: bytes) -> int:
    """Store the events in ``content`` for ``source``; returns how many are new."""
    calendar = parse_calendar(content)
    default_zone = _calendar_zone(calendar)
    created = 0
    for component in calendar.walk("VEVENT"):
        uid = str(component.get("UID", "") or "").strip()[:500]
        if str(component.get("STATUS", "")).upper() == "CANCELLED":
            if uid:
                Event.objects.filter(source=source, uid=uid).delete()
            continue
        try:
            values = _event_values(component, default_zone=default_zone)
        except (ValueError, TypeError, AttributeError, OverflowError) as error:
            # One odd VEVENT (a repeated property, an impossible date) costs only itself.
            logger.info("Skipped an unreadable event %r in %s: %s", uid, source, error)
            continue
        if values is None:
            logger.info("Skipped an event without title or start in %s", source)
            continue
        with transaction.atomic():
            if uid:
                _event, was_created = Event.objects.update_or_create(
                    source=source, uid=uid, defaults=values
                )
            else:
                _event, was_created = Event.objects.get_or_create(
                    source=source,
                    title=values["title"],
                    starts_at=values["starts_at"],
                    defaults=values,
                )
        created += int(was_created)
    return created
