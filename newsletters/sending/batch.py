"""Sending an issue: fix the audience, send batches over one connection, finish.

State lives in the database. An issue moves draft/scheduled → sending → sent;
each ``Delivery`` moves pending → sending → sent/failed, every step a
conditional UPDATE, so a task delivered twice (acks_late after a crash) does
nothing the second time. A delivery is claimed right before its message goes
out and marked sent right after, so after a crash at most the message on the
wire can go twice: ``requeue_stale_deliveries`` returns deliveries stuck in
'sending' to 'pending' once ``NEWSLETTER_STALE_AFTER`` has passed.
"""

from __future__ import annotations

import base64
import functools
import logging
import re
import secrets
import smtplib
import threading
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from email.header import Header
from email.utils import formatdate, make_msgid, parseaddr

from django.conf import settings
from django.core.mail import BadHeaderError, EmailMultiAlternatives, get_connection
from django.core.mail.backends.smtp import EmailBackend as SMTPBackend
from django.core.mail.message import sanitize_address
from django.db import connection as db_connection
from django.db import transaction
from django.db.models import Count, Q
from django.utils import timezone

from digest.core.queue import enqueue
from newsletters.models import Delivery, Issue, Subscriber
from newsletters.rendering import (
    PersonalMessage,
    RenderedIssue,
    personalise,
    render_issue_email,
    unsaved_recipient,
)
from newsletters.subscribers.services import normalise_address, record_permanent_failure
from newsletters.transitions import move_issue

logger = logging.getLogger(__name__)

SEND_BATCH_TASK = "newsletters.tasks.deliveries_send_batch_task"

FINAL_STATUSES = (Delivery.Status.SENT, Delivery.Status.FAILED)
OPEN_STATUSES = (Delivery.Status.PENDING, Delivery.Status.SENDING)
# Deliveries inserted per statement when the audience is fixed.
INSERT_CHUNK = 2000
# A retried task may run a little before a delivery's next_attempt_at (clock skew).
RETRY_TOLERANCE = timedelta(seconds=2)


class IssueNotSendable(Exception):
    """The issue is not a draft or scheduled issue, so a send cannot start."""


@dataclass(frozen=True)
class SendStart:
    issue_id: int
    from_status: str
    deliveries: int
    batches: list[list[int]] = field(repr=False)


@dataclass
class BatchResult:
    sent: int = 0
    failed: int = 0
    skipped: int = 0
    # Deliveries to try again later (temporary errors, or untouched after the
    # connection broke), and how long to wait.
    retry_ids: list[int] = field(default_factory=list)
    retry_in: float = 0.0


@dataclass(frozen=True)
class SweepResult:
    reclaimed: int
    requeued: int
    finished: int


# ------------------------------------------------------------------ starting


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
    subscriber_ids = (
        Subscriber.objects.receiving().order_by("pk").values_list("pk", flat=True).iterator()
    )
    chunk: list[Delivery] = []
    for subscriber_id in subscriber_ids:
        chunk.append(Delivery(issue_id=issue_id, subscriber_id=subscriber_id))
        if len(chunk) >= INSERT_CHUNK:
            Delivery.objects.bulk_create(chunk, ignore_conflicts=True)
            chunk = []
    if chunk:
        Delivery.objects.bulk_create(chunk, ignore_conflicts=True)
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
    """Queue one send task per batch (call after commit)."""
    for batch in batches:
        enqueue(SEND_BATCH_TASK, issue_id=issue_id, delivery_ids=batch)


# ------------------------------------------------------------------- sending

_render_cache: dict[tuple, RenderedIssue] = {}
_RENDER_CACHE_SIZE = 64


def rendered_issue(*, issue: Issue, topic_ids: frozenset[int]) -> RenderedIssue:
    """The rendered email for a topic selection, rendered once per process."""
    key = (issue.pk, issue.updated_at, topic_ids)
    rendered = _render_cache.get(key)
    if rendered is None:
        if len(_render_cache) >= _RENDER_CACHE_SIZE:
            _render_cache.clear()
        rendered = render_issue_email(issue=issue, topics=topic_ids)
        _render_cache[key] = rendered
    return rendered


