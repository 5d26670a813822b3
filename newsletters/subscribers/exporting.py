"""Subscribers as CSV: every field, status, topics and the consent record, streamed.

Spreadsheets run a cell that starts with ``=``, ``+``, ``-``, ``@``, a tab or a carriage
return as a formula (``=HYPERLINK(...)`` in a name someone typed), so every such cell is
written with a leading apostrophe (OWASP's advice for CSV injection): the text is kept,
the formula is not run.
"""

from __future__ import annotations

import csv
from collections.abc import Iterable, Iterator
from typing import TextIO

from django.db.models import Prefetch, QuerySet

from articles.models import Topic
from newsletters.models import Subscriber

COLUMNS = (
    "id",
    "email",
    "name",
    "status",
    "paused",
    "topics",
    "confirmed_at",
    "unsubscribed_at",
    "bounce_count",
    "consent_at",
    "consent_source",
    "consent_ip",
    "consent_text",
    "created_at",
    "updated_at",
)
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
# Rows fetched per query (with one more query for their topics).
CHUNK_SIZE = 2000


def neutralise_cell(value: object) -> str:
    """``value`` as CSV cell text that no spreadsheet runs as a formula."""
    text = "" if value is None else str(value)
    if text.startswith(FORMULA_STARTS):
        return "'" + text
    return text


def subscriber_row(subscriber: Subscriber) -> list[str]:
    """One subscriber as the cells of ``COLUMNS`` (topics as slugs, ';'-separated),
    neutralised. Reads ``subscriber.topics.all()``: prefetch it."""

    def when(moment) -> str:
        return moment.isoformat() if moment else ""

    cells = [
        subscriber.pk,
        subscriber.email,
        subscriber.name,
        subscriber.status,
        "yes" if subscriber.is_paused else "no",
        ";".join(topic.slug for topic in subscriber.topics.all()),
        when(subscriber.confirmed_at),
        when(subscriber.unsubscribed_at),
        subscriber.bounce_count,
        when(subscriber.consent_at),
        subscriber.consent_source,
        subscriber.consent_ip or "",
        subscriber.consent_text,
        when(subscriber.created_at),
        when(subscriber.updated_at),
    ]
    return [neutralise_cell(cell) for cell in cells]


def export_rows(queryset: QuerySet[Subscriber] | None = None) -> Iterator[list[str]]:
    """The header, then one row per subscriber of ``queryset`` (default: all), read in
    chunks so any number of subscribers takes the memory of one chunk."""
    queryset = Subscriber.objects.all() if queryset is None else queryset
    yield list(COLUMNS)
    rows = queryset.order_by("pk").prefetch_related(
        Prefetch("topics", queryset=Topic.objects.only("pk", "slug").order_by("slug"))
    )
    for subscriber in rows.iterator(chunk_size=CHUNK_SIZE):
        yield subscriber_row(subscriber)


def write_csv(rows: Iterable[list[str]], out: TextIO) -> int:
    """Write ``rows`` to ``out`` as CSV; the number of data rows (the header not counted)."""
    writer = csv.writer(out)
    count = -1
    for row in rows:
        writer.writerow(row)
        count += 1
    return max(count, 0)


class _Echo:
    """A file-like object whose ``write`` returns what it was given: ``csv.writer``
    then yields each line for a streaming response instead of buffering them."""

    def write(self, value: str) -> str:
        return value


def csv_lines(rows: Iterable[list[str]]) -> Iterator[str]:
    """Each row as one CSV line, for ``StreamingHttpResponse``."""
    writer = csv.writer(_Echo())
    for row in rows:
        yield writer.writerow(row)
