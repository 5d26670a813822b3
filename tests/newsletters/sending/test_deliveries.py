"""Delivery counts and finishing an issue once nothing is open."""

import pytest

from newsletters.models import Delivery, Issue, IssueStatusChange
from newsletters.sending.deliveries import delivery_counts, finish_issue_if_done
from tests.newsletters.sending.helpers import active, sending_issue_with

pytestmark = pytest.mark.django_db


def test_delivery_counts_and_finish(issue):
    deliveries = sending_issue_with(active(4), issue)
    Delivery.objects.filter(pk=deliveries[0].pk).update(status=Delivery.Status.SENT)
    Delivery.objects.filter(pk=deliveries[1].pk).update(status=Delivery.Status.FAILED)
    Delivery.objects.filter(pk=deliveries[2].pk).update(status=Delivery.Status.SENDING)
    assert delivery_counts(issue) == {
        "pending": 1,
        "sending": 1,
        "sent": 1,
        "failed": 1,
        "total": 4,
    }
    assert finish_issue_if_done(issue=issue) is False
    Delivery.objects.filter(status__in=["pending", "sending"]).update(status="sent")
    assert finish_issue_if_done(issue=issue) is True
    assert finish_issue_if_done(issue=issue) is False
    issue.refresh_from_db()
    assert issue.status == Issue.Status.SENT
    assert IssueStatusChange.objects.get().note == "3 sent, 1 failed"
