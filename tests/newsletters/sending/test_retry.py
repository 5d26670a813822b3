"""Retrying failed deliveries: only the failed ones go again, once, and twice is harmless."""

from __future__ import annotations

import pytest
from django.utils import timezone

from newsletters.models import Delivery, Issue, IssueStatusChange
from newsletters.sending.batch import send_batch
from newsletters.sending.deliveries import finish_issue_if_done
from newsletters.sending.retry import retry_failed_deliveries
from tests.newsletters.sending.helpers import active, sending_issue_with

pytestmark = pytest.mark.django_db


def sent_with_failures(issue, smtp_sink, *, ok: int, failing: int):
    """Send ``issue`` to ok + failing readers, the failing ones refused with a 550."""
    readers = active(ok + failing)
    for reader in readers[ok:]:
        smtp_sink.script(reader.email, "550 5.1.1 Mailbox unavailable")
    deliveries = sending_issue_with(readers, issue)
    send_batch(issue_id=issue.pk, delivery_ids=[d.pk for d in deliveries])
    assert finish_issue_if_done(issue=issue)
    issue.refresh_from_db()
    assert issue.status == Issue.Status.SENT
    return readers


def test_retry_sends_only_the_failed_ones_once_and_keeps_the_sent_date(
    issue, smtp_sink, django_capture_on_commit_callbacks
):
    readers = sent_with_failures(issue, smtp_sink, ok=3, failing=2)
    first_sent_at = issue.sent_at
    assert Issue.objects.published().filter(pk=issue.pk).exists()

    with django_capture_on_commit_callbacks(execute=True):
        retried = retry_failed_deliveries(issue=issue)

    assert retried == 2
    issue.refresh_from_db()
    assert issue.status == Issue.Status.SENT  # the queued batches ran (eager) and finished
    assert issue.sent_at == first_sent_at
    assert set(Delivery.objects.values_list("status", flat=True)) == {"sent"}
    counts = smtp_sink.recipient_counts()
    assert all(counts[r.email] == 1 for r in readers)
    notes = list(IssueStatusChange.objects.filter(issue=issue).values_list("note", flat=True))
    assert "Retrying 2 failed deliveries" in notes


def test_retry_pressed_twice_changes_nothing_the_second_time(issue, smtp_sink):
    sent_with_failures(issue, smtp_sink, ok=1, failing=2)

    first = retry_failed_deliveries(issue=issue)
    changes = IssueStatusChange.objects.count()
    second = retry_failed_deliveries(issue=issue)

    assert (first, second) == (2, 0)
    assert IssueStatusChange.objects.count() == changes
    issue.refresh_from_db()
    assert issue.status == Issue.Status.SENDING
    # Still published while the retry runs.
    assert Issue.objects.published().filter(pk=issue.pk).exists()
    assert list(Delivery.objects.order_by("pk").values_list("status", "attempts")) == [
        ("sent", 1),
        ("pending", 0),
        ("pending", 0),
    ]


def test_retry_of_an_issue_without_failures_does_nothing(issue, smtp_sink):
    sent_with_failures(issue, smtp_sink, ok=2, failing=0)

    assert retry_failed_deliveries(issue=issue) == 0
    issue.refresh_from_db()
    assert issue.status == Issue.Status.SENT


def test_draft_issue_has_nothing_to_retry(issue):
    Delivery.objects.create(
        issue=issue, subscriber=active(1)[0], status="failed", updated_at=timezone.now()
    )

    assert retry_failed_deliveries(issue=issue) == 0
    assert Delivery.objects.get().status == "failed"
