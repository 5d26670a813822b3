"""Auto-draft on a fixture week: which stories, pieces and events it picks, and that
it never touches what an editor wrote."""

from __future__ import annotations

from datetime import date, datetime

import pytest
from django.utils import timezone

from articles.models import Article, Source
from newsletters.compiling.drafting import (
    RADAR_SIZE,
    READING_SIZE,
    auto_draft_issue,
    radar_stories,
)
from newsletters.compiling.items import ItemError
from newsletters.models import Issue, IssueItem
from tests.factories import (
    ArticleFactory,
    EventFactory,
    IssueFactory,
    IssueItemFactory,
    SourceFactory,
    StoryGroupFactory,
    TopicFactory,
)

pytestmark = pytest.mark.django_db

START = date(2025, 4, 18)
END = date(2025, 4, 25)


def at(day: int, hour: int = 12, month: int = 4) -> datetime:
    return datetime(2025, month, day, hour, tzinfo=timezone.get_current_timezone())


def story(title: str, *, outlets: int, day: int, topics=(), image: bool = True):
    """One story carried by ``outlets`` news outlets; returns the newest article."""
    group = StoryGroupFactory() if outlets > 1 else None
    newest = None
    for n in range(outlets):
        newest = ArticleFactory(
            title=f"{title} ({n})" if n else title,
            group=group,
            topics=list(topics),
            published_at=at(day, 8 + n),
            image_url="https://img.example.org/x.jpg" if image else "",
        )
    return newest


def new_issue(**kwargs) -> Issue:
    kwargs.setdefault("letter", "")
    return IssueFactory(period_start=START, period_end=END, **kwargs)


def radar_titles(issue: Issue) -> list[str]:
    return list(
        issue.items.filter(section=IssueItem.Section.RADAR)
        .order_by("order")
        .values_list("headline", flat=True)
    )


@pytest.fixture
def topics():
    return {name: TopicFactory(name=name) for name in ("AI", "Privacy", "Competition", "Crypto")}


@pytest.fixture
def fixture_week(topics):
    """A week of news: three stories many outlets carried, a dozen single reports,
    analysis pieces from two blogs, and events before, just after and long after."""
    story("EU AI Act enforcement begins", outlets=4, day=20, topics=[topics["AI"]])
    story("Chip export rules tightened", outlets=3, day=24, topics=[topics["Competition"]])
    story("Data transfer deal suspended", outlets=2, day=21, topics=[topics["Privacy"]])
    for n in range(12):
        topic = list(topics.values())[n % 4]
        story(f"Single report {n:02d}", outlets=1, day=18 + n % 8, topics=[topic])
    think_tank = SourceFactory(name="Think tank", category=Source.Category.ANALYSIS)
    blog = SourceFactory(name="Policy blog", category=Source.Category.ANALYSIS)
    for n in range(4):
        ArticleFactory(title=f"Think tank essay {n}", source=think_tank, published_at=at(19 + n))
    for n in range(2):
        ArticleFactory(title=f"Blog post {n}", source=blog, published_at=at(20 + n))
    EventFactory(title="During the period", starts_at=at(22, 14), ends_at=at(22, 16))
    EventFactory(title="Geneva forum", starts_at=at(29, 14), ends_at=at(29, 16))
    EventFactory(title="Cyber week", starts_at=at(12, 8, month=5), ends_at=at(14, 18, month=5))
    EventFactory(title="Too far ahead", starts_at=at(30, 8, month=6), ends_at=at(30, 9, month=6))


def test_fixture_week_draft_picks_big_stories_first_then_spreads_topics(fixture_week):
    issue = new_issue()

    result = auto_draft_issue(issue=issue)

    titles = radar_titles(issue)
    assert len(titles) == RADAR_SIZE == result.radar
    assert titles[:3] == [
        "EU AI Act enforcement begins (3)",
        "Chip export rules tightened (2)",
        "Data transfer deal suspended (1)",
    ]
    # One entry per story, news sources only.
    assert len(set(titles)) == len(titles)
    assert not any("essay" in title or "Blog" in title for title in titles)
    # The seven single reports chosen cover every topic.
    singles = IssueItem.objects.filter(issue=issue, headline__startswith="Single")
    covered = {t for item in singles.select_related("article") for t in item.article.topics.all()}
    assert len(covered) == 4


def test_fixture_week_reading_corner_takes_analysis_sources_one_per_source_first(fixture_week):
    issue = new_issue()
    result = auto_draft_issue(issue=issue)

    reading = list(
        issue.items.filter(section=IssueItem.Section.READING)
        .order_by("order")
        .values_list("headline", flat=True)
    )
    assert result.reading == READING_SIZE
    assert reading[:2] == ["Think tank essay 3", "Blog post 1"]
    assert set(reading[2:]) == {"Think tank essay 2", "Blog post 0", "Think tank essay 1"}


def test_fixture_week_events_are_those_of_the_weeks_after_the_period(fixture_week):
    issue = new_issue()
    auto_draft_issue(issue=issue)

    events = list(
        issue.items.filter(section=IssueItem.Section.EVENTS)
        .order_by("order")
        .values_list("headline", flat=True)
    )
    assert events == ["Geneva forum", "Cyber week"]


