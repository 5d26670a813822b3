"""The section inlines: what editing, reordering and adding rows in a section save."""

from __future__ import annotations

import pytest

from tests.factories import (
    IssueItemFactory,
)
from tests.newsletters.admin.pages import (
    change_url,
    form_data,
    week_issue,
)

pytestmark = pytest.mark.django_db


# --------------------------------------------------------------- the sections


def test_editing_a_blurb_marks_the_item_edited_and_reordering_alone_does_not(editor_client):
    issue = week_issue()
    first = IssueItemFactory(issue=issue, order=1, headline="First")
    second = IssueItemFactory(issue=issue, order=2, headline="Second")
    data = form_data(editor_client.get(change_url(issue)))
    # The rows are in order; swap their positions as a drag would, and edit one blurb.
    assert (data["items-0-id"], data["items-1-id"]) == (str(first.pk), str(second.pk))
    data["items-0-order"], data["items-1-order"] = "2", "1"
    data["items-1-blurb"] = "Rewritten by the editor."

    response = editor_client.post(change_url(issue), data)

    assert response.status_code == 302
    first.refresh_from_db()
    second.refresh_from_db()
    assert (first.order, first.edited_by_editor) == (2, False)
    assert (second.order, second.blurb, second.edited_by_editor) == (
        1,
        "Rewritten by the editor.",
        True,
    )


def test_free_link_added_in_a_section_goes_into_that_section(editor_client):
    issue = week_issue()
    data = form_data(editor_client.get(change_url(issue)))
    data.update(
        {
            "items-2-TOTAL_FORMS": "1",
            "items-2-0-headline": "A report worth reading",
            "items-2-0-link_url": "https://think.example.org/report",
            "items-2-0-blurb": "",
            "items-2-0-image_url": "",
            "items-2-0-order": "",
        }
    )

    response = editor_client.post(change_url(issue), data)

    assert response.status_code == 302
    item = issue.items.get()
    assert (item.section, item.link_url, item.edited_by_editor) == (
        "reading",
        "https://think.example.org/report",
        True,
    )
