"""The Issue items admin writes through compiling.items: status rules and logged corrections."""

from __future__ import annotations

import pytest

from newsletters.compiling.items import ItemError, save_item_edit
from newsletters.models import Issue, IssueItem, IssueStatusChange
from tests.factories import ArticleFactory, IssueFactory, IssueItemFactory

pytestmark = pytest.mark.django_db

ITEMS = "/admin/newsletters/issueitem/"


@pytest.fixture
def junior_client(client, junior):
    client.force_login(junior)
    return client


def item_form(item: IssueItem, **changes) -> dict:
    values = {
        "issue": item.issue_id,
        "section": item.section,
        "order": item.order,
        "article": item.article_id or "",
        "event": item.event_id or "",
        "link_url": item.link_url,
        "headline": item.headline,
        "blurb": item.blurb,
        "image_url": item.image_url,
        "version": item.version,
    }
    values.update(changes)
    return values


@pytest.mark.parametrize("status", [Issue.Status.SENDING, Issue.Status.SENT])
def test_an_item_cannot_be_added_to_an_issue_that_no_longer_takes_items(status):
    """What the admin's add form calls on save."""
    issue = IssueFactory(status=status)
    item = IssueItem(issue=issue, article=ArticleFactory(), headline="Sneaked in", order=1)

    with pytest.raises(ItemError):
        save_item_edit(item=item, changed=["headline", "article"])

    assert not IssueItem.objects.filter(issue=issue).exists()


def test_a_drafts_item_cannot_be_moved_into_a_sending_or_sent_issue(junior_client):
    item = IssueItemFactory(issue=IssueFactory(status=Issue.Status.DRAFT))
    for status in (Issue.Status.SENDING, Issue.Status.SENT):
        target = IssueFactory(status=status)
        response = junior_client.post(
            f"{ITEMS}{item.pk}/change/", item_form(item, issue=target.pk)
        )
        assert response.status_code == 403, status
        item.refresh_from_db()
        assert item.issue.status == Issue.Status.DRAFT


def test_editing_a_sent_issues_item_is_a_logged_correction(junior_client, junior):
    sent = IssueFactory(status=Issue.Status.SENT)
    item = IssueItemFactory(issue=sent, headline="Old headline")

    response = junior_client.post(
        f"{ITEMS}{item.pk}/change/", item_form(item, headline="Corrected headline")
    )

    assert response.status_code == 302
    item.refresh_from_db()
    assert item.headline == "Corrected headline"
    correction = IssueStatusChange.objects.get(issue=sent)
    assert correction.note.startswith("Correction: item “Corrected headline”: headline")
    assert correction.changed_by == junior


def test_a_sent_issues_item_keeps_its_place(junior_client):
    sent = IssueFactory(status=Issue.Status.SENT)
    item = IssueItemFactory(issue=sent, section=IssueItem.Section.RADAR)

    junior_client.post(f"{ITEMS}{item.pk}/change/", item_form(item, section="reading"))

    item.refresh_from_db()
    assert item.section == IssueItem.Section.RADAR


def test_items_of_sent_or_sending_issues_cannot_be_deleted(junior_client):
    for status in (Issue.Status.SENT, Issue.Status.SENDING):
        item = IssueItemFactory(issue=IssueFactory(status=status))
        junior_client.post(
            ITEMS, {"action": "delete_selected", "_selected_action": [item.pk], "post": "yes"}
        )
        assert IssueItem.objects.filter(pk=item.pk).exists(), status


def test_a_drafts_item_is_edited_and_deleted_as_before(junior_client):
    item = IssueItemFactory(issue=IssueFactory(status=Issue.Status.DRAFT))

    response = junior_client.post(f"{ITEMS}{item.pk}/change/", item_form(item, blurb="New blurb"))
    assert response.status_code == 302
    item.refresh_from_db()
    assert item.blurb == "New blurb"
    assert not IssueStatusChange.objects.filter(issue=item.issue).exists()

    junior_client.post(f"{ITEMS}{item.pk}/delete/", {"post": "yes"})
    assert not IssueItem.objects.filter(pk=item.pk).exists()
