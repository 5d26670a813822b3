"""Invariants the database itself enforces: each test writes past Python's checks.

Every write here goes through ``Model.objects.create`` or ``QuerySet.update``,
which skip model validation, so only the constraint in the schema can refuse it.
"""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from django.db import IntegrityError, transaction
from django.utils import timezone

from articles.models import Article, Event, Source
from newsletters.models import Delivery, Issue, IssueItem, Subscriber
from tests.factories import (
    ArticleFactory,
    EventFactory,
    IssueFactory,
    SourceFactory,
    SubscriberFactory,
)

pytestmark = pytest.mark.django_db


def test_article_canonical_url_is_unique():
    first = ArticleFactory(canonical_url="https://news.example.org/a", guid="")

    with pytest.raises(IntegrityError), transaction.atomic():
        ArticleFactory(canonical_url=first.canonical_url, guid="", source=first.source)

    assert Article.objects.filter(canonical_url=first.canonical_url).count() == 1


def test_article_guid_is_unique_per_source():
    first = ArticleFactory(guid="tag:wire,2026:1")

    with pytest.raises(IntegrityError), transaction.atomic():
        ArticleFactory(source=first.source, guid=first.guid)


def test_article_same_guid_in_another_source_is_allowed():
    first = ArticleFactory(guid="1234")

    second = ArticleFactory(guid="1234")

    assert second.source_id != first.source_id


def test_article_blank_guids_do_not_collide():
    first = ArticleFactory(guid="")

    ArticleFactory(source=first.source, guid="")

    assert Article.objects.filter(source=first.source, guid="").count() == 2


def test_source_poll_interval_must_be_positive():
    with pytest.raises(IntegrityError), transaction.atomic():
        SourceFactory(poll_interval=timedelta(0))


def test_source_url_is_unique():
    first = SourceFactory()

    with pytest.raises(IntegrityError), transaction.atomic():
        Source.objects.create(name="Copy", url=first.url)


def test_event_cannot_end_before_it_starts():
    starts_at = timezone.now() + timedelta(days=3)

    with pytest.raises(IntegrityError), transaction.atomic():
        EventFactory(starts_at=starts_at, ends_at=starts_at - timedelta(minutes=1))


def test_event_uid_is_unique_per_source():
    source = SourceFactory(kind=Source.Kind.ICAL)
    EventFactory(source=source, uid="forum-2026@example.org")

    with pytest.raises(IntegrityError), transaction.atomic():
        EventFactory(source=source, uid="forum-2026@example.org")

    assert Event.objects.filter(source=source).count() == 1


def test_issue_number_is_unique():
    IssueFactory(number=7)

    with pytest.raises(IntegrityError), transaction.atomic():
        IssueFactory(number=7)


def test_issue_number_starts_at_one():
    with pytest.raises(IntegrityError), transaction.atomic():
        IssueFactory(number=0)


def test_issue_period_cannot_end_before_it_starts():
    with pytest.raises(IntegrityError), transaction.atomic():
        IssueFactory(period_start=date(2026, 4, 25), period_end=date(2026, 4, 18))


def test_scheduled_issue_needs_a_time():
    issue = IssueFactory()

    with pytest.raises(IntegrityError), transaction.atomic():
        Issue.objects.filter(pk=issue.pk).update(status=Issue.Status.SCHEDULED)

    issue.refresh_from_db()
    assert issue.status == Issue.Status.DRAFT


def test_sent_issue_needs_a_time():
    issue = IssueFactory()

    with pytest.raises(IntegrityError), transaction.atomic():
        Issue.objects.filter(pk=issue.pk).update(status=Issue.Status.SENT)


def test_issue_lists_an_article_once():
    issue = IssueFactory()
    article = ArticleFactory()
    IssueItem.objects.create(issue=issue, article=article, headline="First")

    with pytest.raises(IntegrityError), transaction.atomic():
        IssueItem.objects.create(
            issue=issue, article=article, headline="Again", section=IssueItem.Section.READING
        )


def test_issue_lists_an_event_once():
    issue = IssueFactory()
    event = EventFactory()
    IssueItem.objects.create(issue=issue, event=event, headline="Forum")

    with pytest.raises(IntegrityError), transaction.atomic():
        IssueItem.objects.create(issue=issue, event=event, headline="Forum again")


def test_issue_may_hold_several_free_links():
    issue = IssueFactory()

    IssueItem.objects.create(issue=issue, link_url="https://a.example.org/", headline="A")
    IssueItem.objects.create(issue=issue, link_url="https://b.example.org/", headline="B")

    assert issue.items.count() == 2


def test_one_delivery_per_issue_and_subscriber():
    issue = IssueFactory(status=Issue.Status.SENDING)
    subscriber = SubscriberFactory(active=True)
    Delivery.objects.create(issue=issue, subscriber=subscriber)

    with pytest.raises(IntegrityError), transaction.atomic():
        Delivery.objects.create(issue=issue, subscriber=subscriber)

    assert Delivery.objects.filter(issue=issue).count() == 1


def test_subscriber_email_is_unique_ignoring_case():
    Subscriber.objects.create(email="Foo@x.org")

    with pytest.raises(IntegrityError), transaction.atomic():
        Subscriber.objects.create(email="foo@x.org")

    assert Subscriber.objects.count() == 1
