"""Sending one batch of an issue's deliveries over one connection.

State lives in the database. An issue moves draft/scheduled → sending → sent;
each ``Delivery`` moves pending → sending → sent/failed, every step a
conditional UPDATE, so a task delivered twice (acks_late after a crash) does
nothing the second time. A delivery is claimed right before its message goes
out and marked sent right after, so after a crash at most the message on the
wire can go twice: ``requeue_stale_deliveries`` returns deliveries stuck in
'sending' to 'pending' once ``NEWSLETTER_STALE_AFTER`` has passed.
"""

from __future__ import annotations

import functools
import logging
import threading
import time
from dataclasses import dataclass, field
from datetime import timedelta
from email.utils import make_msgid

from django.conf import settings
from django.core.mail import BadHeaderError
from django.db import connection as db_connection
from django.db.models import Q
from django.utils import timezone

from newsletters.models import Delivery, Issue, Subscriber
from newsletters.rendering import personalise
from newsletters.sending.deliveries import defer_delivery, mark_failed
from newsletters.sending.mime import (
    build_email,
    message_id_domain,
    newsletter_connection,
    rendered_issue,
)
from newsletters.sending.smtp_errors import classify_smtp_error
from newsletters.subscribers.services import record_permanent_failure

logger = logging.getLogger(__name__)


# A retried task may run a little before a delivery's next_attempt_at (clock skew).
RETRY_TOLERANCE = timedelta(seconds=2)


@dataclass
class BatchResult:
    sent: int = 0
    failed: int = 0
    skipped: int = 0
    # Deliveries to try again later (temporary errors, or untouched after the
    # connection broke), and how long to wait.
    retry_ids: list[int] = field(default_factory=list)
    retry_in: float = 0.0


# ------------------------------------------------------------------ starting


# ------------------------------------------------------------------- sending


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
                if mark_failed(
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
                if mark_failed(
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
                    wait = defer_delivery(delivery, text)
                    if wait is None:
                        result.failed += 1
                    else:
                        result.retry_ids.append(delivery.pk)
                        result.retry_in = max(result.retry_in, wait.total_seconds())
                else:
                    mark_failed(delivery.pk, text, from_status=Delivery.Status.SENDING)
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


# --------------------------------------------------------------- test copies
