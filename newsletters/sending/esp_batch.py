"""Sending a batch through an ESP's batch API (django-anymail): one API call per batch
(per topic selection within it) instead of one per message.

The rendered issue's per-recipient placeholders become the ESP's merge fields, and
each recipient's values go in anymail's ``merge_data``, their List-Unsubscribe header in
``merge_headers`` and the delivery id in ``merge_metadata``; the ESP builds each
recipient's own message (nobody sees another's address). Only providers whose API
merges into inline content are used this way (``MERGE_FIELDS``): SendGrid
(substitutions) and Mailgun (recipient variables); the others (Postmark and Amazon SES
merge only into stored templates) get one call per message as with SMTP.

State is kept exactly as for SMTP: the batch's deliveries are claimed (attempt counted)
in one statement right before the call and marked sent in one statement right after it,
from anymail's per-recipient status: ``sent``/``queued`` are sent (with the ESP's
message id), ``rejected``/``invalid`` fail that delivery alone and count a bounce,
``failed`` is a recipient-level temporary failure (retried with backoff). An API
failure (the provider down, throttling, a bad key) is relay-level: the send pauses and
the claims are released uncharged. A worker killed during the call can send that one
call's recipients twice: the duplicate bound is one batch per pool child here.

A provider that refuses the whole call for one bad address (Mailgun answers 400 when any
``to`` is invalid) would hold everyone back, so a call refused as a bad request (400,
422) or an address anymail cannot use is split in halves and each half sent again,
until the refused addresses are calls of their own; those deliveries alone fail. A lone
address is only blamed once the message is known to be acceptable (another call of the
issue was accepted): until then a bounded number of refused calls is tried, and if
every one is refused the fault is the message or the account's, and the send pauses.
"""

from __future__ import annotations

import logging
import secrets
from collections.abc import Callable
from dataclasses import dataclass

from anymail.backends.base import AnymailBaseBackend
from anymail.exceptions import (
    AnymailInvalidAddress,
    AnymailRecipientsRefused,
    AnymailRequestsAPIError,
)
from anymail.message import AnymailMessage
from django.conf import settings
from django.utils.module_loading import import_string

from newsletters.models import Delivery, Issue
from newsletters.rendering import RenderedIssue, personal_values
from newsletters.sending.claims import claim_many, store_sent_many
from newsletters.sending.deliveries import mark_failed, release_claims
from newsletters.sending.mime import newsletter_connection, rendered_issue, unsendable_reason
from newsletters.sending.smtp_errors import classify_smtp_error
from newsletters.subscribers.services import record_permanent_failure

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class MergeFields:
    # How a merge field named ``{}`` is written in the content.
    written_as: str
    # What the backend must be told about it (anymail's ``esp_extra``).
    esp_extra: dict


# Keyed by anymail's ``esp_name``.
MERGE_FIELDS = {
    "SendGrid": MergeFields(written_as="-{}-", esp_extra={"merge_field_format": "-{}-"}),
    "Mailgun": MergeFields(written_as="%recipient.{}%", esp_extra={}),
}
ACCEPTED = ("sent", "queued", "scheduled", "unknown")
REFUSED = ("rejected", "invalid")


def batch_merge_fields() -> MergeFields | None:
    """How the configured email backend merges per-recipient data, or None if it is not
    an ESP whose batch API the send uses."""
    try:
        backend = import_string(settings.EMAIL_BACKEND)
    except ImportError:
        return None
    if not (isinstance(backend, type) and issubclass(backend, AnymailBaseBackend)):
        return None
    return MERGE_FIELDS.get(getattr(backend, "esp_name", ""))


def send_esp_batch(
    result,
    *,
    issue: Issue,
    deliveries: list[Delivery],
    topics: dict[int, frozenset[int]],
    fields: MergeFields,
    pause: Callable[..., None],
) -> None:
    """Send ``deliveries`` (due, pending, leased) with one ESP call per topic selection,
    updating ``result`` (a ``BatchResult``) as ``send_batch`` does; ``pause(result,
    issue_id=, ids=, error=)`` pauses the send for an API failure."""
    groups: dict[frozenset[int], list[Delivery]] = {}
    for delivery in deliveries:
        refusal = unsendable_reason(delivery.subscriber)
        if refusal is not None:
            if mark_failed(delivery.pk, refusal, from_status=Delivery.Status.PENDING):
                result.failed += 1
            continue
        topic_ids = topics.get(delivery.subscriber_id, frozenset())
        groups.setdefault(topic_ids, []).append(delivery)
    connection = newsletter_connection()
    pending = list(groups.items())
    state = None
    for index, (topic_ids, group) in enumerate(pending):
        claimed = claim_many([d.pk for d in group])
        result.skipped += len(group) - len(claimed)
        group = [d for d in group if d.pk in claimed]
        if not group:
            continue
        rendered = rendered_issue(issue=issue, topic_ids=topic_ids)
        if state is None:
            sent_before = Delivery.objects.filter(issue_id=issue.pk, status=Delivery.Status.SENT)
            state = _Isolation(proven=sent_before.exists(), budget=_unproven_budget(len(group)))
        stopped = _send_isolating(
            result,
            rendered=rendered,
            group=group,
            fields=fields,
            connection=connection,
            state=state,
        )
        if stopped is not None:
            error, unsent = stopped
            text = f"{type(error).__name__}: {error}"
            logger.warning("Issue %s: ESP batch of %s failed: %s", issue.pk, len(group), text)
            release_claims([d.pk for d in unsent], f"Not charged, the ESP failed: {text}")
            rest = [d.pk for d in unsent] + [
                d.pk for _, later in pending[index + 1 :] for d in later
            ]
            pause(result, issue_id=issue.pk, ids=rest, error=error)
            return


