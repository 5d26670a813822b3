"""Saving what an editor types on the compile screen, without ever losing anyone's work.

Every issue and item carries a ``version``. A save names the version it was based on
and is one conditional ``UPDATE … WHERE version = based_on``: when another editor
saved in between, nothing is written and ``StaleEdit`` carries their text, so the
screen can show both and let the editor choose. Over-long values are refused with
the limit in the message, never cut.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from django.contrib.auth.models import User
from django.db import connection, transaction
from django.db.models import F
from django.utils import timezone

from newsletters.compiling.items import EDITABLE_STATUSES
from newsletters.compiling.revisions import record_revision
from newsletters.models import Issue, IssueItem

# What an editor may change by typing, with the longest value each column holds.
ISSUE_FIELDS = {"title": 300, "letter": None, "sign_off": 200}
ITEM_FIELDS = {
    "headline": IssueItem._meta.get_field("headline").max_length,
    "blurb": None,
    "link_url": 2000,
    "image_url": 2000,
}
ISSUE_DATE_FIELDS = ("period_start", "period_end")


class EditRefused(Exception):
    """The save is refused for a reason the editor can fix; the message says which."""


@dataclass
class StaleEdit(Exception):
    """Someone saved since the editor's copy was loaded: ``theirs`` is what is stored now."""

    version: int
    theirs: dict[str, str]
    saved_by: str = ""
    changed: list[str] = field(default_factory=list)

    def __str__(self) -> str:
        who = self.saved_by or "Another editor"
        return f"{who} saved this in the meantime; nothing of yours was written."


def _check_lengths(values: dict[str, str], limits: dict[str, int | None]) -> None:
    for name, value in values.items():
        limit = limits[name]
        if limit is not None and len(value) > limit:
            label = name.replace("_", " ")
            raise EditRefused(
                f"The {label} is {len(value)} characters; the limit is {limit}. "
                "Shorten it: nothing was cut or saved."
            )


def _lines(value: str) -> str:
    """A browser posts a form's line breaks as CRLF, a script's as LF: stored as LF, so
    the same text saved either way is the same text (and no conflict)."""
    return value.replace("\r\n", "\n")


def _check_editable(issue: Issue) -> None:
    if issue.status == Issue.Status.SENDING:
        raise EditRefused(f"Issue #{issue.number} is being sent: it cannot change now.")


def _who(user: User | None) -> str:
    if user is None:
        return ""
    return user.get_full_name() or user.get_username()


def save_issue_fields(
    *,
    issue: Issue,
    based_on: int,
    values: dict[str, str],
    user: User | None,
) -> Issue:
    """Store ``values`` (some of title, letter, sign_off, period_start, period_end) if
    ``issue`` is still at version ``based_on``; return the issue at its new version.

    Raises ``StaleEdit`` (nothing written) when another save came first and changed
    one of these fields, ``EditRefused`` for a value that does not fit.
    """
    _check_editable(issue)
    text_values = {k: _lines(v) for k, v in values.items() if k in ISSUE_FIELDS}
    dates = {k: v for k, v in values.items() if k in ISSUE_DATE_FIELDS}
    unknown = set(values) - set(text_values) - set(dates)
    if unknown:
        raise EditRefused(f"Unknown field(s): {', '.join(sorted(unknown))}.")
    _check_lengths(text_values, ISSUE_FIELDS)
    parsed: dict[str, date] = {}
    for name, raw in dates.items():
        try:
            parsed[name] = date.fromisoformat(raw)
        except ValueError:
            raise EditRefused("Give the period's dates as YYYY-MM-DD.") from None
    if issue.status in (Issue.Status.SENT,) and parsed:
        raise EditRefused("A sent issue's period is public and cannot change.")
    start = parsed.get("period_start", issue.period_start)
    end = parsed.get("period_end", issue.period_end)
    if end < start:
        raise EditRefused("The period cannot end before it starts.")
    now = timezone.now()
    with transaction.atomic():
        updated = Issue.objects.filter(pk=issue.pk, version=based_on).update(
            **text_values, **parsed, version=F("version") + 1, updated_at=now
        )
        if not updated:
            current = Issue.objects.get(pk=issue.pk)
            raise _stale(current, {**text_values, **dates}, issue_id=issue.pk)
        # The row is what was based on plus these values: no need to read it back.
        _apply(issue, {**text_values, **parsed, "version": based_on + 1, "updated_at": now})
        record_revision(issue=issue, user=user, summary=_summary(values))
    return issue


