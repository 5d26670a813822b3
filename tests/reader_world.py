"""A small published world for reader-site tests: topics, stories, issues and events.

``build_reader_world(articles_per_topic=n)`` makes the row counts scale with ``n`` so
query-count tests can show a page costs the same with few rows and with many.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta

from django.utils import timezone

from articles.models import Article, Event, Topic
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


@dataclass
class ReaderWorld:
    topics: list[Topic]
    articles: list[Article]
    issues: list[Issue]
    draft: Issue
    events: list[Event]
    items: list[IssueItem] = field(default_factory=list)

    @property
    def latest_issue(self) -> Issue:
        return max(self.issues, key=lambda issue: issue.number)


def build_reader_world(*, articles_per_topic: int = 3, issues: int = 2) -> ReaderWorld:
    now = timezone.now()
    topics = [
        TopicFactory(name="Artificial intelligence", slug="ai", description="Rules for AI."),
        TopicFactory(name="Data protection", slug="privacy", description="Privacy law."),
        TopicFactory(name="Trade", slug="trade", description="Digital trade."),
    ]
    sources = [SourceFactory(name="Policy Wire"), SourceFactory(name="Tech Ledger")]
    group = StoryGroupFactory()
    articles = []
    for topic_index, topic in enumerate(topics):
        for index in range(articles_per_topic):
            article = ArticleFactory(
                source=sources[index % 2],
                title=f"{topic.name} story {index}",
                published_at=now - timedelta(days=index % 60, hours=topic_index + 1),
                topics=[topic],
                group=group if index == 0 else None,
            )
            article.tags.add(f"tag-{topic.slug}", "policy")
            articles.append(article)
    sent = []
    items = []
    for number in range(1, issues + 1):
        issue = IssueFactory(
            number=number,
            title=f"Issue title {number}",
            status=Issue.Status.SENT,
            period_start=(now - timedelta(days=7 * (issues - number + 1))).date(),
            period_end=(now - timedelta(days=7 * (issues - number))).date(),
            letter=f"Dear readers,\n\nThe letter of issue {number} talks about *AI* rules.",
        )
        sent.append(issue)
        for order, article in enumerate(articles[number - 1 :: max(issues, 1)][:4]):
            items.append(IssueItemFactory(issue=issue, article=article, order=order))
    draft = IssueFactory(number=issues + 1, title="Unpublished draft", status=Issue.Status.DRAFT)
    IssueItemFactory(issue=draft, article=articles[-1], order=0)
    events = [
        EventFactory(
            title="Upcoming AI forum",
            # 10:00 UTC, so its two hours never cross midnight in the organiser's zone
            # (an event over two days shows no length), whenever the tests run.
            starts_at=(now + timedelta(days=3)).replace(hour=10, minute=0, second=0),
            topics=[topics[0]],
        ),
        EventFactory(
            title="Past privacy summit",
            starts_at=now - timedelta(days=10),
            ends_at=now - timedelta(days=10) + timedelta(hours=3),
        ),
    ]
    return ReaderWorld(
        topics=topics, articles=articles, issues=sent, draft=draft, events=events, items=items
    )