@dataclass
class _Isolation:
    # A call of this issue was accepted, so a refused lone address is the address's fault.
    proven: bool
    # Refused calls still allowed before anything is accepted.
    budget: int


def _unproven_budget(size: int) -> int:
    """Refused calls tried before concluding that the message itself is refused: enough
    to split a batch down to single addresses twice over."""
    return 2 * max(1, size - 1).bit_length() + 2


def _bad_request(error: BaseException) -> bool:
    """The provider refused the call's content or addresses (not its own failure)."""
    return isinstance(error, AnymailInvalidAddress) or (
        isinstance(error, AnymailRequestsAPIError) and error.status_code in (400, 422)
    )


def _send_isolating(
    result, *, rendered: RenderedIssue, group: list[Delivery], fields, connection, state
) -> tuple[BaseException, list[Delivery]] | None:
    """Send ``group`` (claimed) in one call, splitting a call refused as a bad request in
    halves (depth first) until the refused addresses stand alone; those fail. Returns
    the error and the deliveries not sent when the send must pause instead."""
    stack = [group]
    suspects: list[tuple[Delivery, BaseException]] = []
    while stack:
        part = stack.pop()
        message = batch_email(rendered=rendered, deliveries=part, fields=fields)
        message.connection = connection
        try:
            connection.send_messages([message])
        except AnymailRecipientsRefused:
            pass  # every recipient refused: their statuses say so, as below
        except Exception as error:  # sorted by classify_smtp_error
            if _bad_request(error) and (state.proven or state.budget > 0):
                if not state.proven:
                    state.budget -= 1
                if len(part) > 1:
                    middle = len(part) // 2
                    stack += [part[middle:], part[:middle]]
                else:
                    suspects.append((part[0], error))
                continue
            failure = classify_smtp_error(error)
            if failure.relay or _bad_request(error):
                unsent = [d for p in (part, *stack) for d in p] + [d for d, _ in suspects]
                return error, unsent
            for delivery in part:
                result.defer(delivery, f"{type(error).__name__}: {error}")
            continue
        state.proven = True
        _record(result, deliveries=part, message=message)
    if suspects and not state.proven:
        return suspects[0][1], [d for d, _ in suspects]
    for delivery, error in suspects:
        text = f"{type(error).__name__}: {error}"
        _refuse(result, delivery, f"Refused by {_esp(connection)} for this address alone: {text}")
    return None


def _esp(connection) -> str:
    return getattr(connection, "esp_name", "ESP")


def _refuse(result, delivery: Delivery, error: str) -> None:
    """The provider refused this recipient for good: the delivery fails and counts as a
    bounce."""
    mark_failed(delivery.pk, error, from_status=Delivery.Status.SENDING)
    result.failed += 1
    record_permanent_failure(subscriber=delivery.subscriber)


def _record(result, *, deliveries: list[Delivery], message: AnymailMessage) -> None:
    """Each delivery's state from anymail's per-recipient status of the call."""
    statuses = message.anymail_status.recipients
    esp = _esp(message.connection)
    sent: list[tuple[int, str]] = []
    for delivery in deliveries:
        status = statuses.get(delivery.subscriber.email) or statuses.get(
            delivery.subscriber.email.lower()
        )
        state = status.status if status is not None else "unknown"
        if state in ACCEPTED:
            sent.append((delivery.pk, str(status.message_id or "") if status else ""))
        elif state in REFUSED:
            _refuse(
                result,
                delivery,
                f"Refused by {esp}: {state} (per-recipient status of the batch call)",
            )
        else:
            result.defer(delivery, f"{esp} reported {state} for this recipient")
    store_sent_many(sent)
    result.sent += len(sent)


def batch_email(
    *, rendered: RenderedIssue, deliveries: list[Delivery], fields: MergeFields
) -> AnymailMessage:
    """One message for all of ``deliveries``: the rendered issue with a merge field at
    each placeholder, and each recipient's values, header and delivery id merged in."""
    # A fresh suffix per call: no text of the issue can spell a merge field.
    suffix = secrets.token_hex(4)

    def key(kind: str, name: str) -> str:
        return f"{kind}_{name.replace('-', '_')}_{suffix}"

    def with_fields(parts: tuple[str, ...], kind: str) -> str:
        filled = list(parts)
        for index in range(1, len(filled), 2):
            filled[index] = fields.written_as.format(key(kind, filled[index]))
        return "".join(filled)

    text_names = set(rendered.text_parts[1::2])
    html_names = set(rendered.html_parts[1::2])
    merge_data: dict[str, dict[str, str]] = {}
    merge_headers: dict[str, dict[str, str]] = {}
    merge_metadata: dict[str, dict[str, str]] = {}
    headers: dict[str, str] = {}
    for delivery in deliveries:
        values = personal_values(
            rendered=rendered, subscriber=delivery.subscriber, delivery_id=delivery.pk
        )
        address = delivery.subscriber.email
        data = {key("t", name): values.text[name] for name in text_names}
        data.update({key("h", name): values.html[name] for name in html_names})
        merge_data[address] = data
        headers = dict(values.headers)
        merge_headers[address] = {"List-Unsubscribe": headers.pop("List-Unsubscribe")}
        merge_metadata[address] = {"delivery_id": str(delivery.pk)}
    message = AnymailMessage(
        subject=rendered.subject,
        body=with_fields(rendered.text_parts, "t"),
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=[d.subscriber.email for d in deliveries],
        headers=headers,
        merge_data=merge_data,
        merge_headers=merge_headers,
        merge_metadata=merge_metadata,
        esp_extra=dict(fields.esp_extra),
    )
    message.attach_alternative(with_fields(rendered.html_parts, "h"), "text/html")
    return message