def _apply(instance: Issue | IssueItem, values: dict) -> None:
    for name, value in values.items():
        setattr(instance, name, value)


def save_item_fields(
    *,
    item: IssueItem,
    based_on: int,
    values: dict[str, str],
    user: User | None,
) -> IssueItem:
    """Store ``values`` (some of headline, blurb, link_url, image_url) if ``item`` is
    still at version ``based_on``; the item is marked edited by a person.

    Raises ``StaleEdit`` or ``EditRefused`` as ``save_issue_fields`` does.
    """
    _check_editable(item.issue)
    unknown = set(values) - set(ITEM_FIELDS)
    if unknown:
        raise EditRefused(f"Unknown field(s): {', '.join(sorted(unknown))}.")
    values = {name: _lines(value) for name, value in values.items()}
    _check_lengths(values, ITEM_FIELDS)
    if "headline" in values and not values["headline"].strip():
        raise EditRefused("An item needs a headline.")
    now = timezone.now()
    with transaction.atomic():
        updated = IssueItem.objects.filter(pk=item.pk, version=based_on).update(
            **values, edited_by_editor=True, version=F("version") + 1, updated_at=now
        )
        if not updated:
            current = IssueItem.objects.filter(pk=item.pk).first()
            if current is None:
                raise EditRefused("This item was removed by another editor.")
            raise _stale(current, values, issue_id=item.issue_id)
        # As for the issue: the stored row is known without reading it back.
        _apply(
            item, {**values, "edited_by_editor": True, "version": based_on + 1, "updated_at": now}
        )
        summary = f"“{item.headline}”: {_summary(values)}"
        record_revision(issue=item.issue, user=user, summary=summary)
    return item


def _stale(current: Issue | IssueItem, mine: dict[str, str], *, issue_id: int) -> StaleEdit:
    theirs = {name: str(getattr(current, name) or "") for name in mine}
    last = (
        Issue.objects.get(pk=issue_id)
        .revisions.select_related("saved_by")
        .only("saved_by__username", "saved_by__first_name", "saved_by__last_name")
    ).first()
    return StaleEdit(
        version=current.version,
        theirs=theirs,
        saved_by=_who(last.saved_by) if last else "",
        changed=[name for name in mine if theirs[name] != mine[name]],
    )


def _summary(values: dict[str, str]) -> str:
    return "changed " + ", ".join(name.replace("_", " ") for name in values)


class StaleOrder(EditRefused):
    """Another editor reordered the issue since this editor's copy of the order was loaded."""


