"""Importing subscribers from another tool's CSV export, with a report and a dry run.

``import_subscribers`` reads the file as a stream (``csvreading``), maps each row with
its tool's format (``formats``), checks the address like the subscribe form does, and
writes in chunks of ``CHUNK_ROWS``, so 100,000 rows take the memory of one chunk. Each
row ends up as exactly one of: new, updated, unchanged, duplicate (an address seen
earlier in the file, compared case-insensitively) or invalid (with its line and reason).

Consent is kept: without ``as_pending`` a row becomes an active subscriber only with a
consent date and source from the file; with ``as_pending`` new addresses come in
pending and get the confirmation email. Suppressed rows (unsubscribed, bounced/cleaned,
complained) are stored suppressed, and an address suppressed here is never made active
by an import. A dry run does all of this except writing and sending.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import BinaryIO

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models.functions import Lower
from django.utils import timezone

from articles.models import Topic
from digest.core.queue import enqueue_on_commit
from newsletters.models import Subscriber
from newsletters.subscribers.csvreading import CsvRecord, read_csv
from newsletters.subscribers.formats import (
    FORMATS,
    SUPPRESSED,
    ImportRow,
    RowError,
    detect_format,
    is_headerless,
    normalise_header,
    plain_aliases,
)
from newsletters.subscribers.import_report import ImportReport
from newsletters.subscribers.seen_addresses import SeenAddresses
from newsletters.subscribers.services import (
    SUBSCRIBER_EMAIL_TASK,
    InvalidAddress,
    normalise_address,
)

CHUNK_ROWS = 500
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
MAX_NAME_LENGTH = 200
Status = Subscriber.Status


class ImportRefused(ValueError):
    """The whole file cannot be imported (format unknown, too large, empty)."""


@dataclass
class _Pending:
    line: int
    key: str  # lower-cased address
    address: str
    row: ImportRow
    topic_ids: frozenset[int]


def import_subscribers(
    *,
    stream: BinaryIO,
    dry_run: bool = False,
    as_pending: bool = False,
    progress: Callable[[int], None] | None = None,
) -> ImportReport:
    """Import every row of the CSV ``stream`` (binary, seekable); return the report.

    Raises ``ImportRefused`` before anything is stored if the file is over
    ``SUBSCRIBER_IMPORT_MAX_BYTES``, empty, or not one of the known formats.
    ``progress(bytes_read)`` is called after each chunk.
    """
    try:
        csv_file = read_csv(stream, max_bytes=settings.SUBSCRIBER_IMPORT_MAX_BYTES)
    except ValueError as error:  # FileTooLarge, an empty file
        raise ImportRefused(str(error)) from None
    header = normalise_header(csv_file.header)
    first_record = None
    if is_headerless(csv_file.header):
        export_format, columns = FORMATS[-1], ["email", "name", "topics"]
        first_record = (1, csv_file.header)
    else:
        export_format = detect_format(header)
        columns = plain_aliases(header) if export_format is FORMATS[-1] else header
    if export_format is None:
        raise ImportRefused(
            "No email column found in the header line "
            f"({', '.join(csv_file.header[:8])[:200]}). Expected the export of Mailchimp, "
            "Substack, Ghost, Buttondown or listmonk, or a plain email,name,topics file."
        )
    report = ImportReport(
        format_label=export_format.label,
        encoding=csv_file.encoding_label,
        delimiter=csv_file.delimiter,
        dry_run=dry_run,
        as_pending=as_pending,
    )
    column_set = frozenset(columns)
    topics = _topic_lookup()
    seen = SeenAddresses()
    chunk: list[_Pending] = []
    try:
        for line, values, problem in _rows(first_record, csv_file.records):
            pending = _check_row(
                report=report,
                line=line,
                values=values,
                problem=problem,
                columns=columns,
                column_set=column_set,
                parse=export_format.parse,
                topics=topics,
            )
            if pending is not None:
                chunk.append(pending)
            if len(chunk) >= CHUNK_ROWS:
                _apply_chunk(report=report, chunk=chunk, seen=seen)
                chunk = []
                if progress:
                    progress(stream.tell())
        if chunk:
            _apply_chunk(report=report, chunk=chunk, seen=seen)
    except ValueError as error:  # the file grew past the limit while being read
        raise ImportRefused(str(error)) from None
    finally:
        seen.close()
        csv_file.release()
    if progress:
        progress(stream.tell())
    return report


def _rows(first: tuple[int, list[str]] | None, records: Iterator[CsvRecord]):
    """(line, values, problem) of every record, the header line first in a headerless file."""
    if first is not None:
        yield first[0], first[1], ""
    for record in records:
        yield record.line, record.values, record.problem


def _topic_lookup() -> dict[str, int]:
    lookup: dict[str, int] = {}
    for pk, name, slug in Topic.objects.values_list("pk", "name", "slug"):
        lookup[name.lower()] = pk
        lookup[slug.lower()] = pk
    return lookup


def _check_row(
    *,
    report: ImportReport,
    line: int,
    values: list[str],
    problem: str,
    columns: list[str],
    column_set: frozenset[str],
    parse,
    topics: dict[str, int],
) -> _Pending | None:
    """The row ready to write, or None after noting why it is invalid."""
    raw_email = values[columns.index("email")] if "email" in columns and values else ""
    if problem:
        return _invalid(report, line, raw_email, problem)
    if len(values) > len(columns) and any(v.strip() for v in values[len(columns) :]):
        return _invalid(report, line, raw_email, "The row has more cells than the header.")
    cells = dict(zip(columns, values, strict=False))
    try:
        row = parse(cells, column_set)
    except RowError as error:
        return _invalid(report, line, raw_email or row_email(cells), str(error))
    try:
        address = normalise_address(row.email)
    except InvalidAddress as error:
        return _invalid(report, line, row.email, str(error))
    if _CONTROL.search(row.name):
        return _invalid(
            report, line, address, "The name contains a line break or control character."
        )
    if len(row.name) > MAX_NAME_LENGTH:
        return _invalid(
            report, line, address, f"The name is longer than {MAX_NAME_LENGTH} characters."
        )
    topic_ids = set()
    for topic in row.topics:
        pk = topics.get(topic.lower())
        if pk is None:
            if len(report.unknown_topics) < 50:
                report.unknown_topics.add(topic[:60])
        else:
            topic_ids.add(pk)
    return _Pending(
        line=line, key=address.lower(), address=address, row=row, topic_ids=frozenset(topic_ids)
    )


def row_email(cells: dict[str, str]) -> str:
    return cells.get("email") or cells.get("email address") or cells.get("email_address") or ""


def _invalid(report: ImportReport, line: int, email: str, reason: str) -> None:
    report.invalid += 1
    report.note(line=line, email=email, reason=reason, kind="invalid")
    return None


NO_CONSENT = (
    "No consent record (date and source) in the file: not imported. Import with "
    "--as-pending to send a confirmation email instead."
)


def _apply_chunk(*, report: ImportReport, chunk: list[_Pending], seen: SeenAddresses) -> None:
    """Classify and (unless a dry run) write one chunk; retried once if an address was
    created by someone else meanwhile."""
    fresh = _drop_duplicates(report=report, chunk=chunk, seen=seen)
    for attempt in (1, 2):
        counts = ImportReport()
        try:
            with transaction.atomic():
                _write(
                    report=counts,
                    chunk=fresh,
                    dry_run=report.dry_run,
                    as_pending=report.as_pending,
                )
        except IntegrityError:
            if attempt == 2:
                raise
            continue
        break
    for name in ("new", "updated", "unchanged", "invalid", "suppressed", "confirmations"):
        setattr(report, name, getattr(report, name) + getattr(counts, name))
    for note in counts.notes:
        report.note(line=note.line, email=note.email, reason=note.reason, kind=note.kind)


def _drop_duplicates(
    *, report: ImportReport, chunk: list[_Pending], seen: SeenAddresses
) -> list[_Pending]:
    earlier = seen.first_lines([p.key for p in chunk])
    fresh: list[_Pending] = []
    for pending in chunk:
        first = earlier.get(pending.key)
        if first is not None:
            report.duplicates += 1
            report.note(
                line=pending.line,
                email=pending.address,
                reason=f"Duplicate of line {first} (addresses compare case-insensitively).",
                kind="duplicate",
            )
            continue
        earlier[pending.key] = pending.line
        fresh.append(pending)
    seen.add([(p.key, p.line) for p in fresh])
    return fresh


def _write(
    *, report: ImportReport, chunk: list[_Pending], dry_run: bool, as_pending: bool
) -> None:
    now = timezone.now()
    existing = {
        s.email_lower: s
        for s in Subscriber.objects.annotate(email_lower=Lower("email")).filter(
            email_lower__in=[p.key for p in chunk]
        )
    }
    chosen = _chosen_topics([s.pk for s in existing.values()])
    new_rows: list[tuple[Subscriber, _Pending]] = []
    changed: list[Subscriber] = []
    links: list[tuple[Subscriber, frozenset[int]]] = []
    for pending in chunk:
        row = pending.row
        current = existing.get(pending.key)
        if current is None:
            subscriber = _new_subscriber(pending=pending, as_pending=as_pending, now=now)
            if subscriber is None:
                report.invalid += 1
                report.note(
                    line=pending.line, email=pending.address, reason=NO_CONSENT, kind="invalid"
                )
                continue
            report.new += 1
            report.suppressed += subscriber.status in SUPPRESSED
            report.confirmations += subscriber.status == Status.PENDING
            new_rows.append((subscriber, pending))
            continue
        update, reason = _update(current=current, pending=pending, now=now)
        missing = pending.topic_ids - chosen.get(current.pk, frozenset())
        if row.suppressed or current.status in SUPPRESSED:
            missing = frozenset()  # no point choosing topics for a do-not-mail address
        if reason:
            report.note(line=pending.line, email=pending.address, reason=reason, kind="kept")
        if update or missing:
            report.updated += 1
            report.suppressed += update.get("status") in SUPPRESSED
            for name, value in update.items():
                setattr(current, name, value)
            current.updated_at = now
            changed.append(current)
            if missing:
                links.append((current, missing))
        else:
            report.unchanged += 1
    if dry_run:
        return
    if new_rows:
        Subscriber.objects.bulk_create([s for s, _ in new_rows])
        links.extend(
            (s, p.topic_ids) for s, p in new_rows if p.topic_ids and s.status not in SUPPRESSED
        )
    if changed:
        fields = {"status", "name", "confirmed_at", "unsubscribed_at", "updated_at"}
        fields |= {"consent_at", "consent_source", "consent_ip", "consent_text"}
        Subscriber.objects.bulk_update(changed, sorted(fields))
    through = Subscriber.topics.through
    through.objects.bulk_create(
        [through(subscriber_id=s.pk, topic_id=t) for s, ids in links for t in ids],
        ignore_conflicts=True,
    )
    for subscriber, _ in new_rows:
        if subscriber.status == Status.PENDING:
            enqueue_on_commit(SUBSCRIBER_EMAIL_TASK, subscriber_id=subscriber.pk, kind="confirm")


def _chosen_topics(subscriber_ids: list[int]) -> dict[int, frozenset[int]]:
    chosen: dict[int, set[int]] = {}
    rows = Subscriber.topics.through.objects.filter(subscriber_id__in=subscriber_ids)
    for subscriber_id, topic_id in rows.values_list("subscriber_id", "topic_id"):
        chosen.setdefault(subscriber_id, set()).add(topic_id)
    return {key: frozenset(value) for key, value in chosen.items()}


def _new_subscriber(*, pending: _Pending, as_pending: bool, now) -> Subscriber | None:
    """The subscriber to create for a new address, or None if it lacks consent."""
    row = pending.row
    base = {"email": pending.address, "name": row.name}
    if row.suppressed:
        return Subscriber(
            **base,
            status=row.status,
            unsubscribed_at=row.suppressed_at or now,
            consent_source="import",
            consent_text="Imported in a do-not-mail state.",
        )
    if as_pending:
        return Subscriber(
            **base,
            status=Status.PENDING,
            consent_source="import:pending",
            consent_text="Imported; asked to confirm by email.",
        )
    if row.status != Status.ACTIVE or row.consent_at is None or not row.consent_source:
        return None
    return Subscriber(
        **base,
        status=Status.ACTIVE,
        confirmed_at=row.consent_at,
        consent_at=row.consent_at,
        consent_source=row.consent_source[:50],
        consent_ip=row.consent_ip,
        consent_text=row.consent_text,
    )


def _update(*, current: Subscriber, pending: _Pending, now) -> tuple[dict[str, object], str]:
    """(fields to change on an existing subscriber, a note for the report or "")."""
    row = pending.row
    update: dict[str, object] = {}
    if row.name and not current.name:
        update["name"] = row.name
    if row.suppressed:
        if current.status not in SUPPRESSED:
            # The old tool was told "stop": that wins over anything recorded here.
            update["status"] = row.status
            update["unsubscribed_at"] = row.suppressed_at or now
        return update, ""
    if current.status in SUPPRESSED:
        label = current.get_status_display().lower()
        return update, f"Already {label} here: left suppressed, not resubscribed."
    if current.status == Status.PENDING and row.consent_at and row.consent_source:
        update.update(
            status=Status.ACTIVE,
            confirmed_at=row.consent_at,
            consent_at=row.consent_at,
            consent_source=row.consent_source[:50],
            consent_ip=row.consent_ip,
            consent_text=row.consent_text,
        )
    return update, ""
