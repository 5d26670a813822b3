from datetime import UTC, datetime, timedelta

import pytest

from articles.ingestion import calendar_import as calendars
from articles.ingestion.calendar_import import CalendarError, ingest_calendar, parse_calendar
from articles.ingestion.poll import PollStatus, poll_source
from articles.models import Event, Source
from tests.factories import SourceFactory

pytestmark = pytest.mark.django_db

ICS = b"""BEGIN:VCALENDAR\r
VERSION:2.0\r
PRODID:-//Test//Events//EN\r
BEGIN:VEVENT\r
UID:igf-2025@example.org\r
SUMMARY:Internet Governance Forum <script>alert(1)</script>\r
DTSTART;TZID=Europe/Oslo:20250623T090000\r
DTEND;TZID=Europe/Oslo:20250627T170000\r
LOCATION:Lillestr\xc3\xb8m\\, Norway\r
URL:https://igf.example.org/2025\r
DESCRIPTION:Five days of debate.\\nBring a badge.\r
END:VEVENT\r
BEGIN:VEVENT\r
UID:webinar-1@example.org\r
SUMMARY:AI Act webinar\r
DTSTART:20250501T140000Z\r
DURATION:PT1H30M\r
LOCATION:Online (Zoom)\r
END:VEVENT\r
BEGIN:VEVENT\r
UID:allday@example.org\r
SUMMARY:Data Protection Day\r
DTSTART;VALUE=DATE:20260128\r
END:VEVENT\r
BEGIN:VEVENT\r
UID:nosummary@example.org\r
DTSTART:20250501T140000Z\r
END:VEVENT\r
END:VCALENDAR\r
"""


def test_calendar_events_are_stored_with_zone_place_and_duration():
    source = SourceFactory(kind=Source.Kind.ICAL)

    created = ingest_calendar(source=source, content=ICS)

    assert created == 3
    igf = Event.objects.get(uid="igf-2025@example.org")
    assert igf.title == "Internet Governance Forum"
    assert igf.time_zone == "Europe/Oslo"
    assert igf.starts_at == datetime(2025, 6, 23, 7, 0, tzinfo=UTC)
    assert igf.ends_at == datetime(2025, 6, 27, 15, 0, tzinfo=UTC)
    assert igf.place == "Lillestrøm, Norway"
    assert igf.is_online is False
    assert igf.url == "https://igf.example.org/2025"
    assert "Bring a badge." in igf.description
    assert "<script" not in igf.description
    webinar = Event.objects.get(uid="webinar-1@example.org")
    assert webinar.is_online is True
    assert webinar.duration == timedelta(hours=1, minutes=30)
    all_day = Event.objects.get(uid="allday@example.org")
    assert all_day.duration == timedelta(days=1)


def test_repoll_updates_events_instead_of_duplicating_them():
    source = SourceFactory(kind=Source.Kind.ICAL)
    ingest_calendar(source=source, content=ICS)

    moved = ICS.replace(b"20250501T140000Z\r\nDURATION", b"20250502T140000Z\r\nDURATION")
    created = ingest_calendar(source=source, content=moved)

    assert created == 0
    assert Event.objects.count() == 3
    webinar = Event.objects.get(uid="webinar-1@example.org")
    assert webinar.starts_at == datetime(2025, 5, 2, 14, 0, tzinfo=UTC)


def test_cancelled_event_is_removed():
    source = SourceFactory(kind=Source.Kind.ICAL)
    ingest_calendar(source=source, content=ICS)

    cancelled = ICS.replace(
        b"UID:webinar-1@example.org\r\n", b"UID:webinar-1@example.org\r\nSTATUS:CANCELLED\r\n"
    )
    ingest_calendar(source=source, content=cancelled)

    assert not Event.objects.filter(uid="webinar-1@example.org").exists()


@pytest.mark.parametrize(
    "content", [b"<html><body>Not a calendar</body></html>", b"BEGIN:VCALENDAR\r\nBROKEN"]
)
def test_document_that_is_not_icalendar_is_a_clear_error(content):
    with pytest.raises(CalendarError):
        parse_calendar(content)


