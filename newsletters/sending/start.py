"""Starting a send: fix an issue's audience as one pending delivery per subscriber,
cut it into batches and queue them; start the scheduled issues that are due.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime

from django.conf import settings
from django.db import connection as db_connection
from django.db import transaction
from django.db.models import F
from django.db.models.constants import OnConflict
from django.utils import timezone

from digest.core.queue import enqueue
from newsletters.models import Delivery, Issue, Subscriber
from newsletters.sending.leases import lease_queued
from newsletters.transitions import move_issue

logger = logging.getLogger(__name__)

SEND_BATCH_TASK = "newsletters.tasks.deliveries_send_batch_task"


class IssueNotSendable(Exception):
    """The issue is not a draft or scheduled issue, so a send cannot start."""


@dataclass(frozen=True)
class SendStart:
    issue_id: int
    from_status: str
    deliveries: int
    batches: list[list[int]] = field(repr=False)


def begin_issue_send(*, issue: Issue, user=None, enqueue: bool = True) -> SendStart:
    """Move ``issue`` to sending, fix its audience, and (after commit) enqueue its batches.

    The audience is every subscriber ``receiving()`` at this moment: one pending
    ``Delivery`` each, inserted idempotently. Raises ``IssueNotSendable`` unless
    the issue is a draft or scheduled; a second call therefore changes nothing.
    With ``enqueue=False`` the caller sends the returned batches itself.
    """
    now = timezone.now()
    with transaction.atomic():
        from_status = move_issue(
            issue_id=issue.pk,
            from_statuses=[Issue.Status.SCHEDULED, Issue.Status.DRAFT],
            to_status=Issue.Status.SENDING,
            user=user,
            note="Send started",
            send_started_at=now,
        )
        if from_status is None:
            current = Issue.objects.filter(pk=issue.pk).values_list("status", flat=True).first()
            label = Issue.Status(current).label.lower() if current else "gone"
            raise IssueNotSendable(
                f"Issue #{issue.number} is {label}; only a draft or scheduled issue can be sent."
            )
        created = _create_deliveries(issue_id=issue.pk)
        batches = pending_batches(issue_id=issue.pk)
        if enqueue:
            transaction.on_commit(lambda: enqueue_batches(issue_id=issue.pk, batches=batches))
    issue.status = Issue.Status.SENDING
    issue.send_started_at = now
    logger.info("Issue #%s: send started to %s subscribers", issue.number, created)
    return SendStart(
        issue_id=issue.pk, from_status=from_status, deliveries=created, batches=batches
    )


def _create_deliveries(*, issue_id: int) -> int:
    """One pending delivery per receiving subscriber, in one INSERT … SELECT that skips
    those already there (building a model per recipient cost about a tenth of a send's
    CPU); how many the issue has."""
    # The subscriber id under a name of its own: how a subquery names a plain column
    # differs between databases.
    receiving = Subscriber.objects.receiving().order_by().values(audience_id=F("pk"))
    audience_sql, audience_params = receiving.query.sql_with_params()
    ops = db_connection.ops
    now = timezone.now()
    columns, values, params = [], [], []
    for column in Delivery._meta.concrete_fields:
        if column.primary_key:
            continue
        columns.append(ops.quote_name(column.column))
        if column.name == "subscriber":
            values.append("audience.audience_id")
            continue
        if column.name == "issue":
            value = issue_id
        elif column.name in ("created_at", "updated_at"):
            value = now
        else:
            value = column.get_default()
        values.append("%s")
        params.append(column.get_db_prep_save(value, connection=db_connection))
    # Only quoted names and Django's own SQL are put together here; values are parameters.
    insert = ops.insert_statement(on_conflict=OnConflict.IGNORE)
    table = ops.quote_name(Delivery._meta.db_table)
    select = (
        f"SELECT {', '.join(values)} FROM ({audience_sql}) AS audience"  # noqa: S608
        " ORDER BY audience.audience_id"
    )
    suffix = ops.on_conflict_suffix_sql([], OnConflict.IGNORE, [], [])
    sql = f"{insert} {table} ({', '.join(columns)}) {select} {suffix}"
    with db_connection.cursor() as cursor:
        cursor.execute(sql, [*params, *audience_params])
    return Delivery.objects.filter(issue_id=issue_id).count()


def pending_batches(*, issue_id: int, ids: Iterable[int] | None = None) -> list[list[int]]:
    """Pending delivery ids of the issue (optionally only among ``ids``), in batches."""
    queryset = Delivery.objects.filter(issue_id=issue_id, status=Delivery.Status.PENDING)
    if ids is not None:
        queryset = queryset.filter(pk__in=list(ids))
    pending = list(queryset.order_by("pk").values_list("pk", flat=True))
    size = settings.NEWSLETTER_BATCH_SIZE
    return [pending[i : i + size] for i in range(0, len(pending), size)]


def enqueue_batches(*, issue_id: int, batches: list[list[int]]) -> None:
    """Queue one send task per batch (call after commit), each with a queued lease on
    its deliveries, so the sweeper leaves them to it unless the message is lost."""
    for batch in batches:
        lease_queued(batch)
        enqueue(SEND_BATCH_TASK, issue_id=issue_id, delivery_ids=batch)


def start_due_scheduled_issues(*, now: datetime | None = None) -> list[int]:
    """Begin the send of every scheduled issue whose time has come; their ids."""
    now = now or timezone.now()
    started = []
    for issue in Issue.objects.filter(status=Issue.Status.SCHEDULED, scheduled_at__lte=now):
        try:
            begin_issue_send(issue=issue)
        except IssueNotSendable:
            continue  # another beat tick or an editor got there first
        started.append(issue.pk)
    return started
