"""The candidate pool: the period's unused stories, newest first, duplicates folded."""

from __future__ import annotations

from datetime import date, datetime, timedelta

import pytest
from django.utils import timezone

from newsletters.compiling.pool import candidate_pool
from tests.factories import (
    ArticleFactory,
    IssueFactory,
    IssueItemFactory,
    SourceFactory,
    StoryGroupFactory,
    TopicFactory,
)

pytestmark = pytest.mark.django_db

START = date(2025, 4, 18)
END = date(2025, 4, 25)


def at(day: int, hour: int = 12) -> datetime:
    return datetime(2025, 4, day, hour, tzinfo=timezone.get_current_timezone())


def issue(**kwargs):
    return IssueFactory(period_start=START, period_end=END, **kwargs)


def shown_titles(page) -> list[str]:
    return [story.article.title for story in page.stories]


def test_pool_holds_the_periods_articles_newest_first():
    ArticleFactory(title="Older", published_at=at(19))
    ArticleFactory(title="Newer", published_at=at(24))
    ArticleFactory(title="Before the period", published_at=at(17, 23))
    ArticleFactory(title="After the period", published_at=at(26, 1))
    ArticleFactory(title="Unpublished", published_at=None)

    assert shown_titles(candidate_pool(issue=issue())) == ["Newer", "Older"]


def test_articles_used_by_any_issue_are_left_out():
    used_elsewhere = ArticleFactory(title="In last issue", published_at=at(20))
    used_here = ArticleFactory(title="Already here", published_at=at(21))
    ArticleFactory(title="Free", published_at=at(22))
    this_issue = issue()
    IssueItemFactory(
        issue=IssueFactory(period_start=START, period_end=END), article=used_elsewhere
    )
    IssueItemFactory(issue=this_issue, article=used_here)

    assert shown_titles(candidate_pool(issue=this_issue)) == ["Free"]


def test_near_duplicates_fold_under_the_newest_with_outlet_count():
    group = StoryGroupFactory()
    outlets = [SourceFactory(name=f"Outlet {n}") for n in range(3)]
    for day, outlet in zip((20, 21, 22), outlets, strict=True):
        ArticleFactory(
            title=f"Fine story from {outlet.name}",
            group=group,
            source=outlet,
            published_at=at(day),
        )
    # A second article from the same outlet does not count as another source.
    ArticleFactory(title="Follow-up", group=group, source=outlets[0], published_at=at(19))
    ArticleFactory(title="Lone story", published_at=at(23))

    page = candidate_pool(issue=issue())

    assert shown_titles(page) == ["Lone story", "Fine story from Outlet 2"]
    folded = page.stories[1]
    assert folded.outlet_count == 3
    assert sorted(a.title for a in folded.other_articles) == [
        "Fine story from Outlet 0",
        "Fine story from Outlet 1",
        "Follow-up",
    ]
    assert page.article_count == 5


def test_story_already_in_the_issue_through_another_outlet_is_left_out():
    group = StoryGroupFactory()
    first = ArticleFactory(group=group, published_at=at(20))
    ArticleFactory(group=group, published_at=at(21))
    this_issue = issue()
    IssueItemFactory(issue=this_issue, article=first)

    assert candidate_pool(issue=this_issue).stories == []


def test_filter_by_topic_source_and_text():
    ai, privacy = TopicFactory(name="AI"), TopicFactory(name="Privacy")
    wire = SourceFactory(name="Policy Wire")
    ArticleFactory(title="Chatbot rules agreed", topics=[ai], published_at=at(20))
    ArticleFactory(
        title="Cookie banners fined", topics=[privacy], source=wire, published_at=at(21)
    )
    ArticleFactory(title="Model audits begin", topics=[ai], source=wire, published_at=at(22))
    this_issue = issue()

    assert shown_titles(candidate_pool(issue=this_issue, topic_id=ai.pk)) == [
        "Model audits begin",
        "Chatbot rules agreed",
    ]
    assert shown_titles(candidate_pool(issue=this_issue, source_id=wire.pk)) == [
        "Model audits begin",
        "Cookie banners fined",
    ]
    assert shown_titles(candidate_pool(issue=this_issue, text="cookie")) == [
        "Cookie banners fined"
    ]
    assert shown_titles(candidate_pool(issue=this_issue, text="policy wire", topic_id=ai.pk)) == [
        "Model audits begin"
    ]


