"""Sending one batch of an issue's deliveries over one connection.

State lives in the database. An issue moves draft/scheduled → sending → sent;
each ``Delivery`` moves pending → sending → sent/failed, every step a
conditional UPDATE, so a task delivered twice (acks_late after a crash) does
nothing the second time. A delivery is claimed right before its message goes
out and marked sent right after, so after a crash at most the message on the
wire can go twice. A running batch holds a lease on its deliveries (renewed while it
sends); once a dead worker's lease runs out, ``requeue_stale_deliveries`` takes them over.
"""

from __future__ import annotations

import functools
import logging
import threading
import time
from concurrent.futures import Future, ThreadPoolExecutor
from concurrent.futures import wait as futures_wait
from dataclasses import dataclass, field
from datetime import timedelta

from django.conf import settings
from django.core.mail import BadHeaderError
from django.db import connection as db_connection
from django.db.models import Q
from django.utils import timezone

from newsletters.models import Delivery, Issue, Subscriber
from newsletters.rendering import filled_message
from newsletters.sending.claims import (
    mark_sent_and_claim,
    relax_commits,
    restore_commits,
    store_sent,
)
from newsletters.sending.deliveries import (
    defer_delivery,
    mark_failed,
    postpone_pending,
    release_claim,
)
from newsletters.sending.esp_batch import batch_merge_fields, send_esp_batch
from newsletters.sending.lane_work import LaneWork, made, next_message
from newsletters.sending.lanes import run_in_lanes
from newsletters.sending.leases import renew_every, take_lease, worker_name
from newsletters.sending.mime import (
    NewsletterSMTPBackend,
    build_email,
    newsletter_connection,
)
from newsletters.sending.relay import pause_send, relay_wait, resume_send
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
    # The relay failed: the send is paused, nobody was charged an attempt.
    paused: bool = False

    def defer(self, delivery: Delivery, error: str) -> None:
        """A recipient-level temporary failure: retry later, or failed once its attempts
        are spent (``defer_delivery``)."""
        wait = defer_delivery(delivery, error)
        if wait is None:
            self.failed += 1
        else:
            self.retry_ids.append(delivery.pk)
            self.retry_in = max(self.retry_in, wait.total_seconds())

    def merge(self, other: BatchResult) -> None:
        """Add what another lane of the same batch did."""
        self.sent += other.sent
        self.failed += other.failed
        self.skipped += other.skipped
        self.retry_ids.extend(other.retry_ids)
        self.retry_in = max(self.retry_in, other.retry_in)
        self.paused = self.paused or other.paused


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

    The connection is opened before any delivery is claimed. Each delivery is claimed
    (pending → sending) right before its message goes out and marked sent right after,
    with its Message-ID. A recipient-level 5xx fails the delivery (an RCPT 5xx counts a
    bounce); a recipient-level 4xx puts it back to pending with a later
    ``next_attempt_at``, counting an attempt. A relay-level failure (see
    ``smtp_errors``) pauses the whole send instead: the claimed delivery goes back to
    pending uncharged, the rest of the batch waits for the relay's retry time, and
    ``paused`` is set. ``retry_ids``/``retry_in`` say what to come back for and when.
    Deliveries already claimed or final are skipped, so running a batch twice sends
    nothing twice. Subscribers who stopped receiving since the send started are not
    sent to (their delivery fails with a note).
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
    paused_for = relay_wait(issue, now=now)
    if paused_for > RETRY_TOLERANCE.total_seconds():
        # Another batch found the relay down: wait for its retry time, trying nothing.
        result.retry_ids.extend(d.pk for d in deliveries)
        result.retry_in = max(result.retry_in, paused_for)
        result.paused = True
        return result
    topics = _topic_ids_by_subscriber([d.subscriber_id for d in deliveries])
    # The batch's lease, in this process's name (each lane renews its own share).
    take_lease([d.pk for d in deliveries], owner=worker_name())
    fields = batch_merge_fields()
    if fields is not None:
        # An ESP that merges per-recipient data: one API call for the batch.
        send_esp_batch(
            result, issue=issue, deliveries=deliveries, topics=topics, fields=fields, pause=_pause
        )
        return result
    lanes = _lane_count(len(deliveries))
    work = LaneWork(deliveries)
    if lanes == 1:
        _send_lane(result, issue=issue, work=work, topics=topics)
        return result
    # Several SMTP connections at once, one thread each: a relay with real latency per
    # message is then kept busy. The lanes take the batch's deliveries one at a time from
    # one queue, so none waits idle for another's share at the end; every lane claims and
    # marks its own.
    parts = run_in_lanes(
        [
            functools.partial(_lane_result, issue=issue, work=work, topics=topics)
            for _ in range(lanes)
        ]
    )
    for part in parts:
        result.merge(part)
    return result


def _lane_count(deliveries: int) -> int:
    """How many connections this batch uses at once: ``NEWSLETTER_SMTP_CONNECTIONS``, but
    one on SQLite (one writer at a time) or inside a transaction (threads would not see
    its rows)."""
    lanes = max(1, min(settings.NEWSLETTER_SMTP_CONNECTIONS, deliveries))
    if lanes > 1 and (db_connection.vendor != "postgresql" or db_connection.in_atomic_block):
        return 1
    return lanes


def _lane_result(*, issue: Issue, work: LaneWork, topics) -> BatchResult:
    result = BatchResult()
    _send_lane(result, issue=issue, work=work, topics=topics)
    return result