def reorder_section(
    *,
    issue: Issue,
    section: str,
    item_ids: list[int],
    based_on: int | None = None,
    user: User | None = None,
) -> int:
    """Put the items ``item_ids`` into ``section`` in that order (moving any that were
    in another section); return the issue's new ``order_version``.

    Ids not of this issue are refused; items of the section not listed (added since)
    keep their place after the listed ones. ``based_on`` is the order version the
    editor's screen shows: when another reorder came first, ``StaleOrder`` is raised
    and nothing moves. Every reorder keeps a revision (coalesced like typing).
    """
    if section not in IssueItem.Section.values:
        raise EditRefused("No such section.")
    if issue.status not in EDITABLE_STATUSES:
        raise EditRefused(f"Issue #{issue.number} is {issue.get_status_display().lower()}.")
    with transaction.atomic():
        # One conditional UPDATE checks the version and locks the issue's row, so two
        # reorders of one issue take turns.
        bumped = Issue.objects.filter(pk=issue.pk)
        if based_on is not None:
            bumped = bumped.filter(order_version=based_on)
        if not bumped.update(order_version=F("order_version") + 1):
            raise StaleOrder(
                "Another editor changed the order since you loaded it: yours was not "
                "saved. Reload to see theirs, then move again."
            )
        if based_on is None:
            based_on = Issue.objects.values_list("order_version", flat=True).get(pk=issue.pk) - 1
        items = {
            item.pk: item for item in IssueItem.objects.select_for_update().filter(issue=issue)
        }
        if any(item_id not in items for item_id in item_ids):
            raise EditRefused("One of these items was removed by another editor; reload.")
        for item_id in item_ids:
            item = items[item_id]
            if section == IssueItem.Section.EVENTS and item.article_id:
                raise EditRefused("Articles go into Radar or Reading corner.")
            if section != IssueItem.Section.EVENTS and item.event_id:
                raise EditRefused("Events go into Upcoming events.")
        rest = sorted(
            (i for i in items.values() if i.section == section and i.pk not in item_ids),
            key=lambda i: (i.order, i.pk),
        )
        changed = []
        for position, item in enumerate([items[i] for i in item_ids] + rest, start=1):
            if item.order != position or item.section != section:
                item.order, item.section = position, section
                changed.append(item)
        _place(changed, section)
        issue.order_version = based_on + 1
        label = IssueItem.Section(section).label
        record_revision(
            issue=issue, user=user, summary=f"reordered {label}", items=list(items.values())
        )
    return issue.order_version


def _place(items: list[IssueItem], section: str) -> None:
    """Store ``items``' new ``order`` in ``section`` with one ``UPDATE … CASE id``.

    ``bulk_update`` writes the same statement but builds one ORM filter per item and
    field, which cost more than the reorder's database work (profiled: most of a
    request); this SQL is plain and the same on PostgreSQL and SQLite.
    """
    if not items:
        return
    quote = connection.ops.quote_name
    cases = " ".join("WHEN %s THEN %s" for _ in items)
    marks = ", ".join("%s" for _ in items)
    sql = (
        # Names are the model's own, quoted; every value is a parameter.
        f"UPDATE {quote(IssueItem._meta.db_table)} SET {quote('order')} = CASE {quote('id')} "  # noqa: S608
        f"{cases} END, {quote('section')} = %s WHERE {quote('id')} IN ({marks})"
    )
    params = [value for item in items for value in (item.pk, item.order)]
    with connection.cursor() as cursor:
        cursor.execute(sql, [*params, section, *(item.pk for item in items)])


def move_item(
    *,
    item: IssueItem,
    section: str | None = None,
    step: int = 0,
    based_on: int | None = None,
    user: User | None = None,
) -> int:
    """Move ``item`` ``step`` places up (negative) or down within its section, or to
    the end of ``section``: the no-JavaScript way to reorder. Versioned and
    returning as ``reorder_section``."""
    issue = item.issue
    target = section or item.section
    ids = list(
        IssueItem.objects.filter(issue=issue, section=target)
        .order_by("order", "id")
        .values_list("id", flat=True)
    )
    if target != item.section:
        ids.append(item.pk)
    elif step:
        index = ids.index(item.pk)
        new = max(0, min(len(ids) - 1, index + step))
        ids.insert(new, ids.pop(index))
    return reorder_section(issue=issue, section=target, item_ids=ids, based_on=based_on, user=user)


def remove_item(*, item: IssueItem, user: User | None) -> None:
    """Take ``item`` out of its issue; the article goes back to the pool."""
    if item.issue.status not in EDITABLE_STATUSES:
        raise EditRefused(f"Issue #{item.issue.number} no longer takes changes to its items.")
    issue = item.issue
    headline = item.headline
    with transaction.atomic():  # no removal without its revision (restore brings it back)
        item.delete()
        record_revision(issue=issue, user=user, summary=f"removed “{headline}”")
