"""Events as iCalendar: one file for all upcoming events, one per event for "add to calendar".

Every text value (titles, places, descriptions, the calendar's name) is written as
an escaped TEXT value (``\\``, ``;``, ``,`` and line breaks escaped) without control
characters, and icalendar folds lines at 75 octets: no stored text, however it was
typed into the admin, can add a property or break the file.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime

from django.conf import settings
from django.utils import timezone
from icalendar import Calendar, vText
from icalendar import Event as CalendarEvent

from articles.cleaning.sanitising import html_to_text, xml_safe
from articles.models import Event

PRODUCT_ID = "-//Digest//Reader site//EN"


def ical_text(value: str) -> vText:
    """``value`` as an iCalendar TEXT value: line breaks kept (escaped on output),
    every other control character removed (RFC 5545 allows none but tab)."""
    cleaned = xml_safe(value or "").replace("\r\n", "\n").replace("\r", "\n")
    return vText(cleaned.replace("\x7f", ""))


def event_uid(event: Event) -> str:
    """A stable UID: the organiser's own if the event came from a calendar, else ours."""
    if event.uid:
        return event.uid
    host = settings.SITE_URL.split("://", 1)[-1].split("/", 1)[0] or "localhost"
    return f"event-{event.pk}@{host}"


def calendar_event(event: Event, *, stamp: datetime) -> CalendarEvent:
    """One VEVENT with times in UTC, a plain-text description and a link back."""
    entry = CalendarEvent()
    entry.add("uid", ical_text(event_uid(event)))
    entry.add("dtstamp", stamp)
    entry.add("dtstart", event.starts_at.astimezone(UTC))
    entry.add("dtend", event.ends_at.astimezone(UTC))
    entry.add("summary", ical_text(event.title))
    location = "Online" if event.is_online and not event.place else event.place
    if location:
        entry.add("location", ical_text(location))
    page_url = settings.SITE_URL + event.get_absolute_url()
    entry.add("url", event.url or page_url)
    description = html_to_text(event.description) if event.description else ""
    entry.add("description", ical_text(f"{description}\n\n{page_url}".strip()))
    return entry


def events_calendar(events: Iterable[Event], *, name: str) -> bytes:
    """Return an iCalendar file (bytes, CRLF lines) holding ``events``."""
    calendar = Calendar()
    calendar.add("prodid", PRODUCT_ID)
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    calendar.add("method", "PUBLISH")
    calendar.add("x-wr-calname", ical_text(name))
    stamp = timezone.now().astimezone(UTC).replace(microsecond=0)
    for event in events:
        calendar.add_component(calendar_event(event, stamp=stamp))
    return calendar.to_ical()
