"""Putting articles and events into an issue's sections, and describing events.

Every way an item gets into an issue (the pool's "add" button, auto-draft) goes
through ``add_article_item`` or ``add_event_item``, so prefill, ordering and the
one-article-per-issue rule live in one place; an item edited outside its issue's page
(the Issue items admin) is saved through ``save_item_edit`` and deleted through
``delete_item``, which apply the same status rules and log corrections.
"""

from __future__ import annotations

from datetime import timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from django.db import IntegrityError, transaction
from django.db.models import Max

from articles.models import Article, Event, EventQuerySet
from articles.timezones import format_date_range, format_duration, format_zoned_times
from newsletters.compiling.blurbs import prefill_from_article
from newsletters.models import Issue, IssueItem
from newsletters.workflow import record_correction

# Events starting in this many weeks after the period go into "Upcoming events".
EVENT_WEEKS_AHEAD = 4

# Items can be added while an issue is being compiled; a sending or sent issue is
# fixed in shape (its text can still be corrected in the admin).
EDITABLE_STATUSES = (Issue.Status.DRAFT, Issue.Status.SCHEDULED)


class ItemError(Exception):
    """An item cannot be added; the message says why, in words for the editor."""


def _next_order(issue: Issue, section: str) -> int:
    highest = issue.items.filter(section=section).aggregate(highest=Max("order"))["highest"]
    return (highest or 0) + 1


def _check_editable(issue: Issue) -> None:
    if issue.status not in EDITABLE_STATUSES:
        raise ItemError(
            f"Issue #{issue.number} is {issue.get_status_display().lower()}: "
            "its items can be corrected but no new ones added."
        )


# What may be corrected on an item of a sent issue: its words and picture, not its place.
CORRECTABLE_FIELDS = frozenset({"headline", "blurb", "image_url", "link_url"})


def save_item_edit(*, item: IssueItem, changed: list[str], user=None) -> None:
    """Save an edit of ``item`` under its issue's rules, or raise ``ItemError``.

    Draft or scheduled: any field, but an item may not be moved into an issue that no
    longer takes items. Sending: nothing. Sent: only ``CORRECTABLE_FIELDS``, and the
    save is logged as a correction in the issue's history.
    """
    issue = Issue.objects.get(pk=item.issue_id)
    if issue.status == Issue.Status.SENDING:
        raise ItemError(f"Issue #{issue.number} is being sent: its items cannot change now.")
    stored = IssueItem.objects.filter(pk=item.pk).values_list("issue_id", flat=True).first()
    if stored is not None and stored != item.issue_id:
        _check_editable(issue)
        _check_editable(Issue.objects.get(pk=stored))
    if issue.status == Issue.Status.SENT:
        if stored is None or set(changed) - CORRECTABLE_FIELDS:
            raise ItemError(
                f"Issue #{issue.number} is sent: only an item's headline, blurb, image and "
                "link can be corrected."
            )
    elif stored is None:
        _check_editable(issue)
    with transaction.atomic():
        item.save()
        if issue.status == Issue.Status.SENT and changed:
            record_correction(
                issue=issue, user=user, note=f"item “{item.headline[:80]}”: {', '.join(changed)}"
            )


def delete_item(*, item: IssueItem) -> None:
    """Remove ``item`` from its issue; only while the issue still takes items."""
    _check_editable(Issue.objects.get(pk=item.issue_id))
    item.delete()


def add_article_item(
    *, issue: Issue, article: Article, section: str = IssueItem.Section.RADAR
) -> IssueItem:
    """Add ``article`` at the end of ``section``, headline, blurb and image prefilled.

    Raises ``ItemError`` when the issue no longer takes items, or the article is
    already used by this or another issue; nothing is written then.
    """
    if section not in IssueItem.Section.values or section == IssueItem.Section.EVENTS:
        raise ItemError("Articles go into Radar or Reading corner.")
    _check_editable(issue)
    used = (
        IssueItem.objects.filter(article=article).select_related("issue").only("issue__number")
    ).first()
    if used is not None:
        raise ItemError(f"“{article.title}” is already in issue #{used.issue.number}.")
    prefill = prefill_from_article(article=article)
    try:
        with transaction.atomic():
            return IssueItem.objects.create(
                issue=issue,
                section=section,
                order=_next_order(issue, section),
                article=article,
                headline=prefill.headline,
                blurb=prefill.blurb,
                image_url=prefill.image_url,
            )
    except IntegrityError:  # added by someone else a moment ago
        raise ItemError(f"“{article.title}” is already in issue #{issue.number}.") from None


def add_event_item(*, issue: Issue, event: Event) -> IssueItem:
    """Add ``event`` to Upcoming events, which stay in order of start time; raises
    ``ItemError`` if it is there."""
    _check_editable(issue)
    try:
        with transaction.atomic():
            item = IssueItem.objects.create(
                issue=issue,
                section=IssueItem.Section.EVENTS,
                order=_next_order(issue, IssueItem.Section.EVENTS),
                event=event,
                headline=event.title,
                blurb="",
            )
            order_events_by_start(issue=issue)
    except IntegrityError:
        raise ItemError(f"“{event.title}” is already in issue #{issue.number}.") from None
    item.refresh_from_db(fields=["order"])
    return item


def order_events_by_start(*, issue: Issue) -> None:
    """Number the issue's Upcoming events by start time (items without an event, such
    as a hand-added link, after them in their current order)."""
    items = list(
        IssueItem.objects.filter(issue=issue, section=IssueItem.Section.EVENTS).select_related(
            "event"
        )
    )
    far = (1, None)
    items.sort(key=lambda i: ((0, i.event.starts_at) if i.event else far, i.order, i.pk))
    changed = []
    for position, item in enumerate(items, start=1):
        if item.order != position:
            item.order = position
            changed.append(item)
    IssueItem.objects.bulk_update(changed, ["order"])


def events_after_period(*, issue: Issue) -> EventQuerySet:
    """Events starting in the weeks after the issue's period, soonest first."""
    start = issue.period_end + timedelta(days=1)
    end = issue.period_end + timedelta(weeks=EVENT_WEEKS_AHEAD)
    return Event.objects.filter(starts_at__date__gte=start, starts_at__date__lte=end).order_by(
        "starts_at", "id"
    )


def event_schedule(event: Event, *, zones: list[str] | None = None) -> str:
    """'Tue 22 April 2025 · 10.00 EDT | 14.00 UTC | 16.00 CEST · 2 h · Online'.

    The date is the organiser's (``Event.time_zone``); the times are in each display
    zone; the place is "Online" for an online event without one.
    """
    try:
        organiser_zone = ZoneInfo(event.time_zone or "UTC")
    except (ZoneInfoNotFoundError, ValueError):
        organiser_zone = ZoneInfo("UTC")
    local = event.starts_at.astimezone(organiser_zone)
    local_end = event.ends_at.astimezone(organiser_zone)
    if event.duration >= timedelta(days=1):
        # A multi-day event reads as its dates; a duration in hours ("56 h") says little.
        parts = [
            format_date_range(start=local.date(), end=local_end.date()),
            format_zoned_times(moment=event.starts_at, zones=zones),
        ]
    else:
        parts = [
            f"{local:%a} {local.day} {local:%B %Y}",
            format_zoned_times(moment=event.starts_at, zones=zones),
        ]
        duration = format_duration(event.duration)
        if duration:
            parts.append(duration)
    if event.is_online and event.place:
        parts.append(f"{event.place} and online")
    else:
        parts.append("Online" if event.is_online or not event.place else event.place)
    return " · ".join(parts)