def _send_lane(
    result: BatchResult,
    *,
    issue: Issue,
    work: LaneWork,
    topics: dict[int, frozenset[int]],
) -> None:
    """Send deliveries taken from ``work`` in order over one connection (see
    ``send_batch``)."""
    issue_id = issue.pk
    owner = worker_name()
    renew_at = time.monotonic() + renew_every()  # send_batch took the lease
    connection = newsletter_connection()
    try:
        connection.open()
    except Exception as error:  # noqa: BLE001 - whatever stops the connection is the relay's
        _pause(result, issue_id=issue_id, ids=[d.pk for d in work.take_all()], error=error)
        return
    # The delivery whose message went out last, until its "sent" is written (with the
    # next claim, or at the end): moments after its message, so a crash in between
    # leaves at most that one message to go twice.
    unmarked: tuple[int, str] | None = None
    # Over SMTP, messages are spliced from one serialised copy per rendered issue.
    splice = isinstance(connection, NewsletterSMTPBackend)
    envelopes = ThreadPoolExecutor(max_workers=1, thread_name_prefix="smtp-envelope")
    relaxed = relax_commits()
    # The next delivery's message, made by the envelope thread while the relay answers
    # this one (its CPU then costs no time on the connection).
    upcoming: Future | None = None
    try:
        while True:
            if upcoming is not None:
                item, upcoming = upcoming.result(), None
            else:
                item = next_message(work, issue=issue, topics=topics, splice=splice)
            if item is None:
                break
            delivery, subscriber = item.delivery, item.delivery.subscriber
            if item.refusal is not None:
                if mark_failed(delivery.pk, item.refusal, from_status=Delivery.Status.PENDING):
                    result.failed += 1
                continue
            if time.monotonic() >= renew_at:
                take_lease([delivery.pk, *work.untaken_ids()], owner=owner)
                renew_at = time.monotonic() + renew_every()
            if item.rendered is None:  # not rendered yet in this process: render it here
                item = made(item, issue=issue, topics=topics, splice=splice)
            message_id, raw, email = item.message_id, item.raw, None
            try:
                if raw is None:
                    email = build_email(
                        message=filled_message(
                            rendered=item.rendered, subscriber=subscriber, values=item.values
                        ),
                        message_id=message_id,
                        connection=connection,
                    )
                    email.message()  # refuses what no server should get (a header break)
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
            _pacer.wait()
            envelope = None
            if raw is not None:
                # MAIL FROM, RCPT TO and the message's bytes go out while the claim
                # commits; the line that ends the message (where the relay accepts it)
                # only once it is claimed.
                envelope = envelopes.submit(
                    connection.begin_raw, recipient=subscriber.email, data=raw
                )
            try:
                # One commit marks the previous message sent and claims this one.
                claimed = mark_sent_and_claim(
                    sent=unmarked, claim_id=delivery.pk, claim_message_id=message_id
                )
            except BaseException:
                if envelope is not None:
                    futures_wait([envelope])  # the connection is closed below
                raise
            unmarked = None
            if not claimed:
                result.skipped += 1
                if envelope is not None:
                    _abandon(connection, envelope)
                continue
            try:
                if envelope is not None:
                    envelope.result()
                    upcoming = envelopes.submit(
                        next_message, work, issue=issue, topics=topics, splice=splice
                    )
                    connection.finish_raw()
                else:
                    connection.send_messages([email])
            except Exception as error:  # sorted by classify_smtp_error below
                failure = classify_smtp_error(error)
                text = f"{type(error).__name__}: {error}"
                logger.warning("Delivery %s to %s: %s", delivery.pk, subscriber.email, text)
                if failure.relay:
                    release_claim(delivery.pk, f"Not charged, mail server failed: {text}")
                    taken = [delivery.pk]
                    if upcoming is not None and (following := upcoming.result()) is not None:
                        taken.append(following.delivery.pk)
                    upcoming = None
                    _pause(
                        result,
                        issue_id=issue_id,
                        ids=[*taken, *(d.pk for d in work.take_all())],
                        error=error,
                    )
                    break
                if failure.temporary:
                    result.defer(delivery, text)
                else:
                    mark_failed(delivery.pk, text, from_status=Delivery.Status.SENDING)
                    result.failed += 1
                    if failure.counts_as_bounce:
                        record_permanent_failure(subscriber=subscriber)
                continue
            unmarked = (delivery.pk, message_id)
            result.sent += 1
            if result.sent == 1 and issue.relay_paused_since is not None:
                resume_send(issue_id=issue_id)
    finally:
        if unmarked is not None:
            store_sent(unmarked)
        if relaxed:
            restore_commits()
        envelopes.shutdown(wait=True)
        _close_quietly(connection)


def _pause(result: BatchResult, *, issue_id: int, ids: list[int], error: BaseException) -> None:
    """Pause the send for a relay failure: ``ids`` wait for the relay's retry time."""
    text = f"{type(error).__name__}: {error}"
    retry_at = pause_send(issue_id=issue_id, error=text)
    postpone_pending(ids, until=retry_at)
    logger.warning(
        "Issue %s: mail server failed (%s); send paused until %s", issue_id, text, retry_at
    )
    result.retry_ids.extend(ids)
    result.retry_in = max(result.retry_in, (retry_at - timezone.now()).total_seconds(), 1.0)
    result.paused = True


def _abandon(connection, envelope: Future) -> None:
    """A message whose claim was refused: end the transaction its envelope began."""
    try:
        envelope.result()
        connection.abort_raw()
    except Exception:  # noqa: BLE001 - a broken connection fails the next message instead
        logger.debug("Abandoning an SMTP transaction failed", exc_info=True)


def _close_quietly(connection) -> None:
    try:
        connection.close()
    except Exception:  # noqa: BLE001 - a dead connection may fail to close; nothing to do
        logger.debug("Closing the email connection failed", exc_info=True)


# ------------------------------------------------------------------ finishing


# --------------------------------------------------------------- test copies
