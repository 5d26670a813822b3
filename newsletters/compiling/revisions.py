"""An issue's history of saves: who saved, when, what changed, and restoring an old one.

Each save on the compile screen keeps a revision holding the issue's words (title,
letter, sign-off, period) and every item's text. Autosave saves often, so a save by
the same editor of the same fields within ``COALESCE_SECONDS`` updates the latest
revision instead of adding one.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta

from django.contrib.auth.models import User
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from articles.models import Article, Event
from newsletters.models import Issue, IssueItem, IssueRevision

# Two minutes of typing in one field is one revision, not a hundred.
COALESCE_SECONDS = 120
SNAPSHOT_ISSUE_FIELDS = ("title", "letter", "sign_off", "period_start", "period_end")
SNAPSHOT_ITEM_FIELDS = ("section", "order", "headline", "blurb", "link_url", "image_url")
# What an item is made from, kept so a removed item can be brought back.
SNAPSHOT_ITEM_SOURCES = ("article", "event")


@dataclass
class Restored:
    """A restore's outcome: the issue, and the headlines of removed items it brought
    back or had to leave out (each with the reason)."""

    issue: Issue
    brought_back: list[str] = field(default_factory=list)
    left_out: list[str] = field(default_factory=list)


def issue_snapshot(issue: Issue, items: list[IssueItem] | None = None) -> dict:
    """The issue's words and its items' texts as plain JSON values (one query, none
    when the caller has all the issue's ``items`` at hand)."""
    if items is None:
        rows = list(
            IssueItem.objects.filter(issue=issue)
            .order_by("section", "order", "id")
            .values("id", *SNAPSHOT_ITEM_FIELDS, *SNAPSHOT_ITEM_SOURCES)
        )
    else:
        rows = [
            {
                "id": item.pk,
                **{name: getattr(item, name) for name in SNAPSHOT_ITEM_FIELDS},
                **{name: getattr(item, f"{name}_id") for name in SNAPSHOT_ITEM_SOURCES},
            }
            for item in sorted(items, key=lambda i: (i.section, i.order, i.pk))
        ]
    return {
        "issue": {name: str(getattr(issue, name) or "") for name in SNAPSHOT_ISSUE_FIELDS},
        "items": rows,
    }


def record_revision(
    *, issue: Issue, user: User | None, summary: str, items: list[IssueItem] | None = None
) -> IssueRevision:
    """Keep the issue as it is now, saying ``summary``; a repeat of the same editor's
    last save within ``COALESCE_SECONDS`` refreshes that revision instead. ``items``,
    when given, are all the issue's items as they now are (saves a query)."""
    snapshot = issue_snapshot(issue, items)
    summary = summary[:300]
    # issue_id too: the related manager reads it, and a deferred one costs a query.
    last = issue.revisions.only("issue_id", "saved_by_id", "saved_at", "summary").first()
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


def restore_revision(*, revision: IssueRevision, user: User | None) -> Restored:
    """Put the issue's words and its items back as ``revision`` kept them.

    Items still there get their text and place back; items removed since are made
    again from the same article or event, unless that story is in another issue now
    (or the article is gone and the item had no link of its own): those are listed in
    ``left_out``. Items added since stay. The restore is itself a new revision, so it
    can be undone the same way; a sent issue keeps its period and its items' places.
    """
    issue = revision.issue
    if issue.status == Issue.Status.SENDING:
        raise ValueError(f"Issue #{issue.number} is being sent: it cannot change now.")
    kept = revision.snapshot
    result = Restored(issue=issue)
    with transaction.atomic():
        values = dict(kept["issue"])
        if issue.status == Issue.Status.SENT:
            values.pop("period_start", None)
            values.pop("period_end", None)
        Issue.objects.filter(pk=issue.pk).update(
            **values,
            version=F("version") + 1,
            order_version=F("order_version") + 1,
            updated_at=timezone.now(),
        )
        present = set(IssueItem.objects.filter(issue=issue).values_list("id", flat=True))
        for item in kept["items"]:
            fields = {name: item[name] for name in SNAPSHOT_ITEM_FIELDS}
            if item["id"] in present:
                IssueItem.objects.filter(pk=item["id"], issue=issue).update(
                    **fields, version=F("version") + 1, edited_by_editor=True
                )
            elif issue.status == Issue.Status.SENT:
                result.left_out.append(f"“{item['headline']}” (the issue is sent)")
            else:
                _bring_back(issue=issue, item=item, fields=fields, result=result)
        issue.refresh_from_db()
        when = timezone.localtime(revision.saved_at)
        summary = f"restored the revision of {when:%-d %b %H:%M}"
        record_revision(issue=issue, user=user, summary=summary)
    return result


def _bring_back(*, issue: Issue, item: dict, fields: dict, result: Restored) -> None:
    """Make a removed item again from what the snapshot kept (see ``restore_revision``)."""
    headline = f"“{item['headline']}”"
    article_id, event_id = item.get("article"), item.get("event")
    if article_id and not Article.objects.filter(pk=article_id).exists():
        article_id = None
    if event_id and not Event.objects.filter(pk=event_id).exists():
        event_id = None
    if not (article_id or event_id or item["link_url"]):
        result.left_out.append(f"{headline} (its story is no longer on the site)")
        return
    if article_id:
        used = (
            IssueItem.objects.filter(article_id=article_id)
            .values_list("issue__number", flat=True)
            .first()
        )
        if used is not None:
            result.left_out.append(f"{headline} (it is in issue #{used} now)")
            return
    IssueItem.objects.create(
        issue=issue, article_id=article_id, event_id=event_id, edited_by_editor=True, **fields
    )
    result.brought_back.append(headline)