def test_ical_source_is_polled_through_the_safe_fetcher(loopback):
    source = SourceFactory(
        kind=Source.Kind.ICAL,
        url=loopback.serve("/events.ics", ICS, content_type="text/calendar"),
    )

    result = poll_source(source=source)

    assert result.status == PollStatus.OK
    assert result.new_events == 3
    assert Event.objects.filter(source=source).count() == 3


def test_ical_source_serving_html_records_the_error(loopback):
    source = SourceFactory(
        kind=Source.Kind.ICAL, url=loopback.serve("/events.ics", b"<html>oops</html>")
    )

    result = poll_source(source=source)

    assert result.status == PollStatus.FAILED
    source.refresh_from_db()
    assert "not an iCalendar file" in source.last_error


def test_a_repeated_property_takes_the_first_value():
    source = SourceFactory(kind=Source.Kind.ICAL)
    odd = ICS.replace(
        b"UID:allday@example.org\r\n",
        b"UID:allday@example.org\r\nX-ALT-DESC;FMTTYPE=text/html:<p>First</p>\r\n"
        b"X-ALT-DESC;FMTTYPE=text/html:<p>Second</p>\r\n",
    )

    created = ingest_calendar(source=source, content=odd)

    assert created == 3
    assert Event.objects.get(uid="allday@example.org").description == "<p>First</p>"


def _recurring_ics(*, extra: str = "", rule: str = "FREQ=WEEKLY;COUNT=6") -> bytes:
    start = (datetime.now(tz=UTC) + timedelta(days=2)).replace(
        hour=14, minute=0, second=0, microsecond=0
    )
    stamp = f"{start:%Y%m%dT%H%M%SZ}"
    return (
        "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//Test//Series//EN\r\n"
        "BEGIN:VEVENT\r\nUID:series-1@example.org\r\nSUMMARY:Weekly policy briefing\r\n"
        f"DTSTART:{stamp}\r\nDURATION:PT1H\r\nRRULE:{rule}\r\nLOCATION:Online\r\n"
        f"{extra}END:VEVENT\r\nEND:VCALENDAR\r\n"
    ).encode(), start


def test_recurring_event_is_expanded_into_its_occurrences():
    source = SourceFactory(kind=Source.Kind.ICAL)
    content, start = _recurring_ics()

    assert ingest_calendar(source=source, content=content) == 6
    assert ingest_calendar(source=source, content=content) == 0

    starts = list(Event.objects.order_by("starts_at").values_list("starts_at", flat=True))
    assert starts == [start + timedelta(weeks=week) for week in range(6)]
    assert set(Event.objects.values_list("title", flat=True)) == {"Weekly policy briefing"}


def test_excluded_occurrence_is_left_out_and_removed_when_added_later():
    source = SourceFactory(kind=Source.Kind.ICAL)
    content, start = _recurring_ics()
    ingest_calendar(source=source, content=content)
    third = start + timedelta(weeks=2)

    excluded, _start = _recurring_ics(extra=f"EXDATE:{third:%Y%m%dT%H%M%SZ}\r\n")
    ingest_calendar(source=source, content=excluded)

    starts = set(Event.objects.values_list("starts_at", flat=True))
    assert len(starts) == 5 and third not in starts


def test_rule_repeating_every_second_is_not_expanded():
    source = SourceFactory(kind=Source.Kind.ICAL)
    content, _start = _recurring_ics(rule="FREQ=SECONDLY")

    assert ingest_calendar(source=source, content=content) == 0


def test_dense_rule_is_cut_at_the_cap():
    source = SourceFactory(kind=Source.Kind.ICAL)
    minutes = ",".join(str(minute) for minute in range(0, 60, 5))
    content, start = _recurring_ics(rule=f"FREQ=HOURLY;BYMINUTE={minutes}")

    ingest_calendar(source=source, content=content)

    assert Event.objects.count() == calendars.MAX_OCCURRENCES
    assert Event.objects.order_by("starts_at").first().starts_at == start


def test_endless_weekly_rule_stops_at_the_window(settings):
    source = SourceFactory(kind=Source.Kind.ICAL)
    content, start = _recurring_ics(rule="FREQ=WEEKLY")

    ingest_calendar(source=source, content=content)

    last = Event.objects.order_by("-starts_at").first().starts_at
    assert last <= datetime.now(tz=UTC) + calendars.RECURRENCE_AHEAD
    assert Event.objects.count() >= 20