_message_id_domain: str | None = None


def message_id_domain() -> str:
    global _message_id_domain
    if _message_id_domain is None:
        address = parseaddr(settings.DEFAULT_FROM_EMAIL)[1]
        _message_id_domain = address.rpartition("@")[2] or "localhost"
    return _message_id_domain


class _SerialisedMessage:
    """What ``EmailMessage.message()`` returns, as far as Django's backends use it:
    ``as_bytes``/``as_string`` of a finished message."""

    def __init__(self, data: bytes) -> None:
        self._data = data  # CRLF line endings

    def as_bytes(self, unixfrom: bool = False, linesep: str = "\n") -> bytes:
        return self._data if linesep == "\r\n" else self._data.replace(b"\r\n", b"\n")

    def as_string(self, unixfrom: bool = False, linesep: str = "\n") -> str:
        return self.as_bytes(linesep=linesep).decode("utf-8")


@functools.lru_cache(maxsize=32)
def _encoded_header(value: str) -> str:
    """RFC 2047 form of a header value (ASCII values come back unchanged)."""
    if value.isascii():
        return value
    return Header(value, "utf-8", maxlinelen=998).encode()


@functools.lru_cache(maxsize=8)
def _encoded_from(from_email: str) -> str:
    return sanitize_address(from_email, "utf-8")


_PLAIN_ADDRESS = re.compile(r"[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+@[A-Za-z0-9.-]+")


def _encoded_address(address: str) -> str:
    # Addresses from the subscribe form are plain ASCII already; anything else
    # (admin edits, imports) goes through Django's full check.
    if _PLAIN_ADDRESS.fullmatch(address):
        return address
    return sanitize_address(address, "utf-8")


def _mime_body(text: str) -> tuple[str, bytes]:
    """(Content-Transfer-Encoding, CRLF body): 8bit when every line fits SMTP's
    998-octet limit, else base64."""
    if "\r" in text:
        text = text.replace("\r\n", "\n").replace("\r", "\n")
    data = text.encode()
    if max(map(len, data.split(b"\n"))) <= 998:
        return "8bit", data.replace(b"\n", b"\r\n")
    return "base64", base64.encodebytes(data).replace(b"\n", b"\r\n")


class PreparedEmail(EmailMultiAlternatives):
    """A newsletter message that any Django email backend can send.

    Backends that read the attributes (anymail, locmem) see an ordinary
    ``EmailMultiAlternatives``; ``message()`` serialises the two-part MIME message
    directly instead of through the ``email`` package, because that was the largest
    per-recipient cost of a send (the headers that repeat are encoded once per issue).
    """

    def message(self) -> _SerialisedMessage:
        # Built once: the send validates it early, the backend then reuses it.
        if self._serialised is None:
            self._serialised = self._serialise()
        return self._serialised

    _serialised: _SerialisedMessage | None = None

    def _serialise(self) -> _SerialisedMessage:
        headers = {
            "Content-Type": f'multipart/alternative; boundary="{self._boundary}"',
            "MIME-Version": "1.0",
            "Subject": _encoded_header(self.subject),
            "From": _encoded_from(self.from_email),
            "To": ", ".join(_encoded_address(address) for address in self.to),
            "Date": formatdate(localtime=False),
            **{name: _encoded_header(value) for name, value in self.extra_headers.items()},
        }
        lines = []
        for name, value in headers.items():
            if "\r" in value or "\n" in value:
                raise BadHeaderError(f"Header values can't contain newlines ({name})")
            lines.append(f"{name}: {value}")
        head = ("\r\n".join(lines) + "\r\n\r\n").encode("ascii")
        parts = [head]
        for content, subtype in ((self.body, "plain"), *self.alternatives):
            subtype = subtype.split("/", 1)[-1]
            encoding, data = _mime_body(content)
            parts.append(
                (
                    f"--{self._boundary}\r\n"
                    f'Content-Type: text/{subtype}; charset="utf-8"\r\n'
                    f"Content-Transfer-Encoding: {encoding}\r\n\r\n"
                ).encode("ascii")
            )
            parts.append(data)
            parts.append(b"\r\n")
        parts.append(f"--{self._boundary}--\r\n".encode("ascii"))
        return _SerialisedMessage(b"".join(parts))

    @functools.cached_property
    def _boundary(self) -> str:
        return "=_" + secrets.token_hex(16)


