"""Revisions: each save kept (who, when, what), repeats coalesced, restore."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.contrib.auth.models import User
from django.utils import timezone

from newsletters.compiling.editing import remove_item, save_issue_fields, save_item_fields
from newsletters.compiling.revisions import issue_snapshot, restore_revision, revision_changes
from newsletters.models import Issue, IssueItem, IssueRevision
from tests.factories import ArticleFactory, IssueFactory, IssueItemFactory

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
    assert restored.issue.letter == "First letter"
    assert IssueItem.objects.get(pk=item.pk).blurb == "First blurb"
    assert IssueItem.objects.get(pk=item.pk).version == 3  # an open screen's copy is stale now
    assert issue.revisions.first().summary.startswith("restored the revision of")


def test_restore_brings_back_items_removed_since_unless_their_story_moved_on():
    ana = User.objects.create_user("ana")
    issue = IssueFactory(status=Issue.Status.DRAFT)
    kept = IssueItemFactory(issue=issue, section="radar", order=1, blurb="Kept")
    gone = IssueItemFactory(
        issue=issue,
        section="reading",
        order=1,
        article=ArticleFactory(),
        headline="Gone then back",
        blurb="Its own blurb",
        image_url="https://img.example.org/gone.jpg",
    )
    taken = IssueItemFactory(
        issue=issue, section="radar", order=2, article=ArticleFactory(), headline="Taken"
    )
    save_issue_fields(issue=issue, based_on=1, values={"title": "Then"}, user=ana)
    old = issue.revisions.get()
    remove_item(item=IssueItem.objects.get(pk=gone.pk), user=ana)
    remove_item(item=IssueItem.objects.get(pk=taken.pk), user=ana)
    # The second story went into another issue meanwhile.
    IssueItemFactory(issue=IssueFactory(number=777), article=taken.article)

    restored = restore_revision(revision=old, user=ana)

    back = IssueItem.objects.get(issue=issue, article=gone.article)
    assert (back.section, back.headline, back.blurb, back.image_url) == (
        "reading",
        "Gone then back",
        "Its own blurb",
        "https://img.example.org/gone.jpg",
    )
    assert restored.brought_back == ["“Gone then back”"]
    assert restored.left_out == ["“Taken” (it is in issue #777 now)"]
    assert set(issue.items.values_list("pk", flat=True)) == {kept.pk, back.pk}
