"""Template filters for the reader pages."""

from __future__ import annotations

from datetime import datetime, timedelta

from django import template

from articles.cleaning.sanitising import plain_text
from articles.models import Event
from articles.timezones import (
    format_duration,
    format_event_dates,
    format_event_length,
    format_zoned_times,
)
from digest.core.links import absolute_url

register = template.Library()


@register.filter
def zoned_times(moment: datetime | None) -> str:
    """'10.00 EST | 14.00 UTC | 16.00 CEST' in the site's display zones."""
    if moment is None:
        return ""
    return format_zoned_times(moment=moment)


@register.filter
def duration(value: timedelta | None) -> str:
    return format_duration(value) if value else ""


@register.filter
def event_dates(event: Event) -> str:
    """'10 December 2026' or '10–12 December 2026', in the organiser's zone."""
    return format_event_dates(
        starts_at=event.starts_at, ends_at=event.ends_at, zone_name=event.time_zone
    )


@register.filter
def event_length(event: Event) -> str:
    """'1 h 30 min' for an event within a day; "" for one over several days."""
    return format_event_length(
        starts_at=event.starts_at, ends_at=event.ends_at, zone_name=event.time_zone
    )


@register.filter
def absolute(path: str) -> str:
    """The absolute URL of a site path, on the site's public address (SITE_URL)."""
    return absolute_url(path or "")


@register.filter
def plain(value: str | None) -> str:
    """Text with any tags removed and entities decoded; the template escapes it."""
    return plain_text(value or "")
