"""Revisions: each save kept (who, when, what), repeats coalesced, restore."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.contrib.auth.models import User
from django.utils import timezone

from newsletters.compiling.editing import save_issue_fields, save_item_fields
from newsletters.compiling.revisions import issue_snapshot, restore_revision, revision_changes
from newsletters.models import Issue, IssueItem, IssueRevision
from tests.factories import IssueFactory, IssueItemFactory

pytestmark = pytest.mark.django_db


def test_every_save_keeps_who_and_what_and_typing_on_is_one_revision():
    ana = User.objects.create_user("ana")
    issue = IssueFactory(letter="Dear readers,")
    save_issue_fields(issue=issue, based_on=1, values={"letter": "Dear readers, a"}, user=ana)
    save_issue_fields(issue=issue, based_on=2, values={"letter": "Dear readers, ab"}, user=ana)
    assert issue.revisions.count() == 1
    revision = issue.revisions.get()
    assert (revision.saved_by, revision.summary) == (ana, "changed letter")
    assert revision.snapshot["issue"]["letter"] == "Dear readers, ab"
    IssueRevision.objects.update(saved_at=timezone.now() - timedelta(minutes=5))
    save_issue_fields(issue=issue, based_on=3, values={"letter": "Dear readers, abc"}, user=ana)
    assert issue.revisions.count() == 2


def test_restore_puts_the_words_back_and_is_itself_a_revision():
    ana = User.objects.create_user("ana")
    issue = IssueFactory(title="First title", letter="First letter")
    item = IssueItemFactory(issue=issue, blurb="First blurb")
    save_issue_fields(issue=issue, based_on=1, values={"title": "First title"}, user=ana)
    old = issue.revisions.get()
    save_issue_fields(issue=issue, based_on=2, values={"letter": "Second letter"}, user=ana)
    save_item_fields(item=item, based_on=1, values={"blurb": "Second blurb"}, user=ana)
    assert revision_changes(old, issue_snapshot(Issue.objects.get(pk=issue.pk))) == [
        "letter",
        f"“{item.headline}”",
    ]
    restored = restore_revision(revision=old, user=ana)
    assert restored.letter == "First letter"
    assert IssueItem.objects.get(pk=item.pk).blurb == "First blurb"
    assert IssueItem.objects.get(pk=item.pk).version == 3  # an open screen's copy is stale now
    assert issue.revisions.first().summary.startswith("restored the revision of")
