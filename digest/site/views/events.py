"""Event pages and their iCalendar files."""

from __future__ import annotations

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render
from django.utils.safestring import mark_safe
from django.views.decorators.http import require_safe

from articles.cleaning.sanitising import sanitize_html
from articles.models import Event
from digest.core.page_cache import cached_page
from digest.site import queries as reader_queries
from digest.site.calendar_export import events_calendar
from digest.site.views.common import canonical_url, paginate

PAST_EVENTS_PER_PAGE = 20


# Events in the calendar feed: what is coming, and the recent past so a calendar
# that subscribed keeps this week's entries.
CALENDAR_FEED_LIMIT = 200


@require_safe
@cached_page
def event_list(request: HttpRequest) -> HttpResponse:
    return render(
        request,
        "site/event_list.html",
        {
            "upcoming": list(reader_queries.upcoming_events()),
            "past_page": paginate(request, reader_queries.past_events(), PAST_EVENTS_PER_PAGE),
            "canonical_url": canonical_url(request),
        },
    )


@require_safe
@cached_page
def event_detail(request: HttpRequest, pk: int) -> HttpResponse:
    event = get_object_or_404(Event.objects.prefetch_related("topics"), pk=pk)
    return render(
        request,
        "site/event_detail.html",
        {
            "event": event,
            "description_html": mark_safe(sanitize_html(event.description)),  # noqa: S308
            "canonical_url": canonical_url(request, keep_page=False),
        },
    )


def _calendar_response(body: bytes, *, filename: str) -> HttpResponse:
    response = HttpResponse(body, content_type="text/calendar; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


@require_safe
@cached_page
def event_ics(request: HttpRequest, pk: int) -> HttpResponse:
    event = get_object_or_404(Event, pk=pk)
    body = events_calendar([event], name=event.title)
    return _calendar_response(body, filename=f"event-{event.pk}.ics")


@require_safe
@cached_page
def events_ics(request: HttpRequest) -> HttpResponse:
    upcoming = list(reader_queries.upcoming_events(limit=CALENDAR_FEED_LIMIT))
    recent = list(reader_queries.past_events()[:20])
    body = events_calendar(recent[::-1] + upcoming, name=f"{settings.SITE_NAME}: events")
    return _calendar_response(body, filename="events.ics")