class NewsletterSMTPBackend(SMTPBackend):
    """Django's SMTP backend, minus re-parsing the addresses of a ``PreparedEmail``
    for every message (they were checked and encoded when it was built); that parsing
    was the largest per-message cost left in a send. Other messages go the usual way.
    """

    def _send(self, email_message) -> bool:
        if not isinstance(email_message, PreparedEmail):
            return super()._send(email_message)
        recipients = [_encoded_address(address) for address in email_message.recipients()]
        if not recipients:
            return False
        data = email_message.message().as_bytes(linesep="\r\n")
        try:
            self.connection.sendmail(_encoded_from(email_message.from_email), recipients, data)
        except smtplib.SMTPException:
            if not self.fail_silently:
                raise
            return False
        return True


def newsletter_connection():
    """A connection from the configured email backend; Django's own SMTP backend is
    swapped for ``NewsletterSMTPBackend`` (same settings, same behaviour)."""
    if settings.EMAIL_BACKEND == "django.core.mail.backends.smtp.EmailBackend":
        return NewsletterSMTPBackend(fail_silently=False)
    return get_connection(fail_silently=False)


def build_email(
    *, message: PersonalMessage, message_id: str, connection=None
) -> EmailMultiAlternatives:
    """A multipart/alternative email (text, then HTML) with the message's own headers."""
    email = PreparedEmail(
        subject=message.subject,
        body=message.text,
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=[message.to],
        headers={**message.headers, "Message-ID": message_id},
        connection=connection,
    )
    email.attach_alternative(message.html, "text/html")
    return email


class _Pacer:
    """Spaces sends to NEWSLETTER_RATE_LIMIT messages per second within one process."""

    def __init__(self) -> None:
        self._next = 0.0
        self._lock = threading.Lock()

    def wait(self) -> None:
        rate = settings.NEWSLETTER_RATE_LIMIT
        if rate <= 0:
            return
        with self._lock:
            now = time.monotonic()
            delay = self._next - now
            self._next = max(now, self._next) + 1.0 / rate
        if delay > 0:
            time.sleep(delay)


_pacer = _Pacer()


@dataclass(frozen=True)
class _Failure:
    temporary: bool
    # The connection is unusable (or the sender was refused): stop this batch.
    stop_batch: bool
    # The recipient's address was refused for good: counts towards bounced.
    counts_as_bounce: bool


def classify_smtp_error(error: BaseException) -> _Failure:
    """Sort an exception from sending into temporary/permanent and what it implies."""
    if isinstance(error, smtplib.SMTPRecipientsRefused):
        codes = [code for code, _ in error.recipients.values()]
        permanent = bool(codes) and all(code >= 500 for code in codes)
        # After a 421 smtplib has closed the connection.
        return _Failure(
            temporary=not permanent, stop_batch=421 in codes, counts_as_bounce=permanent
        )
    if isinstance(error, smtplib.SMTPSenderRefused):
        # Our own envelope sender was refused: not the recipient's fault.
        return _Failure(temporary=True, stop_batch=True, counts_as_bounce=False)
    if isinstance(error, smtplib.SMTPServerDisconnected):
        return _Failure(temporary=True, stop_batch=True, counts_as_bounce=False)
    if isinstance(error, smtplib.SMTPResponseException):
        code = error.smtp_code
        if isinstance(error, smtplib.SMTPConnectError | smtplib.SMTPHeloError):
            return _Failure(temporary=True, stop_batch=True, counts_as_bounce=False)
        if 500 <= code < 600:
            return _Failure(temporary=False, stop_batch=False, counts_as_bounce=True)
        return _Failure(temporary=True, stop_batch=code == 421, counts_as_bounce=False)
    if isinstance(error, OSError):
        return _Failure(temporary=True, stop_batch=True, counts_as_bounce=False)
    # Anything else (a bug, a bad header): not worth hammering; retry a few times.
    return _Failure(temporary=True, stop_batch=False, counts_as_bounce=False)


