"""Subscriber exports of other newsletter tools: which one a CSV header is, and each row
as one ``ImportRow`` in this project's terms.

Column names are those of each tool's own export:

- Mailchimp (audience export, one file per status): ``Email Address``, ``First Name``,
  ``Last Name``, ``OPTIN_TIME``, ``OPTIN_IP``, ``CONFIRM_TIME``, ``CONFIRM_IP``, ``TAGS``,
  ``LEID``/``EUID``…; the unsubscribed file adds ``UNSUB_TIME``, the cleaned (bounced) file
  ``CLEAN_TIME``.
- Substack: ``email``, ``active_subscription``, ``expiry``, ``plan``, ``email_disabled``,
  ``created_at``, ``first_payment_at``.
- Ghost (members export): ``id``, ``email``, ``name``, ``note``, ``subscribed_to_emails``,
  ``complimentary_plan``, ``stripe_customer_id``, ``created_at``, ``deleted_at``, ``labels``.
- Buttondown: ``email`` (or ``email_address``), ``creation_date``, ``subscriber_type``,
  ``tags``, ``notes``, ``metadata``, ``source``…
- listmonk: ``uuid``, ``email``, ``name``, ``attributes``, ``status``, ``created_at``,
  ``updated_at``.
- plain: ``email[,name][,topics]`` with or without that header line, optionally with
  ``consent_at`` and ``consent_source`` columns.

Consent: a row may become an active subscriber only with a consent date from the file
(and the tool or ``consent_source`` column as its source); states that mean "do not
mail" (unsubscribed, cleaned/bounced, complained, blocklisted) come in suppressed.
"""

from __future__ import annotations

import csv
import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from django.utils import timezone

from newsletters.models import Subscriber

Status = Subscriber.Status
SUPPRESSED = frozenset({Status.UNSUBSCRIBED, Status.BOUNCED, Status.COMPLAINED})
TRUE_WORDS = frozenset({"true", "1", "yes", "y", "t"})
_TOPIC_SPLIT = re.compile(r"[;|,]")


class RowError(ValueError):
    """The row cannot be imported; ``str(error)`` is the reason for the report."""


@dataclass(frozen=True)
class ImportRow:
    email: str  # as written in the file; checked later
    name: str = ""
    topics: tuple[str, ...] = ()
    # Where the tool had this address: active (wants mail), pending (never confirmed),
    # or a suppressed state.
    status: str = Status.ACTIVE
    consent_at: datetime | None = None
    consent_source: str = ""
    consent_ip: str | None = None
    consent_text: str = ""
    suppressed_at: datetime | None = None

    @property
    def suppressed(self) -> bool:
        return self.status in SUPPRESSED


@dataclass(frozen=True)
class ExportFormat:
    key: str
    label: str
    matches: Callable[[frozenset[str]], bool]
    parse: Callable[[dict[str, str], frozenset[str]], ImportRow]


def parse_when(value: str, *, column: str) -> datetime | None:
    """An aware datetime from the date formats these tools write (naive means UTC);
    None for an empty cell; ``RowError`` for anything else or a date in the future."""
    value = (value or "").strip()
    if not value:
        return None
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        moment = None
        for pattern in ("%m/%d/%Y %H:%M:%S", "%m/%d/%Y %H:%M", "%m/%d/%Y", "%d.%m.%Y"):
            try:
                moment = datetime.strptime(value, pattern)  # noqa: DTZ007 - UTC below
                break
            except ValueError:
                continue
        if moment is None:
            raise RowError(f"{column} {value[:40]!r} is not a date.") from None
    if timezone.is_naive(moment):
        moment = moment.replace(tzinfo=UTC)
    if moment > timezone.now() + timedelta(days=1):
        raise RowError(f"{column} {value[:40]!r} is in the future.")
    return moment


def _truthy(value: str) -> bool:
    return (value or "").strip().lower() in TRUE_WORDS


def _split_topics(value: str) -> tuple[str, ...]:
    value = (value or "").strip()
    if not value:
        return ()
    if value.startswith("["):
        try:
            listed = json.loads(value)
        except ValueError:
            listed = None
        if isinstance(listed, list):
            return tuple(str(t).strip() for t in listed if str(t).strip())
    if value.startswith('"'):  # Mailchimp TAGS: "tag one","tag two"
        cells = next(csv.reader([value]), [])
        return tuple(cell.strip() for cell in cells if cell.strip())
    return tuple(part.strip() for part in _TOPIC_SPLIT.split(value) if part.strip())


