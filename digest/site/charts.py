"""A small bar chart of articles per week, counted in one query and drawn as inline SVG.

The SVG is built from numbers and escaped text only, carries ``role="img"``, a
``<title>`` and a ``<desc>`` naming every bar, and the page also shows the same
figures as a visually hidden table for screen readers that skip SVG.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from django.db.models import Count
from django.db.models.functions import TruncWeek
from django.utils import timezone
from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

from articles.models import ArticleTopic, Topic

CHART_WEEKS = 12


@dataclass(frozen=True)
class WeekCount:
    week_start: date
    count: int

    @property
    def label(self) -> str:
        return f"{self.week_start.day} {self.week_start:%b}"

    @property
    def long_label(self) -> str:
        return f"week of {self.week_start.day} {self.week_start:%B %Y}"


def week_start(day: date) -> date:
    """Monday of ``day``'s ISO week."""
    return day - timedelta(days=day.weekday())


def weekly_article_counts(
    *, topic: Topic, weeks: int = CHART_WEEKS, today: date | None = None
) -> list[WeekCount]:
    """Published articles filed under ``topic`` in each of the last ``weeks`` weeks.

    Oldest week first; weeks with no articles count 0; the current week is the last
    and counts the days so far. One query.
    """
    today = today or timezone.localdate()
    first_monday = week_start(today) - timedelta(weeks=weeks - 1)
    start = timezone.make_aware(datetime.combine(first_monday, time.min))
    rows = (
        ArticleTopic.objects.filter(
            topic=topic,
            article__published_at__gte=start,
            article__published_at__lte=timezone.now(),
        )
        .annotate(week=TruncWeek("article__published_at"))
        .values("week")
        .annotate(count=Count("article_id"))
        .order_by("week")
    )
    counts: dict[date, int] = {}
    for row in rows:
        week = row["week"]
        key = timezone.localtime(week).date() if isinstance(week, datetime) else week
        counts[key] = counts.get(key, 0) + row["count"]
    return [
        WeekCount(
            week_start=first_monday + timedelta(weeks=index),
            count=counts.get(first_monday + timedelta(weeks=index), 0),
        )
        for index in range(weeks)
    ]


def bar_chart_svg(*, counts: list[WeekCount], title: str, chart_id: str) -> SafeString:
    """Return an accessible SVG bar chart of ``counts``; every text in it is escaped.

    Every bar carries its value above it and its week below it: the day of the
    week's Monday, with the month's name under the first week of each month.
    """
    # Drawn at about the size it is shown in a sidebar, so its text stays legible.
    width, height = 320, 190
    left, right, top, bottom = 8, 8, 16, 34
    plot_width = width - left - right
    plot_height = height - top - bottom
    ceiling = max((week.count for week in counts), default=0) or 1
    slot = plot_width / max(len(counts), 1)
    bar_width = slot * 0.66
    chart_id = escape(chart_id)
    description = "; ".join(f"{week.long_label}: {week.count}" for week in counts)
    baseline = top + plot_height
    parts = [
        f'<svg class="chart" viewBox="0 0 {width} {height}" role="img" '
        f'aria-labelledby="{chart_id}-title {chart_id}-desc" '
        f'preserveAspectRatio="xMidYMid meet" xmlns="http://www.w3.org/2000/svg">',
        f'<title id="{chart_id}-title">{escape(title)}</title>',
        f'<desc id="{chart_id}-desc">{escape(description)}</desc>',
        f'<line class="chart-grid" x1="{left}" x2="{width - right}" '
        f'y1="{baseline:.1f}" y2="{baseline:.1f}"/>',
    ]
    previous_month = None
    for index, week in enumerate(counts):
        bar_height = plot_height * week.count / ceiling
        x = left + slot * index + (slot - bar_width) / 2
        y = baseline - bar_height
        middle = x + bar_width / 2
        parts.append(
            f'<rect class="chart-bar" x="{x:.1f}" y="{y:.1f}" width="{bar_width:.1f}" '
            f'height="{bar_height:.1f}"><title>{escape(week.long_label)}: '
            f"{week.count}</title></rect>"
        )
        parts.append(
            f'<text class="chart-value" x="{middle:.1f}" y="{y - 4:.1f}" '
            f'text-anchor="middle" aria-hidden="true">{week.count}</text>'
        )
        parts.append(
            f'<text class="chart-axis" x="{middle:.1f}" y="{baseline + 13}" '
            f'text-anchor="middle" aria-hidden="true">{week.week_start.day}</text>'
        )
        month = (week.week_start.year, week.week_start.month)
        if month != previous_month:
            label_x = min(x, width - right - 18)  # a late month's name stays inside
            parts.append(
                f'<text class="chart-axis" x="{label_x:.1f}" y="{baseline + 26}" '
                f'aria-hidden="true">{escape(f"{week.week_start:%b}")}</text>'
            )
            previous_month = month
    parts.append("</svg>")
    return mark_safe("".join(parts))  # noqa: S308