def _backoff(attempts: int) -> timedelta:
    base = settings.NEWSLETTER_RETRY_BACKOFF_SECONDS
    return timedelta(seconds=min(base * 2 ** max(attempts - 1, 0), 6 * 3600))


# Once per message: the previous delivery's "sent" and the next one's claim, as one
# conditional UPDATE (one round trip, one commit). Written as SQL because building the
# same ORM UPDATE each time cost more than running it. RETURNING needs PostgreSQL or
# SQLite 3.35+, the two databases the project supports.
_SENT_AND_CLAIM_SQL = """
UPDATE {table} SET
    {status} = CASE WHEN {id} = %s THEN 'sent' ELSE 'sending' END,
    {sent_at} = CASE WHEN {id} = %s THEN %s ELSE {sent_at} END,
    {claimed_at} = CASE WHEN {id} = %s THEN {claimed_at} ELSE %s END,
    {attempts} = CASE WHEN {id} = %s THEN {attempts} ELSE {attempts} + 1 END,
    {message_id} = CASE WHEN {id} = %s THEN %s ELSE %s END,
    {error} = CASE WHEN {id} = %s THEN '' ELSE {error} END,
    {updated_at} = %s
WHERE ({id} = %s AND {status} = 'sending') OR ({id} = %s AND {status} = 'pending')
RETURNING {id}
"""


@functools.lru_cache(maxsize=4)
def _sql(template: str, vendor: str) -> str:
    quote = db_connection.ops.quote_name
    names = ("status", "claimed_at", "attempts", "updated_at", "sent_at", "message_id", "error")
    return template.format(
        table=quote(Delivery._meta.db_table), id=quote("id"), **{n: quote(n) for n in names}
    )


def _mark_sent_and_claim(
    *, sent: tuple[int, str] | None, claim_id: int | None, claim_message_id: str = ""
) -> bool:
    """In one statement (one commit per message): mark ``sent`` = (delivery id,
    Message-ID) sending → sent, and claim ``claim_id`` pending → sending, counting the
    attempt and recording the Message-ID it is about to go out with. Returns False if
    the claim found the delivery no longer pending."""
    stamp = db_connection.ops.adapt_datetimefield_value(timezone.now())
    sent_id, sent_message_id = sent if sent is not None else (-1, "")
    claim = claim_id if claim_id is not None else -1
    params = [
        sent_id,
        sent_id,
        stamp,
        sent_id,
        stamp,
        sent_id,
        sent_id,
        sent_message_id[:300],
        claim_message_id[:300],
        sent_id,
        stamp,
        sent_id,
        claim,
    ]
    with db_connection.cursor() as cursor:
        cursor.execute(_sql(_SENT_AND_CLAIM_SQL, db_connection.vendor), params)
        changed = {row[0] for row in cursor.fetchall()}
    return claim in changed


def _relax_commits() -> bool:
    """With NEWSLETTER_SYNCHRONOUS_COMMIT off, stop this connection's commits waiting
    for PostgreSQL's disk flush (until ``_restore_commits``). True if it did."""
    if settings.NEWSLETTER_SYNCHRONOUS_COMMIT or db_connection.vendor != "postgresql":
        return False
    with db_connection.cursor() as cursor:
        cursor.execute("SET synchronous_commit = off")
    return True


def _restore_commits() -> None:
    with db_connection.cursor() as cursor:
        cursor.execute("RESET synchronous_commit")


def _mark_failed(delivery_id: int, error: str, *, from_status: str) -> bool:
    return bool(
        Delivery.objects.filter(pk=delivery_id, status=from_status).update(
            status=Delivery.Status.FAILED, error=error[:2000], updated_at=timezone.now()
        )
    )


