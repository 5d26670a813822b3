"""iCalendar sources: fetched ``.ics`` bytes become ``Event`` rows.

Each VEVENT is stored once per source, keyed by its UID (or, without one, by
title and start), and updated when the organiser changes it. A recurring event
(RRULE/RDATE, with its EXDATEs and overridden occurrences) is expanded with
``recurring-ical-events`` into one row per occurrence inside a window around now
(``RECURRENCE_PAST`` back, ``RECURRENCE_AHEAD`` on, at most ``MAX_OCCURRENCES``
per series, so a FREQ=SECONDLY rule costs no more than a weekly one), keyed
``UID/start``; occurrences dropped by the organiser disappear from the window.
Cancelled events and occurrences are left out (and removed if stored before).
Text is plain text; descriptions are stored as sanitised HTML.
"""

from __future__ import annotations

import logging
import re
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import icalendar
import recurring_ical_events
from django.db import transaction
from django.utils import timezone
from django.utils.html import escape, linebreaks

from articles.cleaning.sanitising import plain_text, sanitize_html
from articles.models import Event, Source
from digest.core.links import is_web_url

logger = logging.getLogger(__name__)

# Occurrences of a recurring event are stored from a month back to half a year ahead.
RECURRENCE_PAST = timedelta(days=31)
RECURRENCE_AHEAD = timedelta(days=183)
# A daily series fills half a year; a rule that repeats faster is cut here.
MAX_OCCURRENCES = 200

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


def _is_cancelled(component: icalendar.cal.Component) -> bool:
    return str(component.get("STATUS", "")).upper() == "CANCELLED"


def _store(*, source: Source, uid: str, values: dict[str, object]) -> bool:
    """Insert or update one event row; True if it is new."""
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
    return was_created


def _series_calendar(calendar: icalendar.Calendar, uid: str) -> icalendar.Calendar:
    """A calendar holding only the series ``uid`` (and the time zones it may use)."""
    series = icalendar.Calendar()
    for name, value in calendar.property_items(recursive=False):
        if name not in ("BEGIN", "END"):
            series.add(name, value)
    for component in calendar.subcomponents:
        if component.name == "VTIMEZONE" or (
            component.name == "VEVENT" and str(component.get("UID", "")).strip()[:500] == uid
        ):
            series.add_component(component)
    return series


def _occurrence_uid(uid: str, starts_at: datetime) -> str:
    return f"{uid[:480]}/{starts_at.astimezone(UTC):%Y%m%dT%H%M%SZ}"


def _too_fast(calendar: icalendar.Calendar) -> bool:
    """Whether a rule repeats by the second or minute: never a real event, and costly to
    expand (the expansion walks every repetition from the first start)."""
    for component in calendar.walk("VEVENT"):
        rules = component.get("RRULE")
        for rule in rules if isinstance(rules, list) else [rules] if rules else []:
            frequency = str((rule.get("FREQ") or [""])[0]).upper()
            if frequency in ("SECONDLY", "MINUTELY") or rule.get("BYSECOND"):
                return True
    return False


def _occurrences(series: icalendar.Calendar, start: datetime, end: datetime):
    """The series' occurrences from ``start`` to ``end`` in order, at most
    ``MAX_OCCURRENCES``: read in windows that start small and double, so a dense rule
    stops after a few hundred occurrences instead of expanding months of them."""
    query = recurring_ical_events.of(series)
    span, cursor, found = timedelta(hours=1), start, 0
    while cursor < end and found < MAX_OCCURRENCES:
        window_end = min(cursor + span, end)
        for occurrence in sorted(query.between(cursor, window_end), key=_start_of):
            if _start_of(occurrence) < cursor or found >= MAX_OCCURRENCES:
                continue  # began in an earlier window (still running at its start)
            found += 1
            yield occurrence
        cursor, span = window_end, span * 2


def _start_of(component: icalendar.cal.Component) -> datetime:
    value = _decoded(component, "DTSTART")
    return (
        _moment(value, ZoneInfo("UTC"))
        if isinstance(value, date)
        else datetime.max.replace(tzinfo=UTC)
    )


def _ingest_series(
    *, source: Source, calendar: icalendar.Calendar, uid: str, default_zone: ZoneInfo
) -> int:
    """Store the occurrences of the recurring event ``uid`` inside the window."""
    series = _series_calendar(calendar, uid)
    if _too_fast(series):
        logger.info("Skipped %r in %s: it repeats every second or minute", uid, source)
        return 0
    now = timezone.now()
    window_start, window_end = now - RECURRENCE_PAST, now + RECURRENCE_AHEAD
    created = 0
    kept: list[str] = []
    for occurrence in _occurrences(series, window_start, window_end):
        values = _event_values(occurrence, default_zone=default_zone)
        if values is None or _is_cancelled(occurrence):
            continue
        occurrence_uid = _occurrence_uid(uid, values["starts_at"])
        kept.append(occurrence_uid)
        created += int(_store(source=source, uid=occurrence_uid, values=values))
    # Occurrences the organiser removed (EXDATE, a shorter rule, a cancellation), and
    # the single row an earlier version stored for the whole series.
    stale = Event.objects.filter(source=source, uid__startswith=f"{uid[:480]}/").filter(
        starts_at__gte=window_start
    )
    stale.exclude(uid__in=kept).delete()
    Event.objects.filter(source=source, uid=uid).delete()
    return created


def ingest_calendar(*, source: Source, content: bytes) -> int:
    """Store the events in ``content`` for ``source``; returns how many are new."""
    calendar = parse_calendar(content)
    default_zone = _calendar_zone(calendar)
    created = 0
    series: list[str] = []
    for component in calendar.walk("VEVENT"):
        uid = str(component.get("UID", "") or "").strip()[:500]
        recurring = uid and any(key in component for key in ("RRULE", "RDATE", "RECURRENCE-ID"))
        if recurring:
            if uid not in series and not _is_cancelled(component):
                series.append(uid)
            continue
        if _is_cancelled(component):
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
        created += int(_store(source=source, uid=uid, values=values))
    for uid in series:
        try:
            created += _ingest_series(
                source=source, calendar=calendar, uid=uid, default_zone=default_zone
            )
        except (ValueError, TypeError, AttributeError, OverflowError, KeyError) as error:
            logger.info("Skipped an unreadable recurring event %r in %s: %s", uid, source, error)
        except recurring_ical_events.InvalidCalendar as error:
            logger.info("Skipped an invalid recurring event %r in %s: %s", uid, source, error)
    return created