def test_filtered_folded_story_is_shown_by_its_matching_article():
    ai = TopicFactory(name="AI")
    group = StoryGroupFactory()
    ArticleFactory(title="Tagged AI", group=group, topics=[ai], published_at=at(20))
    ArticleFactory(title="Untagged newer", group=group, published_at=at(22))

    page = candidate_pool(issue=issue(), topic_id=ai.pk)

    assert shown_titles(page) == ["Tagged AI"]
    assert page.stories[0].outlet_count == 2


def test_pool_is_paginated():
    for n in range(7):
        ArticleFactory(title=f"Story {n}", published_at=at(19) + timedelta(hours=n))
    this_issue = issue()

    first = candidate_pool(issue=this_issue, per_page=3)
    last = candidate_pool(issue=this_issue, per_page=3, page_number=3)

    assert shown_titles(first) == ["Story 6", "Story 5", "Story 4"]
    assert shown_titles(last) == ["Story 0"]
    assert first.page.paginator.num_pages == 3
    # A page number out of range gives the last page rather than an error.
    assert shown_titles(candidate_pool(issue=this_issue, per_page=3, page_number="99")) == [
        "Story 0"
    ]


def test_pool_queries_do_not_grow_with_its_size(django_assert_max_num_queries):
    groups = [StoryGroupFactory() for _ in range(10)]
    topic = TopicFactory()
    for n in range(120):
        ArticleFactory(
            published_at=at(19) + timedelta(minutes=n),
            group=groups[n % 10] if n % 3 == 0 else None,
            topics=[topic],
        )
    this_issue = issue()
    with django_assert_max_num_queries(5):
        page = candidate_pool(issue=this_issue, topic_id=topic.pk)
        seen = [
            (
                story.article.source.name,
                [t.name for t in story.article.topics.all()],
                [a.source.name for a in story.other_articles],
            )
            for story in page.stories
        ]
    # 40 grouped articles fold into 10 stories, plus 80 single ones: 90, 50 a page.
    assert page.page.paginator.count == 90
    assert len(seen) == 50
    assert all(topics == [topic.name] for _source, topics, _others in seen)


def test_with_used_stories_shown_each_is_marked_with_where_it_is():
    this_issue = issue(number=210)
    last_issue = IssueFactory(number=209, period_start=START, period_end=END)
    IssueItemFactory(
        issue=last_issue, article=ArticleFactory(title="In last issue", published_at=at(20))
    )
    IssueItemFactory(
        issue=this_issue, article=ArticleFactory(title="Already here", published_at=at(21))
    )
    ArticleFactory(title="Free", published_at=at(22))

    page = candidate_pool(issue=this_issue, include_used=True)

    marks = {
        story.article.title: (story.in_this_issue, story.used_in, story.addable)
        for story in page.stories
    }
    assert marks == {
        "Free": (False, [], True),
        "Already here": (True, [], False),
        "In last issue": (False, [209], False),
    }
    assert shown_titles(page) == ["Free", "Already here", "In last issue"]
    assert (page.article_count, page.used_story_count) == (1, 2)
    # Without the flag the pool is what can still be added.
    assert shown_titles(candidate_pool(issue=this_issue)) == ["Free"]


def test_a_story_with_a_free_article_left_is_addable_and_says_where_the_other_is():
    group = StoryGroupFactory()
    taken = ArticleFactory(title="Taken version", group=group, published_at=at(22))
    ArticleFactory(title="Free version", group=group, published_at=at(21))
    IssueItemFactory(issue=IssueFactory(number=301), article=taken)

    (story,) = candidate_pool(issue=issue(number=302), include_used=True).stories

    assert (story.article.title, story.addable, story.used_in) == ("Free version", True, [301])


def test_words_of_the_body_match_even_half_typed():
    ArticleFactory(
        title="Court rules", body_text="The data protection authority fined a platform.",
        published_at=at(20),
    )  # fmt: skip
    ArticleFactory(title="Chips", body_text="Subsidies for factories.", published_at=at(21))
    this_issue = issue()

    # On PostgreSQL through the search index (words as prefixes), elsewhere as text.
    assert shown_titles(candidate_pool(issue=this_issue, text="protection auth")) == [
        "Court rules"
    ]
    assert shown_titles(candidate_pool(issue=this_issue, text="subsid")) == ["Chips"]
    assert shown_titles(candidate_pool(issue=this_issue, text="%")) == []