def _defer(delivery: Delivery, error: str) -> timedelta | None:
    """Return a claimed delivery to pending with a later next_attempt_at, or fail it
    after NEWSLETTER_MAX_ATTEMPTS. Returns the wait, or None if it failed."""
    attempts = delivery.attempts + 1  # the claim incremented it in the database
    if attempts >= settings.NEWSLETTER_MAX_ATTEMPTS:
        _mark_failed(
            delivery.pk,
            f"Gave up after {attempts} attempts: {error}",
            from_status=Delivery.Status.SENDING,
        )
        return None
    wait = _backoff(attempts)
    now = timezone.now()
    Delivery.objects.filter(pk=delivery.pk, status=Delivery.Status.SENDING).update(
        status=Delivery.Status.PENDING,
        next_attempt_at=now + wait,
        claimed_at=None,
        error=error[:2000],
        updated_at=now,
    )
    return wait


def _topic_ids_by_subscriber(subscriber_ids: list[int]) -> dict[int, frozenset[int]]:
    through = Subscriber.topics.through
    chosen: dict[int, set[int]] = {}
    rows = through.objects.filter(subscriber_id__in=subscriber_ids).values_list(
        "subscriber_id", "topic_id"
    )
    for subscriber_id, topic_id in rows:
        chosen.setdefault(subscriber_id, set()).add(topic_id)
    return {key: frozenset(value) for key, value in chosen.items()}


def send_batch(*, issue_id: int, delivery_ids: list[int]) -> BatchResult:
    """Send the due, pending deliveries among ``delivery_ids`` over one connection.

    Each delivery is claimed (pending → sending) right before its message goes out
    and marked sent right after, with its Message-ID. A 5xx for the recipient fails
    the delivery and counts a bounce; a 4xx or a broken connection puts it back to
    pending with a later ``next_attempt_at`` (``retry_ids``/``retry_in`` say when to
    come back). Deliveries already claimed or final are skipped, so running a batch
    twice sends nothing twice. Subscribers who stopped receiving since the send
    started are not sent to (their delivery fails with a note).
    """
    result = BatchResult()
    issue = Issue.objects.filter(pk=issue_id, status=Issue.Status.SENDING).first()
    if issue is None:
        return result
    now = timezone.now()
    deliveries = list(
        Delivery.objects.filter(
            pk__in=delivery_ids, issue_id=issue_id, status=Delivery.Status.PENDING
        )
        .filter(Q(next_attempt_at__isnull=True) | Q(next_attempt_at__lte=now + RETRY_TOLERANCE))
        .select_related("subscriber")
        .order_by("pk")
    )
    not_due = set(delivery_ids) - {d.pk for d in deliveries}
    if not_due:
        waiting = Delivery.objects.filter(
            pk__in=not_due, status=Delivery.Status.PENDING, next_attempt_at__gt=now
        ).values_list("pk", "next_attempt_at")
        for pk, next_attempt_at in waiting:
            result.retry_ids.append(pk)
            wait = (next_attempt_at - now).total_seconds()
            result.retry_in = max(result.retry_in, wait)
    if not deliveries:
        return result
    topics = _topic_ids_by_subscriber([d.subscriber_id for d in deliveries])
    connection = newsletter_connection()
    opened = False
    # The delivery whose message went out last, until its "sent" is written (with the
    # next claim, or at the end): moments after its message, so a crash in between
    # leaves at most that one message to go twice.
    unmarked: tuple[int, str] | None = None
    relaxed = _relax_commits()
    try:
        for index, delivery in enumerate(deliveries):
            subscriber = delivery.subscriber
            if not _is_receiving(subscriber):
                if _mark_failed(
                    delivery.pk,
                    f"Not sent: subscriber is {subscriber.get_status_display().lower()}"
                    + (" (paused)" if subscriber.is_paused else ""),
                    from_status=Delivery.Status.PENDING,
                ):
                    result.failed += 1
                continue
            topic_ids = topics.get(subscriber.pk, frozenset())
            rendered = rendered_issue(issue=issue, topic_ids=topic_ids)
            # A delivery swept back after a crash keeps the Message-ID its first claim
            # recorded: if that copy did leave, clients that collapse messages with
            # the same Message-ID (Gmail among them) show the resend as one message.
            message_id = delivery.message_id or make_msgid(domain=message_id_domain())
            try:
                email = build_email(
                    message=personalise(rendered=rendered, subscriber=subscriber),
                    message_id=message_id,
                    connection=connection,
                )
                email.message()  # refuses what no server should get (e.g. a header break)
            except (ValueError, BadHeaderError) as error:
                # This recipient's message cannot be built (a bad address stored by
                # hand, say): fail it rather than the whole batch, again and again.
                if _mark_failed(
                    delivery.pk,
                    f"Message not built: {error}",
                    from_status=Delivery.Status.PENDING,
                ):
                    result.failed += 1
                continue
            # One commit marks the previous message sent and claims this one.
            claimed = _mark_sent_and_claim(
                sent=unmarked, claim_id=delivery.pk, claim_message_id=message_id
            )
            unmarked = None
            if not claimed:
                result.skipped += 1
                continue
            _pacer.wait()
            try:
                if not opened:
                    connection.open()
                    opened = True
                connection.send_messages([email])
            except Exception as error:  # sorted by classify_smtp_error below
                failure = classify_smtp_error(error)
                text = f"{type(error).__name__}: {error}"
                logger.warning("Delivery %s to %s: %s", delivery.pk, subscriber.email, text)
                if failure.temporary:
                    wait = _defer(delivery, text)
                    if wait is None:
                        result.failed += 1
                    else:
                        result.retry_ids.append(delivery.pk)
                        result.retry_in = max(result.retry_in, wait.total_seconds())
                else:
                    _mark_failed(delivery.pk, text, from_status=Delivery.Status.SENDING)
                    result.failed += 1
                    if failure.counts_as_bounce:
                        record_permanent_failure(subscriber=subscriber)
                if failure.stop_batch:
                    _close_quietly(connection)
                    opened = False
                    rest = [d.pk for d in deliveries[index + 1 :]]
                    result.retry_ids.extend(rest)
                    if rest:
                        result.retry_in = max(
                            result.retry_in, settings.NEWSLETTER_RETRY_BACKOFF_SECONDS
                        )
                    break
                continue
            unmarked = (delivery.pk, message_id)
            result.sent += 1
    finally:
        if unmarked is not None:
            _mark_sent_and_claim(sent=unmarked, claim_id=None)
        if relaxed:
            _restore_commits()
        if opened:
            _close_quietly(connection)
    return result


