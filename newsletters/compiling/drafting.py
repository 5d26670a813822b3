"""Auto-draft: fill an issue's sections from its period, for the editor to edit.

Radar gets about ten stories, picked by how many outlets carried them, spread over
topics, newer first among equals; the Reading corner gets the period's pieces from
analysis and blog sources; Upcoming events gets the events of the following weeks.
Auto-draft only adds: it never changes or removes an item, and fills a letter only
when there is none, so a second run after the editor's work changes nothing of it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, time, timedelta

from django.db import transaction
from django.db.models import F
from django.utils import timezone

from articles.models import Article, ArticleTopic, Source
from newsletters.compiling.items import (
    EDITABLE_STATUSES,
    ItemError,
    add_article_item,
    add_event_item,
    events_after_period,
)
from newsletters.compiling.letter import article_link
from newsletters.compiling.pool import pool_articles
from newsletters.models import Issue, IssueItem

# The real newsletter runs 10 to 12 Radar highlights; auto-draft proposes the lower end
# so the editor adds rather than cuts.
RADAR_SIZE = 10
# The Reading corner holds three to five pieces; auto-draft fills up to five.
READING_SIZE = 5
# More than this many events makes the section a calendar dump.
EVENTS_SIZE = 8
# How much one more story on an already-covered topic costs, in outlets: a three-outlet
# story on a covered topic ties with a two-outlet story on a fresh one.
TOPIC_REPEAT_PENALTY = 1.0
# Recency breaks ties between stories carried by as many outlets, never more.
RECENCY_WEIGHT = 0.5


@dataclass
class DraftResult:
    radar: int = 0
    reading: int = 0
    events: int = 0
    letter: bool = False

    def __str__(self) -> str:
        if not (self.radar or self.reading or self.events or self.letter):
            return "Auto-draft found nothing new to add."
        parts = [
            f"{self.radar} Radar item{'s' if self.radar != 1 else ''}",
            f"{self.reading} Reading corner item{'s' if self.reading != 1 else ''}",
            f"{self.events} event{'s' if self.events != 1 else ''}",
        ]
        text = "Auto-draft added " + ", ".join(parts)
        return text + (" and a letter outline." if self.letter else ".")


@dataclass
class _Story:
    article_id: int
    outlets: int
    published_at: datetime
    topics: frozenset[int]


def _period_bounds(issue: Issue) -> tuple[datetime, float]:
    zone = timezone.get_current_timezone()
    start = datetime.combine(issue.period_start, time.min, tzinfo=zone)
    end = datetime.combine(issue.period_end + timedelta(days=1), time.min, tzinfo=zone)
    return start, max((end - start).total_seconds(), 1.0)


def radar_stories(*, issue: Issue, count: int) -> list[int]:
    """Return up to ``count`` article ids for Radar, best first.

    Promises: one article per story (``StoryGroup``), from news sources only; the
    story's score is the number of distinct outlets that carried it, plus up to
    ``RECENCY_WEIGHT`` for how late in the period it broke, minus
    ``TOPIC_REPEAT_PENALTY`` for each story already chosen (or already in Radar) on
    its most-covered topic. Each story shows its newest article with an image, or
    its newest article.
    """
    if count <= 0:
        return []
    used_groups = set(
        issue.items.filter(article__group__isnull=False).values_list(
            "article__group_id", flat=True
        )
    )
    rows = list(
        pool_articles(issue=issue)
        .order_by("-published_at", "-id")
        .values_list(
            "id", "group_id", "source_id", "source__category", "published_at", "image_url"
        )
    )
    groups: dict[tuple[str, int], list[tuple]] = {}
    for row in rows:
        article_id, group_id = row[0], row[1]
        if group_id in used_groups:
            continue
        key = ("group", group_id) if group_id else ("article", article_id)
        groups.setdefault(key, []).append(row)

    stories: list[_Story] = []
    for members in groups.values():
        news = [row for row in members if row[3] == Source.Category.NEWS]
        if not news:
            continue
        shown = next((row for row in news if row[5]), news[0])
        stories.append(
            _Story(
                article_id=shown[0],
                outlets=len({row[2] for row in members}),
                published_at=news[0][4],
                topics=frozenset(),
            )
        )
    topics_of: dict[int, set[int]] = {}
    for article_id, topic_id in ArticleTopic.objects.filter(
        article_id__in=[story.article_id for story in stories]
    ).values_list("article_id", "topic_id"):
        topics_of.setdefault(article_id, set()).add(topic_id)
    for story in stories:
        story.topics = frozenset(topics_of.get(story.article_id, ()))

    topic_counts: dict[int, int] = {}
    for topic_id in ArticleTopic.objects.filter(
        article__issue_items__issue=issue, article__issue_items__section=IssueItem.Section.RADAR
    ).values_list("topic_id", flat=True):
        topic_counts[topic_id] = topic_counts.get(topic_id, 0) + 1

    start, span = _period_bounds(issue)

    def score(story: _Story) -> tuple[float, datetime, int]:
        recency = min(max((story.published_at - start).total_seconds() / span, 0.0), 1.0)
        overlap = max((topic_counts.get(topic, 0) for topic in story.topics), default=0)
        value = story.outlets + RECENCY_WEIGHT * recency - TOPIC_REPEAT_PENALTY * overlap
        return (value, story.published_at, story.article_id)

    chosen: list[int] = []
    remaining = stories
    while remaining and len(chosen) < count:
        best = max(remaining, key=score)
        chosen.append(best.article_id)
        for topic in best.topics:
            topic_counts[topic] = topic_counts.get(topic, 0) + 1
        remaining = [story for story in remaining if story is not best]
    return chosen


def reading_pieces(*, issue: Issue, count: int) -> list[int]:
    """Up to ``count`` article ids from analysis/blog sources, newest first, one per
    source before any source gets a second."""
    if count <= 0:
        return []
    rows = list(
        pool_articles(issue=issue)
        .filter(source__category=Source.Category.ANALYSIS)
        .order_by("-published_at", "-id")
        .values_list("id", "source_id")
    )
    first_per_source, rest, seen = [], [], set()
    for article_id, source_id in rows:
        (rest if source_id in seen else first_per_source).append(article_id)
        seen.add(source_id)
    return (first_per_source + rest)[:count]


def _letter_outline(articles: list[Article]) -> str:
    # Article references, as the story picker writes them: they follow a slug change.
    links = [article_link(article) for article in articles]
    if not links:
        return "Dear readers,\n\n"
    listed = links[0] if len(links) == 1 else ", ".join(links[:-1]) + " and " + links[-1]
    return f"Dear readers,\n\nThis week: {listed}.\n\n"


def auto_draft_issue(*, issue: Issue) -> DraftResult:
    """Fill ``issue``'s sections up to their sizes from its period and return what was
    added.

    Promises: existing items are neither changed nor moved, new ones go after them;
    a section already at its size gets nothing, so a second run adds nothing; the
    letter is written (as an outline linking the top stories) only when it is empty.
    Raises ``ItemError`` for an issue that is sending or sent. Two runs at once are
    serialised on the issue's row.
    """
    result = DraftResult()
    with transaction.atomic():
        locked = Issue.objects.select_for_update().get(pk=issue.pk)
        if locked.status not in EDITABLE_STATUSES:
            raise ItemError(
                f"Issue #{locked.number} is {locked.get_status_display().lower()}: "
                "auto-draft only fills issues being compiled."
            )
        have = {section: 0 for section in IssueItem.Section.values}
        for section in locked.items.values_list("section", flat=True):
            have[section] += 1

        radar_ids = radar_stories(issue=locked, count=RADAR_SIZE - have["radar"])
        reading_ids = reading_pieces(issue=locked, count=READING_SIZE - have["reading"])
        articles = Article.objects.in_bulk(radar_ids + reading_ids)
        for article_id in radar_ids:
            add_article_item(
                issue=locked, article=articles[article_id], section=IssueItem.Section.RADAR
            )
            result.radar += 1
        for article_id in reading_ids:
            add_article_item(
                issue=locked, article=articles[article_id], section=IssueItem.Section.READING
            )
            result.reading += 1

        events_wanted = EVENTS_SIZE - have["events"]
        if events_wanted > 0:
            for event in events_after_period(issue=locked).exclude(issue_items__issue=locked)[
                :events_wanted
            ]:
                add_event_item(issue=locked, event=event)
                result.events += 1

        if radar_ids and not locked.letter.strip():
            top = [articles[article_id] for article_id in radar_ids[:3]]
            result.letter = bool(
                Issue.objects.filter(pk=locked.pk, letter=locked.letter).update(
                    letter=_letter_outline(top),
                    # An open compile screen's copy of the letter is stale now.
                    version=F("version") + 1,
                    updated_at=timezone.now(),
                )
            )
    issue.refresh_from_db()
    return result
