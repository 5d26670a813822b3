import pytest
from django.contrib.auth.models import AnonymousUser, User
from django.utils import timezone

from newsletters.models import Issue, IssueStatusChange
from newsletters.transitions import move_issue
from tests.factories import IssueFactory

pytestmark = pytest.mark.django_db


def test_move_takes_the_first_listed_status_the_issue_is_in_and_records_who():
    editor = User.objects.create_user("ed", "ed@example.org", "pw")
    issue = IssueFactory(status=Issue.Status.DRAFT)
    when = timezone.now()

    moved_from = move_issue(
        issue_id=issue.pk,
        from_statuses=[Issue.Status.SCHEDULED, Issue.Status.DRAFT],
        to_status=Issue.Status.SENDING,
        user=editor,
        note="Send started",
        send_started_at=when,
    )

    assert moved_from == Issue.Status.DRAFT
    issue.refresh_from_db()
    assert issue.status == Issue.Status.SENDING
    assert issue.send_started_at == when
    change = IssueStatusChange.objects.get(issue=issue)
    assert (change.from_status, change.to_status) == ("draft", "sending")
    assert change.changed_by == editor
    assert change.note == "Send started"


def test_move_from_a_status_the_issue_is_not_in_writes_nothing():
    issue = IssueFactory(status=Issue.Status.DRAFT)

    moved_from = move_issue(
        issue_id=issue.pk, from_statuses=[Issue.Status.SENDING], to_status=Issue.Status.SENT
    )

    assert moved_from is None
    issue.refresh_from_db()
    assert issue.status == Issue.Status.DRAFT
    assert not IssueStatusChange.objects.exists()


def test_second_identical_move_does_nothing():
    issue = IssueFactory(status=Issue.Status.DRAFT)
    kwargs = dict(
        issue_id=issue.pk,
        from_statuses=[Issue.Status.DRAFT],
        to_status=Issue.Status.SCHEDULED,
        scheduled_at=timezone.now(),
    )

    assert move_issue(**kwargs) == Issue.Status.DRAFT
    assert move_issue(**kwargs) is None
    assert IssueStatusChange.objects.count() == 1


def test_anonymous_user_is_recorded_as_the_system():
    issue = IssueFactory(status=Issue.Status.DRAFT)

    move_issue(
        issue_id=issue.pk,
        from_statuses=[Issue.Status.DRAFT],
        to_status=Issue.Status.SCHEDULED,
        user=AnonymousUser(),
        note="x" * 400,
        scheduled_at=timezone.now(),
    )

    change = IssueStatusChange.objects.get(issue=issue)
    assert change.changed_by is None
    assert len(change.note) == 300
