"""The click report pages in the admin: per issue figures, bars, CSV."""

from __future__ import annotations

import csv
import io

import pytest
from django.urls import reverse
from django.utils import timezone

from newsletters.models import Click, Delivery, Issue, IssueLink
from tests.factories import DeliveryFactory, IssueFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def issue():
    issue = IssueFactory(number=42, status=Issue.Status.SENT)
    link = IssueLink.objects.create(issue=issue, url="https://a.example/", section="radar")
    delivery = DeliveryFactory(issue=issue, status=Delivery.Status.SENT, sent_at=timezone.now())
    Click.objects.create(delivery=delivery, link=link)
    return issue


def test_report_page_shows_figures_and_bars(admin_client, issue):
    page = admin_client.get(reverse("admin:newsletters_issue_clicks", args=[issue.pk]))
    text = page.content.decode()
    assert page.status_code == 200
    assert "unique clickers" in text and "click-bar" in text and "https://a.example/" in text
    listing = admin_client.get(reverse("admin:newsletters_click_reports"))
    assert reverse("admin:newsletters_issue_clicks", args=[issue.pk]) in listing.content.decode()


def test_report_csv_downloads(admin_client, issue):
    response = admin_client.get(reverse("admin:newsletters_issue_clicks_csv", args=[issue.pk]))
    assert response["Content-Disposition"] == 'attachment; filename="issue-42-clicks.csv"'
    rows = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode())))
    assert rows[1][2:] == ["https://a.example/", "1", "0"]


def test_report_needs_staff(client, issue):
    response = client.get(reverse("admin:newsletters_issue_clicks", args=[issue.pk]))
    assert response.status_code == 302 and "/login/" in response["Location"]
