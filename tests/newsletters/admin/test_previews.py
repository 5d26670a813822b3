"""The issue's previews: its web page and its email, HTML and plain text."""

from __future__ import annotations

import pytest
from django.urls import reverse

from tests.factories import (
    IssueItemFactory,
)
from tests.newsletters.admin.pages import (
    change_url,
    week_issue,
)

pytestmark = pytest.mark.django_db


# ------------------------------------------------------------------- previews


def test_web_preview_renders_the_readers_template_for_a_draft(editor_client):
    issue = week_issue(title="Draft title for preview")
    IssueItemFactory(issue=issue, headline="Radar headline one")

    response = editor_client.get(reverse("admin:newsletters_issue_preview_web", args=[issue.pk]))

    assert response.status_code == 200
    assert [t.name for t in response.templates][0] == "newsletters/issue_detail.html"
    page = response.content.decode()
    assert "Draft title for preview" in page
    assert "Radar headline one" in page
    # The public page of the same draft does not exist yet, and is not linked.
    assert editor_client.get(issue.get_absolute_url()).status_code == 404
    assert "View on site" not in editor_client.get(change_url(issue)).content.decode()


def test_previews_are_for_staff_only(client):
    issue = week_issue()
    for name in ("preview_web", "preview_email"):
        response = client.get(reverse(f"admin:newsletters_issue_{name}", args=[issue.pk]))
        assert response.status_code == 302
        assert "/admin/login/" in response["Location"]


def test_email_preview_is_the_email_as_it_will_arrive(editor_client):
    from newsletters.rendering import render_issue_email

    issue = week_issue(title="Email preview title")
    IssueItemFactory(issue=issue, headline="Radar headline in email")

    response = editor_client.get(reverse("admin:newsletters_issue_preview_email", args=[issue.pk]))

    html = response.content.decode()
    rendered = render_issue_email(issue=issue)
    assert "Email preview title" in rendered.subject
    assert "Radar headline in email" in html
    assert 'style="' in html  # CSS inlined
    # The recipient's links are filled in, as in a message that goes out.
    assert "x-digest-" not in html
    text = editor_client.get(
        reverse("admin:newsletters_issue_preview_email", args=[issue.pk]), {"format": "text"}
    ).content.decode()
    assert text.startswith(f"Subject: {rendered.subject}")
    assert "Radar headline in email" in text
