"""Adding articles and events to an issue, and how an event's time is shown."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from newsletters.compiling.items import (
    ItemError,
    add_article_item,
    add_event_item,
    event_schedule,
    events_after_period,
)
from newsletters.models import Issue, IssueItem
from tests.factories import ArticleFactory, EventFactory, IssueFactory, IssueItemFactory

ZONES = ["America/New_York", "UTC", "Europe/Zurich"]


def event(**kwargs):
    """An unsaved event: event_schedule needs no database."""
    from articles.models import Event

    kwargs.setdefault("title", "Forum")
    kwargs.setdefault("time_zone", "Europe/Zurich")
    return Event(**kwargs)


def test_summer_event_in_three_zones_with_duration_online():
    online = event(
        starts_at=datetime(2025, 4, 22, 14, 0, tzinfo=UTC),
        ends_at=datetime(2025, 4, 22, 16, 0, tzinfo=UTC),
        is_online=True,
    )
    assert event_schedule(online, zones=ZONES) == (
        "Tue 22 April 2025 · 10.00 EDT | 14.00 UTC | 16.00 CEST · 2 h · Online"
    )


def test_multi_day_event_shows_its_dates_not_a_duration_in_hours():
    geneva = event(
        starts_at=datetime(2025, 1, 15, 15, 0, tzinfo=UTC),
        ends_at=datetime(2025, 1, 17, 15, 0, tzinfo=UTC),
        place="Palais des Nations, Geneva",
    )
    assert event_schedule(geneva, zones=ZONES) == (
        "15–17 January 2025 · 10.00 EST | 15.00 UTC | 16.00 CET · Palais des Nations, Geneva"
    )


def test_date_is_the_organisers_local_date():
    # 23.30 UTC on the 22nd is already the 23rd in Zurich.
    late = event(
        starts_at=datetime(2025, 4, 22, 23, 30, tzinfo=UTC),
        ends_at=datetime(2025, 4, 23, 0, 15, tzinfo=UTC),
        is_online=True,
    )
    assert event_schedule(late, zones=["UTC"]).startswith("Wed 23 April 2025 · 23.30 UTC · 45 min")


def test_hybrid_event_and_event_without_end_time():
    hybrid = event(
        starts_at=datetime(2025, 4, 22, 9, 0, tzinfo=UTC),
        ends_at=datetime(2025, 4, 22, 9, 0, tzinfo=UTC),
        is_online=True,
        place="Brussels",
    )
    assert (
        event_schedule(hybrid, zones=["UTC"])
        == "Tue 22 April 2025 · 09.00 UTC · Brussels and online"
    )


def test_unknown_organiser_zone_falls_back_to_utc():
    odd = event(
        starts_at=datetime(2025, 4, 22, 9, 0, tzinfo=UTC),
        ends_at=datetime(2025, 4, 22, 10, 0, tzinfo=UTC),
        time_zone="Mars/Olympus",
    )
    assert event_schedule(odd, zones=["UTC"]).startswith("Tue 22 April 2025 · 09.00 UTC")


@pytest.mark.django_db
def test_events_after_period_are_those_of_the_four_weeks_after_the_period():
    issue = IssueFactory(period_start=date(2025, 4, 18), period_end=date(2025, 4, 25))

    def at(day: date):
        start = datetime(day.year, day.month, day.day, 12, tzinfo=UTC)
        return EventFactory(title=str(day), starts_at=start, ends_at=start + timedelta(hours=1))

    at(date(2025, 4, 25))
    at(date(2025, 4, 26))
    at(date(2025, 5, 23))
    at(date(2025, 5, 24))

    assert [e.title for e in events_after_period(issue=issue)] == ["2025-04-26", "2025-05-23"]


@pytest.mark.django_db
def test_article_goes_after_the_last_item_of_its_section():
    issue = IssueFactory()
    IssueItemFactory(issue=issue, section=IssueItem.Section.RADAR, order=7)
    IssueItemFactory(issue=issue, section=IssueItem.Section.READING, order=2)

    item = add_article_item(issue=issue, article=ArticleFactory(), section="reading")

    assert (item.section, item.order) == ("reading", 3)


@pytest.mark.django_db
def test_article_cannot_go_into_events_or_twice():
    issue = IssueFactory()
    article = ArticleFactory()
    with pytest.raises(ItemError, match="Radar or Reading corner"):
        add_article_item(issue=issue, article=article, section="events")
    add_article_item(issue=issue, article=article)
    with pytest.raises(ItemError, match=f"already in issue #{issue.number}"):
        add_article_item(issue=issue, article=article, section="reading")
    assert issue.items.count() == 1


@pytest.mark.django_db
def test_event_cannot_be_added_twice():
    issue = IssueFactory()
    forum = EventFactory()
    add_event_item(issue=issue, event=forum)
    with pytest.raises(ItemError, match="already in issue"):
        add_event_item(issue=issue, event=forum)
    assert issue.items.count() == 1


@pytest.mark.django_db
@pytest.mark.parametrize("status", [Issue.Status.SENDING, Issue.Status.SENT])
def test_nothing_is_added_to_an_issue_sending_or_sent(status):
    issue = IssueFactory(status=status)
    with pytest.raises(ItemError, match="no new ones added"):
        add_article_item(issue=issue, article=ArticleFactory())
    with pytest.raises(ItemError):
        add_event_item(issue=issue, event=EventFactory())
    assert not issue.items.exists()


@pytest.mark.django_db
def test_events_stay_in_order_of_start_whatever_order_they_are_added():
    issue = IssueFactory(period_start=date(2025, 4, 14), period_end=date(2025, 4, 20))
    late = EventFactory(starts_at=datetime(2025, 4, 30, 9, tzinfo=UTC))
    early = EventFactory(starts_at=datetime(2025, 4, 22, 9, tzinfo=UTC))
    hand_added = IssueItemFactory(issue=issue, section="events", order=1, event=None)
    add_event_item(issue=issue, event=late)
    add_event_item(issue=issue, event=early)
    rows = list(issue.items.filter(section="events").order_by("order"))
    assert [row.event_id for row in rows] == [early.pk, late.pk, None]
    assert rows[2].pk == hand_added.pk
