"""An issue's history of saves: who saved, when, what changed, and restoring an old one.

Each save on the compile screen keeps a revision holding the issue's words (title,
letter, sign-off, period) and every item's text. Autosave saves often, so a save by
the same editor of the same fields within ``COALESCE_SECONDS`` updates the latest
revision instead of adding one.
"""

from __future__ import annotations

from datetime import timedelta

from django.contrib.auth.models import User
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from newsletters.models import Issue, IssueItem, IssueRevision

# Two minutes of typing in one field is one revision, not a hundred.
COALESCE_SECONDS = 120
SNAPSHOT_ISSUE_FIELDS = ("title", "letter", "sign_off", "period_start", "period_end")
SNAPSHOT_ITEM_FIELDS = ("section", "order", "headline", "blurb", "link_url", "image_url")


def issue_snapshot(issue: Issue) -> dict:
    """The issue's words and its items' texts as plain JSON values (one query)."""
    items = (
        IssueItem.objects.filter(issue=issue)
        .order_by("section", "order", "id")
        .values("id", *SNAPSHOT_ITEM_FIELDS)
    )
    return {
        "issue": {name: str(getattr(issue, name) or "") for name in SNAPSHOT_ISSUE_FIELDS},
        "items": list(items),
    }


def record_revision(*, issue: Issue, user: User | None, summary: str) -> IssueRevision:
    """Keep the issue as it is now, saying ``summary``; a repeat of the same editor's
    last save within ``COALESCE_SECONDS`` refreshes that revision instead."""
    snapshot = issue_snapshot(issue)
    summary = summary[:300]
    last = issue.revisions.only("saved_by_id", "saved_at", "summary").first()
    recent = timezone.now() - timedelta(seconds=COALESCE_SECONDS)
    if (
        last is not None
        and last.saved_by_id == getattr(user, "pk", None)
        and last.summary == summary
        and last.saved_at >= recent
    ):
        IssueRevision.objects.filter(pk=last.pk).update(snapshot=snapshot)
        last.snapshot = snapshot
        return last
    return IssueRevision.objects.create(
        issue=issue, saved_by=user, summary=summary, snapshot=snapshot
    )


def revision_changes(revision: IssueRevision, current: dict) -> list[str]:
    """The names of what differs between ``revision`` and the ``current`` snapshot."""
    changes = [
        name.replace("_", " ")
        for name, value in revision.snapshot["issue"].items()
        if current["issue"].get(name) != value
    ]
    then = {item["id"]: item for item in revision.snapshot["items"]}
    now = {item["id"]: item for item in current["items"]}
    for item_id, item in then.items():
        if item_id not in now:
            changes.append(f"“{item['headline']}” (removed since)")
        elif any(now[item_id][k] != item[k] for k in ("headline", "blurb", "image_url")):
            changes.append(f"“{item['headline']}”")
    added = len(set(now) - set(then))
    if added:
        changes.append(f"{added} item{'s' if added != 1 else ''} added since")
    return changes


def restore_revision(*, revision: IssueRevision, user: User | None) -> Issue:
    """Put the issue's words and its items' texts back as ``revision`` kept them.

    Items removed since are not brought back (their stories may be in another issue
    now); items added since stay. The restore is itself a new revision, so it can be
    undone the same way.
    """
    issue = revision.issue
    if issue.status == Issue.Status.SENDING:
        raise ValueError(f"Issue #{issue.number} is being sent: it cannot change now.")
    kept = revision.snapshot
    with transaction.atomic():
        values = dict(kept["issue"])
        if issue.status == Issue.Status.SENT:
            values.pop("period_start", None)
            values.pop("period_end", None)
        Issue.objects.filter(pk=issue.pk).update(
            **values, version=F("version") + 1, updated_at=timezone.now()
        )
        for item in kept["items"]:
            IssueItem.objects.filter(pk=item["id"], issue=issue).update(
                **{name: item[name] for name in SNAPSHOT_ITEM_FIELDS},
                version=F("version") + 1,
                edited_by_editor=True,
            )
        issue.refresh_from_db()
        when = timezone.localtime(revision.saved_at)
        summary = f"restored the revision of {when:%-d %b %H:%M}"
        record_revision(issue=issue, user=user, summary=summary)
    return issue
