"""Articles per week for a topic, and the inline SVG chart drawn from them."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta

import pytest

from digest.site.charts import WeekCount, bar_chart_svg, week_start, weekly_article_counts
from tests.factories import ArticleFactory, TopicFactory

pytestmark = pytest.mark.django_db

TODAY = date(2025, 4, 23)  # a Wednesday


def at(day: date, hour: int = 12) -> datetime:
    return datetime(day.year, day.month, day.day, hour, tzinfo=UTC)


def test_week_start_is_monday():
    assert week_start(TODAY) == date(2025, 4, 21)
    assert week_start(date(2025, 4, 21)) == date(2025, 4, 21)


def test_weekly_counts_cover_twelve_weeks_oldest_first_with_zero_weeks(
    django_assert_num_queries,
):
    topic = TopicFactory()
    other = TopicFactory()
    ArticleFactory(topics=[topic], published_at=at(date(2025, 4, 21), hour=0))
    ArticleFactory(topics=[topic], published_at=at(date(2025, 4, 22)))
    ArticleFactory(topics=[topic], published_at=at(date(2025, 4, 20), hour=23))
    ArticleFactory(topics=[topic], published_at=at(date(2025, 2, 3)))
    ArticleFactory(topics=[topic], published_at=at(date(2025, 2, 2)))  # before the window
    ArticleFactory(topics=[other], published_at=at(date(2025, 4, 22)))
    with django_assert_num_queries(1):
        weeks = weekly_article_counts(topic=topic, today=TODAY)
    assert len(weeks) == 12
    assert weeks[0].week_start == date(2025, 2, 3)
    assert weeks[-1].week_start == date(2025, 4, 21)
    assert [week.count for week in weeks] == [1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 2]


def test_chart_svg_has_text_alternative_and_a_bar_per_week():
    weeks = [
        WeekCount(week_start=date(2025, 1, 6) + timedelta(weeks=i), count=i) for i in range(12)
    ]
    svg = bar_chart_svg(counts=weeks, title="AI: articles per week", chart_id="c1")
    assert svg.startswith("<svg") and svg.endswith("</svg>")
    assert 'role="img"' in svg and 'aria-labelledby="c1-title c1-desc"' in svg
    assert '<title id="c1-title">AI: articles per week</title>' in svg
    assert "week of 6 January 2025: 0; week of 13 January 2025: 1" in svg
    assert svg.count('<rect class="chart-bar"') == 12


def test_chart_bars_scale_to_the_largest_week():
    weeks = [WeekCount(week_start=date(2025, 1, 6), count=5), WeekCount(date(2025, 1, 13), 10)]
    svg = bar_chart_svg(counts=weeks, title="t", chart_id="c")
    heights = [float(value) for value in re.findall(r'<rect [^>]*height="([\d.]+)"', svg)]
    assert heights[1] == pytest.approx(2 * heights[0])


def test_chart_of_empty_weeks_draws_without_dividing_by_zero():
    weeks = [WeekCount(week_start=date(2025, 1, 6), count=0)]
    svg = bar_chart_svg(counts=weeks, title="Nothing", chart_id="c")
    assert 'height="0.0"' in svg


def test_chart_escapes_its_texts():
    weeks = [WeekCount(week_start=date(2025, 1, 6), count=1)]
    svg = bar_chart_svg(counts=weeks, title='<script>alert("x")</script>', chart_id='"><b')
    assert "<script>" not in svg
    assert "&lt;script&gt;" in svg
    assert '"><b' not in svg


def test_every_week_is_labelled_with_its_day_and_value_and_months_are_named():
    weeks = [
        WeekCount(week_start=date(2025, 1, 6) + timedelta(weeks=i), count=i * 2) for i in range(12)
    ]
    svg = bar_chart_svg(counts=weeks, title="t", chart_id="c")

    values = re.findall(r'<text class="chart-value"[^>]*>(\d+)</text>', svg)
    days = re.findall(r'<text class="chart-axis"[^>]*>(\d+)</text>', svg)
    months = re.findall(r'<text class="chart-axis"[^>]*>([A-Z][a-z]{2})</text>', svg)
    assert values == [str(i * 2) for i in range(12)]
    assert days == [str(week.week_start.day) for week in weeks]
    assert months == ["Jan", "Feb", "Mar"]
