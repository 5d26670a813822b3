"""Plain helpers shared by the sending tests: active subscribers, an issue already sending."""

from __future__ import annotations

from newsletters.models import Issue
from tests.factories import DeliveryFactory, SubscriberFactory


def active(n, **kwargs):
    return [SubscriberFactory(active=True, **kwargs) for _ in range(n)]


def sending_issue_with(subscribers, issue):
    Issue.objects.filter(pk=issue.pk).update(status=Issue.Status.SENDING)
    issue.refresh_from_db()
    return [DeliveryFactory(issue=issue, subscriber=s) for s in subscribers]
