"""Before sending: the audience with counts, the checklist, period and title warnings."""

from __future__ import annotations

from datetime import date

import pytest
from django.utils import timezone

from newsletters.compiling.checks import audience, period_warnings, send_checklist, title_warning
from tests.factories import IssueFactory, IssueItemFactory, SubscriberFactory, TopicFactory

pytestmark = pytest.mark.django_db


def test_audience_counts_full_issue_and_topic_digest_subscribers():
    topic = TopicFactory()
    for _ in range(3):
        SubscriberFactory(active=True)
    for _ in range(2):
        SubscriberFactory(active=True, topics=[topic, TopicFactory()])
    SubscriberFactory()  # not confirmed
    SubscriberFactory(active=True, is_paused=True)
    issue = IssueFactory(number=210)
    reach = audience(issue=issue)
    assert (reach.total, reach.full_issue, reach.topic_digests) == (5, 3, 2)
    assert reach.sentence(issue) == "Send #210 to 5 subscribers: 3 full issue, 2 topic digests"


def test_an_overlapping_period_is_named():
    IssueFactory(number=4, period_start=date(2025, 4, 11), period_end=date(2025, 4, 18))
    issue = IssueFactory(number=5, period_start=date(2025, 4, 18), period_end=date(2025, 4, 25))
    assert period_warnings(issue=issue) == [
        "The period overlaps issue #4 (draft, 11 Apr – 18 Apr 2025)."
    ]
    IssueFactory(number=6, period_start=date(2025, 4, 26), period_end=date(2025, 5, 2))
    assert len(period_warnings(issue=issue)) == 1


def test_title_warning_shows_the_limit():
    assert title_warning("x" * 300) == ""
    assert title_warning("x" * 339) == "The title is 339 characters; the limit is 300."


def test_checklist_names_what_is_missing():
    issue = IssueFactory(title="", letter="Dear readers")
    IssueItemFactory(issue=issue, article=None, link_url="", headline="No link here")
    checks = {check.label: check for check in send_checklist(issue=issue)}
    assert not checks["Title"].ok
    assert checks["Letter"].ok
    assert not checks["Every item has a link"].ok
    assert "No link here" in checks["Every item has a link"].detail
    assert not checks["Test sent"].ok
    issue.test_sent_at = timezone.now()
    issue.title = "Now titled"
    assert {c.label: c.ok for c in send_checklist(issue=issue)}["Test sent"]