def _close_quietly(connection) -> None:
    try:
        connection.close()
    except Exception:  # noqa: BLE001 - a dead connection may fail to close; nothing to do
        logger.debug("Closing the email connection failed", exc_info=True)


def _is_receiving(subscriber: Subscriber) -> bool:
    return (
        subscriber.status == Subscriber.Status.ACTIVE
        and subscriber.confirmed_at is not None
        and not subscriber.is_paused
    )


# ------------------------------------------------------------------ finishing


def delivery_counts(issue: Issue) -> dict[str, int]:
    """{'pending', 'sending', 'sent', 'failed', 'total'} for the admin; one query."""
    counts = Delivery.objects.filter(issue_id=issue.pk).aggregate(
        **{status.value: Count("pk", filter=Q(status=status.value)) for status in Delivery.Status},
        total=Count("pk"),
    )
    return {key: int(value or 0) for key, value in counts.items()}


def finish_issue_if_done(*, issue: Issue) -> bool:
    """Mark a sending issue sent once every delivery is sent or failed.

    Conditional UPDATE; records an ``IssueStatusChange``. Returns True only for
    the call that made the change.
    """
    if Delivery.objects.filter(issue_id=issue.pk, status__in=OPEN_STATUSES).exists():
        return False
    now = timezone.now()
    with transaction.atomic():
        counts = delivery_counts(issue)
        moved = move_issue(
            issue_id=issue.pk,
            from_statuses=[Issue.Status.SENDING],
            to_status=Issue.Status.SENT,
            note=f"{counts['sent']} sent, {counts['failed']} failed",
            sent_at=now,
        )
        if moved is None:
            return False
    issue.status = Issue.Status.SENT
    issue.sent_at = now
    return True


