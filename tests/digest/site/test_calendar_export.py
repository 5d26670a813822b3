"""iCalendar export: escaped text values, folded lines, nothing injected."""

from __future__ import annotations

import pytest
from icalendar import Calendar

from tests.factories import EventFactory

pytestmark = pytest.mark.django_db

HOSTILE_TITLE = "Forum\r\nATTENDEE:mailto:victim@example.org\r\nX-EVIL:1; a,b \\ end\x01"


def read_calendar(client, url: str) -> tuple[bytes, Calendar]:
    response = client.get(url)
    assert response.status_code == 200, url
    return response.content, Calendar.from_ical(response.content)


def content_lines(body: bytes) -> list[bytes]:
    return body.split(b"\r\n")


def test_event_title_with_line_breaks_is_escaped_not_injected(client):
    event = EventFactory(title=HOSTILE_TITLE, place="Room 1;\r\nDESCRIPTION:fake")

    body, calendar = read_calendar(client, f"/events/{event.pk}/event.ics")

    (entry,) = calendar.walk("VEVENT")
    assert (
        str(entry["SUMMARY"]) == "Forum\nATTENDEE:mailto:victim@example.org\nX-EVIL:1; a,b \\ end"
    )
    assert "ATTENDEE" not in entry
    assert str(entry["LOCATION"]) == "Room 1;\nDESCRIPTION:fake"
    starts = [line.split(b":", 1)[0].split(b";", 1)[0] for line in content_lines(body)]
    assert b"ATTENDEE" not in starts and b"X-EVIL" not in starts
    assert b"\x01" not in body


def test_calendar_name_from_the_event_title_is_escaped(client):
    event = EventFactory(title="Summit; part 1,\nX-INJECTED:yes")

    body, _calendar = read_calendar(client, f"/events/{event.pk}/event.ics")

    assert b"\r\nX-INJECTED" not in body
    assert b"X-WR-CALNAME:Summit\\; part 1\\,\\nX-INJECTED:yes" in body


def test_long_values_are_folded_at_75_octets(client):
    event = EventFactory(title="Très long intitulé " * 15, description="<p>" + "é" * 400 + "</p>")

    body, calendar = read_calendar(client, f"/events/{event.pk}/event.ics")

    assert all(len(line) <= 75 for line in content_lines(body))
    (entry,) = calendar.walk("VEVENT")
    assert str(entry["SUMMARY"]) == event.title


def test_events_feed_answers_with_hostile_stored_values(client):
    EventFactory(title=HOSTILE_TITLE)
    EventFactory(title="Plain")

    _body, calendar = read_calendar(client, "/feeds/events.ics")

    assert len(calendar.walk("VEVENT")) == 2