def _ip(value: str) -> str | None:
    import ipaddress

    value = (value or "").strip()
    if not value:
        return None
    try:
        return str(ipaddress.ip_address(value))
    except ValueError:
        return None  # a malformed IP is not worth refusing the row for


def _consented(
    *, label: str, when: datetime | None, column: str, ip: str | None = None
) -> dict[str, object]:
    if when is None:
        return {}
    return {
        "consent_at": when,
        "consent_source": f"import:{label.lower()}",
        "consent_ip": ip,
        "consent_text": f"Subscribed in {label} ({column} {when:%Y-%m-%d %H:%M} UTC); imported.",
    }


# ---------------------------------------------------------------- Mailchimp


def _mailchimp(row: dict[str, str], columns: frozenset[str]) -> ImportRow:
    name = " ".join(part for part in (row.get("first name", ""), row.get("last name", "")) if part)
    common = {
        "email": row.get("email address", ""),
        "name": name.strip(),
        "topics": _split_topics(row.get("tags", "")),
    }
    if "clean_time" in columns:
        when = parse_when(row.get("clean_time", ""), column="CLEAN_TIME")
        return ImportRow(**common, status=Status.BOUNCED, suppressed_at=when)
    if "unsub_time" in columns:
        when = parse_when(row.get("unsub_time", ""), column="UNSUB_TIME")
        return ImportRow(**common, status=Status.UNSUBSCRIBED, suppressed_at=when)
    confirmed = parse_when(row.get("confirm_time", ""), column="CONFIRM_TIME")
    opted_in = parse_when(row.get("optin_time", ""), column="OPTIN_TIME")
    if confirmed:
        consent = _consented(
            label="Mailchimp", when=confirmed, column="CONFIRM_TIME", ip=_ip(row.get("confirm_ip"))
        )
    else:
        consent = _consented(
            label="Mailchimp", when=opted_in, column="OPTIN_TIME", ip=_ip(row.get("optin_ip"))
        )
    return ImportRow(**common, status=Status.ACTIVE, **consent)


# ----------------------------------------------------------------- Substack


def _substack(row: dict[str, str], columns: frozenset[str]) -> ImportRow:
    common = {"email": row.get("email", ""), "name": row.get("name", "").strip()}
    if _truthy(row.get("email_disabled", "")) or (
        "active_subscription" in columns and not _truthy(row.get("active_subscription", ""))
    ):
        return ImportRow(**common, status=Status.UNSUBSCRIBED)
    when = parse_when(row.get("created_at", ""), column="created_at")
    return ImportRow(
        **common,
        status=Status.ACTIVE,
        **_consented(label="Substack", when=when, column="created_at"),
    )


# -------------------------------------------------------------------- Ghost


def _ghost(row: dict[str, str], columns: frozenset[str]) -> ImportRow:
    common = {
        "email": row.get("email", ""),
        "name": row.get("name", "").strip(),
        "topics": _split_topics(row.get("labels", "")),
    }
    if row.get("deleted_at", "").strip() or not _truthy(row.get("subscribed_to_emails", "")):
        return ImportRow(**common, status=Status.UNSUBSCRIBED)
    when = parse_when(row.get("created_at", ""), column="created_at")
    return ImportRow(
        **common, status=Status.ACTIVE, **_consented(label="Ghost", when=when, column="created_at")
    )


# --------------------------------------------------------------- Buttondown

BUTTONDOWN_SUPPRESSED = {
    "unsubscribed": Status.UNSUBSCRIBED,
    "removed": Status.UNSUBSCRIBED,
    "disabled": Status.UNSUBSCRIBED,
    "spammy": Status.COMPLAINED,
    "complained": Status.COMPLAINED,
    "bounced": Status.BOUNCED,
    "undeliverable": Status.BOUNCED,
}


def _buttondown(row: dict[str, str], columns: frozenset[str]) -> ImportRow:
    common = {
        "email": row.get("email") or row.get("email_address", ""),
        "topics": _split_topics(row.get("tags", "")),
    }
    kind = row.get("subscriber_type", "").strip().lower()
    if kind in BUTTONDOWN_SUPPRESSED:
        return ImportRow(**common, status=BUTTONDOWN_SUPPRESSED[kind])
    if kind == "unactivated":
        return ImportRow(**common, status=Status.PENDING)
    when = parse_when(row.get("creation_date", ""), column="creation_date")
    return ImportRow(
        **common,
        status=Status.ACTIVE,
        **_consented(label="Buttondown", when=when, column="creation_date"),
    )


