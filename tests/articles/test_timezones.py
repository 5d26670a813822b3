from datetime import UTC, date, datetime, timedelta

import pytest

from articles.timezones import format_date_range, format_duration, format_zoned_times


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