def test_more_outlets_beat_recency(topics):
    story("Late single", outlets=1, day=25, topics=[topics["AI"]])
    story("Early but everywhere", outlets=3, day=18, topics=[topics["Privacy"]])
    chosen = radar_stories(issue=new_issue(), count=1)
    assert [Article.objects.get(pk=pk).title for pk in chosen] == ["Early but everywhere (2)"]


def test_recency_breaks_ties_between_equal_stories(topics):
    story("Monday", outlets=2, day=21, topics=[topics["AI"]])
    story("Thursday", outlets=2, day=24, topics=[topics["Privacy"]])
    issue = new_issue()
    auto_draft_issue(issue=issue)
    assert radar_titles(issue) == ["Thursday (1)", "Monday (1)"]


def test_topic_spread_prefers_a_new_topic_over_a_second_on_the_same(topics):
    story("AI one", outlets=2, day=24, topics=[topics["AI"]])
    story("AI two", outlets=2, day=23, topics=[topics["AI"]])
    story("Privacy older", outlets=2, day=19, topics=[topics["Privacy"]])
    issue = new_issue()
    chosen = [Article.objects.get(pk=pk).title for pk in radar_stories(issue=issue, count=2)]
    assert chosen == ["AI one (1)", "Privacy older (1)"]


def test_group_shows_its_newest_article_with_an_image(topics):
    group = StoryGroupFactory()
    ArticleFactory(
        title="With image", group=group, published_at=at(20), image_url="https://i.example/a.jpg"
    )
    ArticleFactory(title="Newest, no image", group=group, published_at=at(21), image_url="")
    issue = new_issue()
    auto_draft_issue(issue=issue)
    item = issue.items.get(section=IssueItem.Section.RADAR)
    assert item.headline == "With image"
    assert item.image_url == "https://i.example/a.jpg"


def test_second_run_adds_nothing_and_keeps_the_editors_work(fixture_week):
    issue = new_issue()
    auto_draft_issue(issue=issue)
    item = issue.items.filter(section=IssueItem.Section.RADAR).order_by("order").first()
    item.blurb = "The editor's own words."
    item.edited_by_editor = True
    item.save()
    Issue.objects.filter(pk=issue.pk).update(letter="Dear readers, my letter.")
    before = list(
        issue.items.order_by("pk").values_list("pk", "section", "order", "headline", "blurb")
    )

    result = auto_draft_issue(issue=issue)

    assert (result.radar, result.reading, result.events, result.letter) == (0, 0, 0, False)
    assert str(result) == "Auto-draft found nothing new to add."
    after = list(
        issue.items.order_by("pk").values_list("pk", "section", "order", "headline", "blurb")
    )
    assert after == before
    issue.refresh_from_db()
    assert issue.letter == "Dear readers, my letter."


def test_draft_fills_only_up_to_the_section_size_after_the_editors_items(fixture_week):
    issue = new_issue()
    mine = IssueItemFactory(
        issue=issue,
        section=IssueItem.Section.RADAR,
        order=1,
        headline="Editor's pick",
        edited_by_editor=True,
    )
    result = auto_draft_issue(issue=issue)
    assert result.radar == RADAR_SIZE - 1
    assert radar_titles(issue)[0] == "Editor's pick"
    mine.refresh_from_db()
    assert mine.headline == "Editor's pick"


def test_letter_outline_links_top_stories_when_empty(fixture_week):
    issue = new_issue()
    result = auto_draft_issue(issue=issue)
    issue.refresh_from_db()
    assert result.letter
    assert issue.letter.startswith("Dear readers,")
    top = issue.items.filter(section=IssueItem.Section.RADAR).order_by("order").first()
    assert f"(article:{top.article.pk})" in issue.letter


@pytest.mark.parametrize("status", [Issue.Status.SENDING, Issue.Status.SENT])
def test_draft_refused_for_an_issue_sending_or_sent(fixture_week, status):
    issue = new_issue(status=status)
    with pytest.raises(ItemError):
        auto_draft_issue(issue=issue)
    assert not issue.items.exists()


def test_draft_with_an_empty_week_adds_nothing():
    issue = new_issue()
    result = auto_draft_issue(issue=issue)
    assert not issue.items.exists()
    assert (result.radar, result.reading, result.events, result.letter) == (0, 0, 0, False)


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_auto_drafts_at_once_add_each_story_once(fixture_week):
    import threading

    from django.db import connection

    issue = new_issue()
    barrier = threading.Barrier(2)
    results, errors = [], []

    def draft() -> None:
        try:
            barrier.wait(timeout=10)
            results.append(auto_draft_issue(issue=Issue.objects.get(pk=issue.pk)))
        except Exception as error:  # reported below
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=draft) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)

    assert errors == []
    assert sorted(result.radar for result in results) == [0, RADAR_SIZE]
    radar = issue.items.filter(section=IssueItem.Section.RADAR)
    assert radar.count() == RADAR_SIZE
    assert radar.values("article_id").distinct().count() == RADAR_SIZE
