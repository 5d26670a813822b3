"""The one way an issue changes status: a conditional UPDATE plus a history row.

Editorial actions (``workflow.py``) and the send machinery (``sending.py``) both move
issues; each move goes through ``move_issue`` so a transition delivered twice does
nothing the second time and every change records who made it and when.
"""

from __future__ import annotations

from collections.abc import Iterable

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.db import transaction
from django.utils import timezone

from newsletters.models import Issue, IssueStatusChange


def move_issue(
    *,
    issue_id: int,
    from_statuses: Iterable[str],
    to_status: str,
    user: AbstractBaseUser | AnonymousUser | None = None,
    note: str = "",
    **fields,
) -> str | None:
    """Move the issue from the first of ``from_statuses`` it is in to ``to_status``.

    ``fields`` are written in the same UPDATE. Returns the status it moved from, or
    None when it was in none of them (nothing is written then). Runs in a transaction
    of its own, or inside the caller's.
    """
    now = timezone.now()
    with transaction.atomic():
        for from_status in from_statuses:
            moved = Issue.objects.filter(pk=issue_id, status=from_status).update(
                status=to_status, updated_at=now, **fields
            )
            if moved:
                IssueStatusChange.objects.create(
                    issue_id=issue_id,
                    from_status=from_status,
                    to_status=to_status,
                    changed_by=user if getattr(user, "is_authenticated", False) else None,
                    note=note[:300],
                )
                return from_status
    return None
