"""An issue's life: draft → scheduled → sending → sent, and back from scheduled to draft.

Each transition is one conditional UPDATE on the issue's status (so two clicks, two
editors or a click racing the beat task move an issue once), checked first for
what makes it wrong, and recorded as an ``IssueStatusChange`` saying who and when.
Scheduling and sending need the ``newsletters.send_issue`` permission; a ``user``
of ``None`` is the system (the beat task).
"""

from __future__ import annotations

from datetime import datetime

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.utils import timezone
from django.utils.formats import date_format

from newsletters.models import Issue, IssueItem, IssueStatusChange
from newsletters.sending.retry import retry_failed_deliveries
from newsletters.sending.start import IssueNotSendable, begin_issue_send
from newsletters.transitions import move_issue

SEND_PERMISSION = "newsletters.send_issue"

User = AbstractBaseUser | AnonymousUser


class WorkflowError(Exception):
    """A transition was refused; the message says why, in words for the editor."""


def can_send(user: User | None) -> bool:
    """Whether ``user`` may schedule, unschedule and send issues (``None``: the system)."""
    return user is None or user.has_perm(SEND_PERMISSION)


def _when(moment: datetime) -> str:
    return date_format(timezone.localtime(moment), "j F Y, H:i T")


def _require_permission(user: User | None) -> None:
    if not can_send(user):
        raise WorkflowError("You do not have permission to schedule or send issues.")


def _require_content(issue: Issue, doing: str) -> None:
    if not issue.title.strip():
        raise WorkflowError(f"Issue #{issue.number} has no title: give it one before {doing}.")
    if not issue.items.filter(section=IssueItem.Section.RADAR).exists():
        raise WorkflowError(
            f"Issue #{issue.number} has no Radar items: add at least one before {doing}."
        )


def _status_refusal(issue: Issue, doing: str) -> WorkflowError:
    """The message for a transition refused because of the issue's current status."""
    if issue.status == Issue.Status.SCHEDULED:
        return WorkflowError(
            f"Issue #{issue.number} is already scheduled for {_when(issue.scheduled_at)}: "
            f"unschedule it before {doing}."
        )
    if issue.status == Issue.Status.SENDING:
        return WorkflowError(f"Issue #{issue.number} is being sent already.")
    if issue.status == Issue.Status.SENT:
        return WorkflowError(
            f"Issue #{issue.number} was sent on {_when(issue.sent_at)}; "
            "it cannot be scheduled or sent again."
        )
    return WorkflowError(f"Issue #{issue.number} is a draft: it is not scheduled.")


def schedule_issue(*, issue: Issue, send_at: datetime, user: User | None) -> Issue:
    """Move a draft to scheduled, to be sent at ``send_at``; return the issue refreshed.

    Refused (``WorkflowError``, nothing written) without the permission, for an issue
    without a title or Radar items, for a time not in the future, and for an issue
    that is not a draft (already scheduled, sending or sent).
    """
    _require_permission(user)
    if timezone.is_naive(send_at):
        send_at = timezone.make_aware(send_at)
    issue.refresh_from_db()
    if issue.status != Issue.Status.DRAFT:
        raise _status_refusal(issue, "scheduling it again")
    _require_content(issue, "scheduling it")
    if send_at <= timezone.now():
        raise WorkflowError(
            f"The send time {_when(send_at)} is in the past: pick a time still to come."
        )
    moved = move_issue(
        issue_id=issue.pk,
        from_statuses=[Issue.Status.DRAFT],
        to_status=Issue.Status.SCHEDULED,
        user=user,
        note=f"To be sent {_when(send_at)}",
        scheduled_at=send_at,
    )
    issue.refresh_from_db()
    if not moved:
        raise _status_refusal(issue, "scheduling it again")
    return issue


def unschedule_issue(*, issue: Issue, user: User | None) -> Issue:
    """Move a scheduled issue back to draft (its send time cleared); return it refreshed.

    Refused without the permission and for an issue that is not scheduled (a draft,
    or one whose send has already started).
    """
    _require_permission(user)
    moved = move_issue(
        issue_id=issue.pk,
        from_statuses=[Issue.Status.SCHEDULED],
        to_status=Issue.Status.DRAFT,
        user=user,
        note="Unscheduled",
        scheduled_at=None,
    )
    issue.refresh_from_db()
    if not moved:
        if issue.status == Issue.Status.DRAFT:
            raise WorkflowError(f"Issue #{issue.number} is a draft: it is not scheduled.")
        raise _status_refusal(issue, "unscheduling it")
    return issue


def start_issue_send(*, issue: Issue, user: User | None) -> Issue:
    """Start sending a draft or scheduled issue now; return it refreshed.

    Checks what the editor can fix (permission, title, Radar items, status) and hands
    over to ``newsletters.sending.start.begin_issue_send``, which moves the issue to sending
    in one conditional UPDATE, records the change and creates the deliveries.
    """
    _require_permission(user)
    issue.refresh_from_db()
    if issue.status in (Issue.Status.SENDING, Issue.Status.SENT):
        raise _status_refusal(issue, "sending it")
    _require_content(issue, "sending it")
    try:
        begin_issue_send(issue=issue, user=user)
    except IssueNotSendable as error:  # moved by someone else since the check
        raise WorkflowError(str(error)) from None
    issue.refresh_from_db()
    return issue


def retry_failed_issue_deliveries(*, issue: Issue, user: User | None) -> int:
    """Try the failed deliveries of a sent issue again (needs the send permission);
    returns how many (0 when there were none, so pressing twice changes nothing)."""
    _require_permission(user)
    return retry_failed_deliveries(issue=issue, user=user)


def record_correction(*, issue: Issue, user: User | None, note: str) -> IssueStatusChange:
    """Log a correction to a sent issue's web version (its status stays sent).

    Raises ``WorkflowError`` for an issue that is not sent: before sending, edits are
    simply the compiling of the issue.
    """
    if issue.status != Issue.Status.SENT:
        raise WorkflowError(f"Issue #{issue.number} is not sent: there is nothing to correct.")
    return IssueStatusChange.objects.create(
        issue=issue,
        from_status=Issue.Status.SENT,
        to_status=Issue.Status.SENT,
        changed_by=user if user is not None and user.is_authenticated else None,
        note=(f"Correction: {note}" if note else "Correction")[:300],
    )