def requeue_stale_deliveries() -> SweepResult:
    """Recover from lost workers and lost task messages.

    Deliveries left in 'sending' longer than ``NEWSLETTER_STALE_AFTER`` go back to
    pending (their message may have been on the wire: the one possible duplicate).
    When no delivery of an issue has moved for that long either, its due pending
    deliveries lost their task messages and are enqueued again (a second task for
    a delivery is harmless: claims are conditional). Sending issues with nothing
    left open are finished.
    """
    now = timezone.now()
    cutoff = now - settings.NEWSLETTER_STALE_AFTER
    stale = Delivery.objects.filter(
        status=Delivery.Status.SENDING, claimed_at__lt=cutoff, issue__status=Issue.Status.SENDING
    )
    reclaimed_ids = list(stale.values_list("pk", flat=True))
    reclaimed = 0
    if reclaimed_ids:
        reclaimed = Delivery.objects.filter(
            pk__in=reclaimed_ids, status=Delivery.Status.SENDING, claimed_at__lt=cutoff
        ).update(
            status=Delivery.Status.PENDING,
            claimed_at=None,
            error="Claimed by a worker that stopped; sent again.",
            updated_at=now,
        )
    requeued = 0
    finished = 0
    for issue in Issue.objects.filter(status=Issue.Status.SENDING):
        due = (
            Delivery.objects.filter(issue_id=issue.pk, status=Delivery.Status.PENDING)
            .filter(Q(next_attempt_at__isnull=True) | Q(next_attempt_at__lte=now))
            .order_by("pk")
        )
        # While workers are visibly getting through the queue, leave the queued tasks
        # alone and only hand back what a dead worker held; once activity stops, any
        # delivery still pending lost its task and is queued again.
        progressing = (
            Delivery.objects.filter(issue_id=issue.pk, updated_at__gte=cutoff)
            .exclude(pk__in=reclaimed_ids)
            .exists()
        )
        if progressing:
            due = due.filter(pk__in=reclaimed_ids)
        else:
            due = due.filter(Q(updated_at__lt=cutoff) | Q(pk__in=reclaimed_ids))
        ids = list(due.values_list("pk", flat=True))
        if ids:
            size = settings.NEWSLETTER_BATCH_SIZE
            batches = [ids[i : i + size] for i in range(0, len(ids), size)]
            # Touch them so the next sweep leaves them to the tasks just queued.
            Delivery.objects.filter(pk__in=ids, status=Delivery.Status.PENDING).update(
                updated_at=now
            )
            transaction.on_commit(
                lambda issue_id=issue.pk, batches=batches: enqueue_batches(
                    issue_id=issue_id, batches=batches
                )
            )
            requeued += len(ids)
        elif finish_issue_if_done(issue=issue):
            finished += 1
    if reclaimed or requeued:
        logger.info("Sweeper: %s reclaimed, %s re-enqueued", reclaimed, requeued)
    return SweepResult(reclaimed=reclaimed, requeued=requeued, finished=finished)


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


# --------------------------------------------------------------- test copies


def send_test_copy(*, issue: Issue, email: str) -> str:
    """Send one copy of the whole issue to ``email`` now; return its Message-ID.

    The address is validated like a subscription (``InvalidAddress`` otherwise).
    The subject starts with "[Test]"; the unsubscribe and preferences links in a
    test copy belong to nobody, so following them changes nothing.
    """
    address = normalise_address(email)
    rendered = render_issue_email(issue=issue)
    nobody = unsaved_recipient(email=address)
    message = personalise(rendered=rendered, subscriber=nobody)
    message = PersonalMessage(
        to=address,
        subject=f"[Test] {message.subject}",
        html=message.html,
        text=message.text,
        headers=message.headers,
        unsubscribe_url=message.unsubscribe_url,
        preferences_url=message.preferences_url,
    )
    message_id = make_msgid(domain=message_id_domain())
    build_email(message=message, message_id=message_id).send(fail_silently=False)
    return message_id
