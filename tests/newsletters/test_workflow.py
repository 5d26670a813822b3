"""Every allowed and refused transition of an issue, and who may make them."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.contrib.auth.models import Group, Permission, User
from django.utils import timezone

from newsletters.models import Delivery, Issue, IssueItem, IssueStatusChange
from newsletters.workflow import (
    WorkflowError,
    can_send,
    record_correction,
    schedule_issue,
    start_issue_send,
    unschedule_issue,
)
from tests.factories import IssueFactory, IssueItemFactory, SubscriberFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def sender(db) -> User:
    user = User.objects.create_user("sender", email="sender@example.org", is_staff=True)
    user.groups.add(Group.objects.get(name="Editors"))
    return user


@pytest.fixture
def compiler(db) -> User:
    """Staff who may edit issues but lack "Can schedule and send issues"."""
    user = User.objects.create_user("compiler", is_staff=True)
    user.user_permissions.add(
        Permission.objects.get(content_type__app_label="newsletters", codename="change_issue")
    )
    return user


def ready_issue(**kwargs) -> Issue:
    issue = IssueFactory(**kwargs)
    IssueItemFactory(issue=issue, section=IssueItem.Section.RADAR)
    return issue


def soon() -> timezone.datetime:
    return timezone.now() + timedelta(hours=2)


def history(issue: Issue) -> list[tuple[str, str, str | None]]:
    return [
        (
            change.from_status,
            change.to_status,
            change.changed_by.username if change.changed_by else None,
        )
        for change in issue.status_changes.select_related("changed_by")
    ]


def test_editors_group_from_migration_can_send():
    group = Group.objects.get(name="Editors")
    codenames = set(group.permissions.values_list("codename", flat=True))
    assert {"send_issue", "change_issue", "add_issue", "change_issueitem"} <= codenames
    assert "delete_subscriber" not in codenames


def test_can_send_follows_the_permission(sender, compiler):
    assert can_send(sender)
    assert not can_send(compiler)
    assert can_send(None)  # the system: the beat task


def test_schedule_moves_draft_to_scheduled_and_records_who(sender):
    issue = ready_issue()
    at = soon()

    schedule_issue(issue=issue, send_at=at, user=sender)

    issue.refresh_from_db()
    assert issue.status == Issue.Status.SCHEDULED
    assert issue.scheduled_at == at
    assert history(issue) == [("draft", "scheduled", "sender")]


def test_schedule_refused_without_permission(compiler):
    issue = ready_issue()
    with pytest.raises(WorkflowError, match="permission"):
        schedule_issue(issue=issue, send_at=soon(), user=compiler)
    issue.refresh_from_db()
    assert issue.status == Issue.Status.DRAFT
    assert not issue.status_changes.exists()


def test_schedule_refused_without_title(sender):
    issue = ready_issue(title="")
    with pytest.raises(WorkflowError, match="no title"):
        schedule_issue(issue=issue, send_at=soon(), user=sender)
    assert Issue.objects.get(pk=issue.pk).status == Issue.Status.DRAFT


def test_schedule_refused_without_radar_items(sender):
    issue = IssueFactory()
    IssueItemFactory(issue=issue, section=IssueItem.Section.READING)
    with pytest.raises(WorkflowError, match="no Radar items"):
        schedule_issue(issue=issue, send_at=soon(), user=sender)
    assert Issue.objects.get(pk=issue.pk).status == Issue.Status.DRAFT


def test_schedule_refused_in_the_past(sender):
    issue = ready_issue()
    with pytest.raises(WorkflowError, match="in the past"):
        schedule_issue(issue=issue, send_at=timezone.now() - timedelta(minutes=1), user=sender)
    assert Issue.objects.get(pk=issue.pk).scheduled_at is None


def test_schedule_twice_refused_and_first_time_kept(sender):
    issue = ready_issue()
    first = soon()
    schedule_issue(issue=issue, send_at=first, user=sender)

    with pytest.raises(WorkflowError, match="already scheduled"):
        schedule_issue(issue=issue, send_at=first + timedelta(days=1), user=sender)

    issue.refresh_from_db()
    assert issue.scheduled_at == first
    assert issue.status_changes.count() == 1


def test_schedule_with_a_stale_copy_of_the_issue_is_refused(sender):
    """Two editors on the same page: the second click finds the issue already moved."""
    issue = ready_issue()
    stale = Issue.objects.get(pk=issue.pk)
    schedule_issue(issue=issue, send_at=soon(), user=sender)

    with pytest.raises(WorkflowError, match="already scheduled"):
        schedule_issue(issue=stale, send_at=soon(), user=sender)
    assert IssueStatusChange.objects.filter(issue=issue).count() == 1


@pytest.mark.parametrize("status", [Issue.Status.SENDING, Issue.Status.SENT])
def test_schedule_refused_once_sending_or_sent(sender, status):
    issue = ready_issue(status=status)
    with pytest.raises(WorkflowError):
        schedule_issue(issue=issue, send_at=soon(), user=sender)
    assert Issue.objects.get(pk=issue.pk).status == status


def test_unschedule_returns_to_draft_and_clears_time(sender):
    issue = ready_issue()
    schedule_issue(issue=issue, send_at=soon(), user=sender)

    unschedule_issue(issue=issue, user=sender)

    issue.refresh_from_db()
    assert issue.status == Issue.Status.DRAFT
    assert issue.scheduled_at is None
    assert history(issue) == [("draft", "scheduled", "sender"), ("scheduled", "draft", "sender")]


def test_unschedule_refused_without_permission(compiler):
    issue = ready_issue(status=Issue.Status.SCHEDULED)
    with pytest.raises(WorkflowError, match="permission"):
        unschedule_issue(issue=issue, user=compiler)
    assert Issue.objects.get(pk=issue.pk).status == Issue.Status.SCHEDULED


@pytest.mark.parametrize(
    ("status", "message"),
    [
        (Issue.Status.DRAFT, "not scheduled"),
        (Issue.Status.SENDING, "being sent"),
        (Issue.Status.SENT, "cannot be scheduled or sent again"),
    ],
)
def test_unschedule_refused_unless_scheduled(sender, status, message):
    issue = ready_issue(status=status)
    with pytest.raises(WorkflowError, match=message):
        unschedule_issue(issue=issue, user=sender)
    assert Issue.objects.get(pk=issue.pk).status == status
    assert not issue.status_changes.exists()


@pytest.mark.parametrize("status", [Issue.Status.DRAFT, Issue.Status.SCHEDULED])
def test_send_now_from_draft_or_scheduled_starts_sending(sender, status):
    issue = ready_issue(status=status)
    subscriber = SubscriberFactory(active=True)

    start_issue_send(issue=issue, user=sender)

    issue.refresh_from_db()
    # Tasks run eagerly in tests, so the deliveries are made and the send may finish.
    assert issue.status in (Issue.Status.SENDING, Issue.Status.SENT)
    assert Delivery.objects.filter(issue=issue, subscriber=subscriber).count() == 1
    first = issue.status_changes.select_related("changed_by").first()
    assert (first.from_status, first.to_status, first.changed_by) == (status, "sending", sender)


def test_send_refused_without_permission(compiler):
    issue = ready_issue()
    with pytest.raises(WorkflowError, match="permission"):
        start_issue_send(issue=issue, user=compiler)
    assert Issue.objects.get(pk=issue.pk).status == Issue.Status.DRAFT
    assert not Delivery.objects.exists()


def test_send_refused_without_radar_items(sender):
    issue = IssueFactory()
    with pytest.raises(WorkflowError, match="no Radar items"):
        start_issue_send(issue=issue, user=sender)
    assert Issue.objects.get(pk=issue.pk).status == Issue.Status.DRAFT


def test_sending_a_sent_issue_is_refused(sender):
    issue = ready_issue(status=Issue.Status.SENT)
    SubscriberFactory(active=True)
    with pytest.raises(WorkflowError, match="cannot be scheduled or sent again"):
        start_issue_send(issue=issue, user=sender)
    assert Issue.objects.get(pk=issue.pk).status == Issue.Status.SENT
    assert not Delivery.objects.exists()


def test_sending_an_issue_already_sending_is_refused(sender):
    issue = ready_issue(status=Issue.Status.SENDING)
    with pytest.raises(WorkflowError, match="being sent"):
        start_issue_send(issue=issue, user=sender)


def test_correction_of_sent_issue_is_logged_and_status_stays_sent(sender):
    issue = ready_issue(status=Issue.Status.SENT)

    change = record_correction(issue=issue, user=sender, note="title")

    assert (change.from_status, change.to_status) == ("sent", "sent")
    assert change.note == "Correction: title"
    assert change.changed_by == sender
    assert Issue.objects.get(pk=issue.pk).status == Issue.Status.SENT


def test_correction_of_unsent_issue_is_refused(sender):
    with pytest.raises(WorkflowError, match="not sent"):
        record_correction(issue=ready_issue(), user=sender, note="x")


def test_beat_task_starts_a_scheduled_issue_once_its_time_has_come(sender, settings):
    from newsletters.tasks import issues_start_scheduled_task

    issue = ready_issue()
    subscriber = SubscriberFactory(active=True)
    schedule_issue(issue=issue, send_at=timezone.now() + timedelta(minutes=5), user=sender)

    issues_start_scheduled_task()  # too early: nothing happens
    assert Issue.objects.get(pk=issue.pk).status == Issue.Status.SCHEDULED

    Issue.objects.filter(pk=issue.pk).update(scheduled_at=timezone.now() - timedelta(seconds=1))
    issues_start_scheduled_task()

    issue.refresh_from_db()
    assert issue.status in (Issue.Status.SENDING, Issue.Status.SENT)
    assert Delivery.objects.filter(issue=issue, subscriber=subscriber).count() == 1
    changes = [(c.from_status, c.to_status, c.changed_by) for c in issue.status_changes.all()][:2]
    assert changes == [("draft", "scheduled", sender), ("scheduled", "sending", None)]


def test_unscheduled_issue_is_not_started_by_the_beat_task(sender):
    from newsletters.tasks import issues_start_scheduled_task

    issue = ready_issue()
    schedule_issue(issue=issue, send_at=timezone.now() + timedelta(minutes=5), user=sender)
    unschedule_issue(issue=issue, user=sender)
    Issue.objects.filter(pk=issue.pk).update(scheduled_at=timezone.now() - timedelta(minutes=1))

    issues_start_scheduled_task()

    assert Issue.objects.get(pk=issue.pk).status == Issue.Status.DRAFT
    assert not Delivery.objects.exists()
