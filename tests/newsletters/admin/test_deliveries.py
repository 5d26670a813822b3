"""The delivery list: each recipient's delivery, a failed one with the server's answer."""

from __future__ import annotations

import lxml.html
import pytest
from django.urls import reverse
from django.utils import timezone

from newsletters.models import Delivery, Issue
from tests.factories import DeliveryFactory, IssueFactory

pytestmark = pytest.mark.django_db


def sending_issue(*, sent: int, failed: int) -> Issue:
    issue = IssueFactory(status=Issue.Status.SENDING, send_started_at=timezone.now())
    for _ in range(sent):
        DeliveryFactory(issue=issue, status=Delivery.Status.SENT, sent_at=timezone.now())
    for _ in range(failed):
        DeliveryFactory(
            issue=issue, status=Delivery.Status.FAILED, error="550 5.1.1 Mailbox unknown"
        )
    return issue


def test_delivery_list_shows_a_failed_delivery_error_and_filters(admin_client):
    issue = sending_issue(sent=2, failed=1)
    response = admin_client.get(
        reverse("admin:newsletters_delivery_changelist"),
        {"issue__id__exact": issue.pk, "status__exact": "failed"},
    )
    assert response.status_code == 200
    page = lxml.html.fromstring(response.content.decode())
    rows = page.xpath('//table[@id="result_list"]/tbody/tr')
    assert len(rows) == 1
    error = rows[0].xpath('.//td[contains(@class, "field-short_error")]')[0]
    assert error.text_content().strip() == "550 5.1.1 Mailbox unknown"
