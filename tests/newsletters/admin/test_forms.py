"""The issue form: the number, period and sign-off a new issue is offered and checked."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from newsletters.models import Issue
from tests.factories import (
    IssueFactory,
)
from tests.newsletters.admin.pages import (
    form_data,
)

pytestmark = pytest.mark.django_db


# ------------------------------------------------------------------ new issue


def test_new_issue_form_proposes_next_number_week_ending_today_and_sign_off(
    editor_client, settings
):
    settings.NEWSLETTER_SIGN_OFF = "DW Team"
    IssueFactory(number=208)
    IssueFactory(number=209)

    response = editor_client.get(reverse("admin:newsletters_issue_add"))

    data = form_data(response)
    today = timezone.localdate()
    assert data["number"] == "210"
    assert data["period_end"] == today.strftime("%d/%m/%Y")
    assert data["period_start"] == (today - timedelta(days=6)).strftime("%d/%m/%Y")
    assert data["sign_off"] == "DW Team"


def test_creating_an_issue_with_a_taken_number_says_so(editor_client):
    IssueFactory(number=209)
    response = editor_client.get(reverse("admin:newsletters_issue_add"))
    data = form_data(response) | {"number": "209", "title": "Duplicate"}

    response = editor_client.post(reverse("admin:newsletters_issue_add"), data)

    assert response.status_code == 200
    assert "Issue #209 already exists; the next free number is 210." in response.content.decode()
    assert Issue.objects.count() == 1


def test_creating_an_issue_saves_it_as_a_draft(editor_client):
    response = editor_client.get(reverse("admin:newsletters_issue_add"))
    data = form_data(response) | {"title": "Big Tech on trial", "letter": "Dear readers,"}

    response = editor_client.post(reverse("admin:newsletters_issue_add"), data)

    issue = Issue.objects.get()
    assert (issue.number, issue.title, issue.status) == (1, "Big Tech on trial", "draft")
    # Straight to its compile screen, not the classic form.
    assert response.status_code == 302
    assert response["Location"] == reverse("admin:newsletters_issue_compile", args=[issue.pk])
    page = editor_client.get(response["Location"])
    assert 'id="compile"' in page.content.decode()
    assert "Issue #1 is created" in page.content.decode()


def test_period_ending_before_it_starts_is_refused(editor_client):
    response = editor_client.get(reverse("admin:newsletters_issue_add"))
    data = form_data(response) | {"period_start": "25/04/2025", "period_end": "18/04/2025"}
    response = editor_client.post(reverse("admin:newsletters_issue_add"), data)
    assert "The period cannot end before it starts." in response.content.decode()
    assert not Issue.objects.exists()
