from datetime import UTC, date, datetime, timedelta

import pytest

from articles.timezones import (
    format_date_range,
    format_duration,
    format_event_dates,
    format_event_length,
    format_zoned_times,
)


def test_winter_time_uses_standard_abbreviations():
    moment = datetime(2025, 1, 15, 15, 0, tzinfo=UTC)
    text = format_zoned_times(moment=moment, zones=["America/New_York", "UTC", "Europe/Zurich"])
    assert text == "10.00 EST | 15.00 UTC | 16.00 CET"


def test_summer_time_uses_daylight_abbreviations():
    moment = datetime(2025, 4, 22, 14, 0, tzinfo=UTC)
    text = format_zoned_times(moment=moment, zones=["America/New_York", "UTC", "Europe/Zurich"])
    assert text == "10.00 EDT | 14.00 UTC | 16.00 CEST"


def test_naive_datetime_is_refused():
    with pytest.raises(ValueError):
        format_zoned_times(moment=datetime(2025, 4, 22, 14, 0), zones=["UTC"])


@pytest.mark.parametrize(
    ("duration", "text"),
    [
        (timedelta(minutes=45), "45 min"),
        (timedelta(hours=2), "2 h"),
        (timedelta(hours=1, minutes=30), "1 h 30 min"),
        (timedelta(days=3), "3 days"),
        (timedelta(0), ""),
    ],
)
def test_duration_is_short_and_readable(duration, text):
    assert format_duration(duration) == text


@pytest.mark.parametrize(
    ("start", "end", "text"),
    [
        (date(2025, 12, 10), date(2025, 12, 10), "10 December 2025"),
        (date(2025, 12, 10), date(2025, 12, 12), "10–12 December 2025"),
        (date(2025, 11, 30), date(2025, 12, 2), "30 November – 2 December 2025"),
        (date(2025, 12, 30), date(2026, 1, 2), "30 December 2025 – 2 January 2026"),
    ],
)
def test_date_range_says_the_month_and_year_once(start, end, text):
    assert format_date_range(start=start, end=end) == text


def test_a_three_day_event_is_a_date_range_without_a_duration():
    starts = datetime(2026, 12, 10, 8, 0, tzinfo=UTC)
    ends = starts + timedelta(hours=56)

    assert format_event_dates(starts_at=starts, ends_at=ends) == "10–12 December 2026"
    assert format_event_length(starts_at=starts, ends_at=ends) == ""


def test_an_event_within_a_day_keeps_its_duration():
    starts = datetime(2026, 12, 10, 14, 0, tzinfo=UTC)
    ends = starts + timedelta(hours=1, minutes=30)

    assert format_event_dates(starts_at=starts, ends_at=ends) == "10 December 2026"
    assert format_event_length(starts_at=starts, ends_at=ends) == "1 h 30 min"


def test_all_day_events_ending_at_midnight_cover_only_their_own_days():
    starts = datetime(2026, 12, 10, tzinfo=UTC)

    one_day = format_event_dates(starts_at=starts, ends_at=starts + timedelta(days=1))
    two_days = format_event_dates(starts_at=starts, ends_at=starts + timedelta(days=2))

    assert one_day == "10 December 2026"
    assert two_days == "10–11 December 2026"


def test_days_are_counted_in_the_organisers_zone():
    # 23.00–01.00 UTC is one evening in New York, two days in Tokyo.
    starts = datetime(2026, 3, 10, 23, 0, tzinfo=UTC)
    ends = starts + timedelta(hours=2)

    assert format_event_dates(starts_at=starts, ends_at=ends, zone_name="America/New_York") == (
        "10 March 2026"
    )
    assert format_event_dates(starts_at=starts, ends_at=ends, zone_name="Asia/Tokyo") == (
        "11 March 2026"
    )
    assert format_event_dates(starts_at=starts, ends_at=ends, zone_name="Nowhere/City") == (
        "10–11 March 2026"
    )


@pytest.mark.parametrize(
    ("first", "last", "expected"),
    [
        (date(2026, 11, 30), date(2026, 12, 2), "30 November – 2 December 2026"),
        (date(2026, 12, 30), date(2027, 1, 2), "30 December 2026 – 2 January 2027"),
    ],
)
def test_ranges_over_months_and_years_name_both_ends(first, last, expected):
    assert format_date_range(start=first, end=last) == expected