# ------------------------------------------------------------------ listmonk


def _listmonk(row: dict[str, str], columns: frozenset[str]) -> ImportRow:
    common = {"email": row.get("email", ""), "name": row.get("name", "").strip()}
    status = row.get("status", "").strip().lower()
    if status == "blocklisted":
        return ImportRow(**common, status=Status.UNSUBSCRIBED)
    if status not in ("enabled", ""):
        raise RowError(f"listmonk status {status[:20]!r} is not enabled or blocklisted.")
    when = parse_when(row.get("created_at", ""), column="created_at")
    return ImportRow(
        **common,
        status=Status.ACTIVE,
        **_consented(label="listmonk", when=when, column="created_at"),
    )


# --------------------------------------------------------------------- plain

PLAIN_COLUMNS = ("email", "name", "topics")
PLAIN_SUPPRESSED = {
    "unsubscribed": Status.UNSUBSCRIBED,
    "bounced": Status.BOUNCED,
    "cleaned": Status.BOUNCED,
    "complained": Status.COMPLAINED,
}


def _plain(row: dict[str, str], columns: frozenset[str]) -> ImportRow:
    common = {
        "email": row.get("email", ""),
        "name": row.get("name", "").strip(),
        "topics": _split_topics(row.get("topics", "")),
    }
    status = row.get("status", "").strip().lower()
    if status in PLAIN_SUPPRESSED:
        return ImportRow(**common, status=PLAIN_SUPPRESSED[status])
    when = parse_when(row.get("consent_at", ""), column="consent_at")
    source = row.get("consent_source", "").strip()[:50]
    if when is None or not source:
        # No consent record in the file: only --as-pending (a confirmation) can import it.
        return ImportRow(**common, status=Status.ACTIVE)
    return ImportRow(
        **common,
        status=Status.ACTIVE,
        consent_at=when,
        consent_source=source,
        consent_text=f"Consent recorded as {source!r} on {when:%Y-%m-%d %H:%M} UTC; imported.",
    )


FORMATS: tuple[ExportFormat, ...] = (
    ExportFormat(
        "mailchimp",
        "Mailchimp",
        lambda c: (
            "email address" in c and bool(c & {"optin_time", "leid", "euid", "member_rating"})
        ),
        _mailchimp,
    ),
    ExportFormat(
        "substack",
        "Substack",
        lambda c: "email" in c and bool(c & {"active_subscription", "email_disabled"}),
        _substack,
    ),
    ExportFormat("ghost", "Ghost", lambda c: "email" in c and "subscribed_to_emails" in c, _ghost),
    ExportFormat(
        "buttondown",
        "Buttondown",
        lambda c: (
            bool(c & {"email", "email_address"}) and bool(c & {"subscriber_type", "creation_date"})
        ),
        _buttondown,
    ),
    ExportFormat(
        "listmonk",
        "listmonk",
        lambda c: {"uuid", "email", "status", "attributes"} <= c,
        _listmonk,
    ),
    ExportFormat("plain", "plain CSV", lambda c: "email" in c, _plain),
)


def normalise_header(header: list[str]) -> list[str]:
    """Header cells lower-cased and trimmed; 'e-mail'/'email address' read as 'email'
    in a plain file only (Mailchimp's own 'Email Address' is kept for detection)."""
    return [cell.strip().strip("\ufeff").lower() for cell in header]


def detect_format(header: list[str]) -> ExportFormat | None:
    """The export format a (normalised) header line is, or None if it has no email column."""
    columns = frozenset(header)
    for export_format in FORMATS:
        if export_format.matches(columns):
            return export_format
    if columns & {"e-mail", "email address", "email_address", "mail"}:
        return FORMATS[-1]
    return None


def plain_aliases(header: list[str]) -> list[str]:
    """A plain file's header with the usual spellings of 'email' mapped to it."""
    aliases = {
        "e-mail": "email",
        "email address": "email",
        "email_address": "email",
        "mail": "email",
    }
    return [aliases.get(cell, cell) for cell in header]


def is_headerless(first_line: list[str]) -> bool:
    """True if the first line is already data (``a@b.org,Name``), not a header."""
    return bool(first_line) and "@" in first_line[0]
