from datetime import UTC, datetime, timedelta

import pytest

from articles.timezones import format_duration, format_zoned_times


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
