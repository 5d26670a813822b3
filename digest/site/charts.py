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


def _nice_ceiling(value: int) -> int:
    """The smallest of 1, 2, 5, 10, 20, 50… at or above ``value`` (at least 1)."""
    step = 1
    while True:
        for factor in (1, 2, 5):
            if step * factor >= value:
                return step * factor
        step *= 10


def bar_chart_svg(*, counts: list[WeekCount], title: str, chart_id: str) -> SafeString:
    """Return an accessible SVG bar chart of ``counts``; every text in it is escaped."""
    # Drawn at about the size it is shown in a sidebar, so its text stays legible.
    width, height = 320, 180
    left, right, top, bottom = 26, 16, 10, 26
    plot_width = width - left - right
    plot_height = height - top - bottom
    ceiling = _nice_ceiling(max((week.count for week in counts), default=0))
    slot = plot_width / max(len(counts), 1)
    bar_width = slot * 0.66
    chart_id = escape(chart_id)
    description = "; ".join(f"{week.long_label}: {week.count}" for week in counts)
    parts = [
        f'<svg class="chart" viewBox="0 0 {width} {height}" role="img" '
        f'aria-labelledby="{chart_id}-title {chart_id}-desc" '
        f'preserveAspectRatio="xMidYMid meet" xmlns="http://www.w3.org/2000/svg">',
        f'<title id="{chart_id}-title">{escape(title)}</title>',
        f'<desc id="{chart_id}-desc">{escape(description)}</desc>',
    ]
    for tick in (0, ceiling // 2 if ceiling % 2 == 0 else None, ceiling):
        if tick is None:
            continue
        y = top + plot_height - plot_height * tick / ceiling
        parts.append(
            f'<line class="chart-grid" x1="{left}" x2="{width - right}" '
            f'y1="{y:.1f}" y2="{y:.1f}"/>'
        )
        parts.append(
            f'<text class="chart-axis" x="{left - 6}" y="{y + 4:.1f}" '
            f'text-anchor="end">{tick}</text>'
        )
    for index, week in enumerate(counts):
        bar_height = plot_height * week.count / ceiling
        x = left + slot * index + (slot - bar_width) / 2
        y = top + plot_height - bar_height
        parts.append(
            f'<rect class="chart-bar" x="{x:.1f}" y="{y:.1f}" width="{bar_width:.1f}" '
            f'height="{bar_height:.1f}"><title>{escape(week.long_label)}: '
            f"{week.count}</title></rect>"
        )
        if index % 2 == (len(counts) - 1) % 2 or len(counts) <= 6:
            parts.append(
                f'<text class="chart-axis" x="{x + bar_width / 2:.1f}" '
                f'y="{height - bottom + 16}" text-anchor="middle">{escape(week.label)}</text>'
            )
    parts.append("</svg>")
    return mark_safe("".join(parts))  # noqa: S308
