"""What a batch's lanes send next: the batch's deliveries, taken one at a time by its
lanes, and each one's message made ready (rendered issue, personal values, Message-ID and,
over SMTP, the spliced bytes) without a query, so a lane's helper thread can make the next
message while the relay answers the current one.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from email.utils import make_msgid

from newsletters.models import Delivery, Issue
from newsletters.rendering import PersonalValues, RenderedIssue, personal_values
from newsletters.sending.mime import (
    cached_rendered_issue,
    message_id_domain,
    rendered_issue,
    unsendable_reason,
)
from newsletters.sending.spliced import spliced_message


class LaneWork:
    """A batch's deliveries, in order, taken one at a time by its lanes."""

    def __init__(self, deliveries: list[Delivery]) -> None:
        self._deliveries = deliveries
        self._next = 0
        self._lock = threading.Lock()

    def take(self) -> Delivery | None:
        """The next delivery no lane has taken, or None."""
        with self._lock:
            if self._next >= len(self._deliveries):
                return None
            self._next += 1
            return self._deliveries[self._next - 1]

    def untaken_ids(self) -> list[int]:
        with self._lock:
            return [d.pk for d in self._deliveries[self._next :]]

    def take_all(self) -> list[Delivery]:
        """Every delivery no lane has taken yet (a lane found the relay down: the rest
        wait for the relay's retry time, and the other lanes stop after their message)."""
        with self._lock:
            rest = self._deliveries[self._next :]
            self._next = len(self._deliveries)
            return rest


@dataclass(frozen=True)
class Message:
    """A delivery taken from its batch, with what its message is made of: a refusal, or
    its rendered issue, values and Message-ID, and over SMTP the spliced bytes (None
    where they cannot be spliced)."""

    delivery: Delivery
    refusal: str | None = None
    rendered: RenderedIssue | None = None
    values: PersonalValues | None = None
    message_id: str = ""
    raw: bytes | None = None


def next_message(work: LaneWork, *, issue: Issue, topics, splice: bool) -> Message | None:
    """The next delivery of ``work`` and its message, or None when none is left. No
    query: where its issue is not rendered in this process yet, ``rendered`` is None and
    the caller renders it (``made``), on its own database connection."""
    delivery = work.take()
    if delivery is None:
        return None
    refusal = unsendable_reason(delivery.subscriber)
    if refusal is not None:
        return Message(delivery=delivery, refusal=refusal)
    topic_ids = topics.get(delivery.subscriber.pk, frozenset())
    rendered = cached_rendered_issue(issue=issue, topic_ids=topic_ids)
    if rendered is None:
        return Message(delivery=delivery)
    return made(Message(delivery=delivery), issue=issue, topics=topics, splice=splice)


def made(item: Message, *, issue: Issue, topics, splice: bool) -> Message:
    delivery = item.delivery
    subscriber = delivery.subscriber
    rendered = rendered_issue(issue=issue, topic_ids=topics.get(subscriber.pk, frozenset()))
    # A delivery swept back after a crash keeps the Message-ID its first claim recorded:
    # if that copy did leave, clients that collapse messages with the same Message-ID
    # (Gmail among them) show the resend as one message.
    message_id = delivery.message_id or make_msgid(domain=message_id_domain())
    values = personal_values(rendered=rendered, subscriber=subscriber, delivery_id=delivery.pk)
    raw = None
    if splice:
        raw = spliced_message(
            rendered=rendered, values=values, to=subscriber.email, message_id=message_id
        )
    return Message(
        delivery=delivery, rendered=rendered, values=values, message_id=message_id, raw=raw
    )
