"""Versioned saves from the compile screen: no silent loss, refusals say why."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import User

from newsletters.compiling.editing import (
    EditRefused,
    StaleEdit,
    move_item,
    remove_item,
    reorder_section,
    save_issue_fields,
    save_item_fields,
)
from newsletters.models import Issue, IssueItem
from tests.factories import ArticleFactory, EventFactory, IssueFactory, IssueItemFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def ana(db) -> User:
    return User.objects.create_user("ana", first_name="Ana", last_name="Silva")


@pytest.fixture
def ben(db) -> User:
    return User.objects.create_user("ben")


def test_a_save_raises_the_version_and_marks_the_item_edited(ana):
    item = IssueItemFactory(blurb="Old.")
    saved = save_item_fields(item=item, based_on=1, values={"blurb": "New."}, user=ana)
    assert saved.version == 2
    stored = IssueItem.objects.get(pk=item.pk)
    assert (stored.blurb, stored.version, stored.edited_by_editor) == ("New.", 2, True)


def test_a_save_based_on_an_old_version_is_refused_with_the_other_text(ana, ben):
    item = IssueItemFactory(blurb="Original.")
    first_copy = IssueItem.objects.get(pk=item.pk)
    second_copy = IssueItem.objects.get(pk=item.pk)
    save_item_fields(item=first_copy, based_on=1, values={"blurb": "Ana's words."}, user=ana)
    with pytest.raises(StaleEdit) as caught:
        save_item_fields(item=second_copy, based_on=1, values={"blurb": "Ben's words."}, user=ben)
    assert caught.value.theirs == {"blurb": "Ana's words."}
    assert caught.value.version == 2
    assert caught.value.saved_by == "Ana Silva"
    assert caught.value.changed == ["blurb"]
    assert IssueItem.objects.get(pk=item.pk).blurb == "Ana's words."  # nothing overwritten
    # "Keep mine": the same text based on the version now stored goes through.
    save_item_fields(item=second_copy, based_on=2, values={"blurb": "Ben's words."}, user=ben)
    assert IssueItem.objects.get(pk=item.pk).blurb == "Ben's words."


def test_an_over_long_headline_is_refused_not_cut(ana):
    item = IssueItemFactory(headline="Short")
    with pytest.raises(EditRefused, match="539 characters; the limit is 500"):
        save_item_fields(item=item, based_on=1, values={"headline": "x" * 539}, user=ana)
    assert IssueItem.objects.get(pk=item.pk).headline == "Short"


def test_issue_fields_are_versioned_too(ana, ben):
    issue = IssueFactory(title="Start")
    save_issue_fields(
        issue=Issue.objects.get(pk=issue.pk), based_on=1, values={"title": "A"}, user=ana
    )
    with pytest.raises(StaleEdit) as caught:
        save_issue_fields(issue=issue, based_on=1, values={"letter": "Dear"}, user=ben)
    assert caught.value.theirs == {"letter": issue.letter}
    with pytest.raises(EditRefused, match="cannot end before it starts"):
        save_issue_fields(
            issue=Issue.objects.get(pk=issue.pk),
            based_on=2,
            values={"period_start": "2025-04-25", "period_end": "2025-04-18"},
            user=ana,
        )


def test_a_sending_issue_refuses_edits(ana):
    item = IssueItemFactory(issue=IssueFactory(status=Issue.Status.SENDING))
    with pytest.raises(EditRefused, match="being sent"):
        save_item_fields(item=item, based_on=1, values={"blurb": "x"}, user=ana)


def test_reorder_moves_between_sections_and_renumbers():
    issue = IssueFactory()
    a, b, c = (IssueItemFactory(issue=issue, section="radar", order=n) for n in (1, 2, 3))
    reading = IssueItemFactory(issue=issue, section="reading", order=1)
    reorder_section(issue=issue, section="reading", item_ids=[b.pk, reading.pk])
    rows = list(issue.items.order_by("section", "order").values_list("section", "order", "pk"))
    assert rows == [
        ("radar", 1, a.pk),
        ("radar", 3, c.pk),
        ("reading", 1, b.pk),
        ("reading", 2, reading.pk),
    ]


def test_reorder_refuses_an_article_in_events_and_unknown_items():
    issue = IssueFactory()
    item = IssueItemFactory(issue=issue, section="radar", article=ArticleFactory())
    with pytest.raises(EditRefused, match="Radar or Reading"):
        reorder_section(issue=issue, section="events", item_ids=[item.pk])
    other = IssueItemFactory()
    with pytest.raises(EditRefused, match="removed"):
        reorder_section(issue=issue, section="radar", item_ids=[other.pk])


def test_move_item_one_step_and_to_another_section():
    issue = IssueFactory()
    a, b = (IssueItemFactory(issue=issue, section="radar", order=n) for n in (1, 2))
    move_item(item=b, step=-1)
    assert list(issue.items.order_by("order").values_list("pk", flat=True)) == [b.pk, a.pk]
    move_item(item=IssueItem.objects.get(pk=a.pk), section="reading")
    assert IssueItem.objects.get(pk=a.pk).section == "reading"
    event_item = IssueItemFactory(issue=issue, section="events", event=EventFactory())
    with pytest.raises(EditRefused):
        move_item(item=event_item, section="radar")


def test_remove_item_keeps_a_revision(ana):
    item = IssueItemFactory(headline="Gone soon")
    issue = item.issue
    remove_item(item=item, user=ana)
    assert not issue.items.exists()
    assert issue.revisions.first().summary == "removed “Gone soon”"


def test_form_line_breaks_are_stored_as_the_script_sends_them(ana):
    issue = IssueFactory(letter="")
    save_issue_fields(
        issue=issue, based_on=1, values={"letter": "Dear readers,\r\n\r\nHi."}, user=ana
    )
    item = IssueItemFactory(blurb="")
    save_item_fields(item=item, based_on=1, values={"blurb": "One.\r\nTwo."}, user=ana)
    assert Issue.objects.get(pk=issue.pk).letter == "Dear readers,\n\nHi."
    assert IssueItem.objects.get(pk=item.pk).blurb == "One.\nTwo."
