"""Subscribing and everything a subscriber can change: double opt-in, topics,
pause, unsubscribe, resubscribe; bounces and complaints.

Addresses are checked strictly before anything is stored (``normalise_address``).
Decision on internationalised addresses: a non-ASCII *domain* is accepted and
stored in its ASCII (punycode) form, which every mail server can route; a
non-ASCII *local part* (before the @) needs SMTPUTF8 end to end, which we cannot
promise, so it is refused with a message saying so.
"""

from __future__ import annotations

import ipaddress
import logging
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.mail import EmailMultiAlternatives, get_connection
from django.core.validators import EmailValidator
from django.db import connection, transaction
from django.db.models import F
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone

from articles.models import Topic
from digest.core import ratelimit
from digest.core.links import absolute_url
from digest.core.queue import enqueue, enqueue_on_commit
from newsletters.models import Subscriber
from newsletters.subscribers.tokens import (
    InvalidToken,
    Purpose,
    TokenClaims,
    make_token,
    read_token,
)
from newsletters.welcome import send_welcome_email

logger = logging.getLogger(__name__)

SUBSCRIBER_EMAIL_TASK = "newsletters.tasks.subscriber_email_send_task"

MAX_ADDRESS_LENGTH = 254
TOO_LONG = "This address is too long: an email address has at most 254 characters."
CONSENT_TEXT = "Send me the weekly digest by email. I can unsubscribe at any time."
_validate_email = EmailValidator(allowlist=[])


class InvalidAddress(ValueError):
    """The address cannot be used; ``str(error)`` is a message for the person."""


def _is_ip_address(text: str) -> bool:
    try:
        ipaddress.ip_address(text)
    except ValueError:
        return False
    return True


def normalise_address(value: str) -> str:
    """Return ``value`` as a clean address to store and send to, or raise ``InvalidAddress``.

    Refuses line breaks and control characters anywhere (header injection), more
    than 254 characters, quoted or non-ASCII local parts, IP-literal domains
    (``a@[127.0.0.1]``), and anything Django's validator rejects. The domain is
    lower-cased and IDNA-encoded.
    """
    if not isinstance(value, str):
        raise InvalidAddress("Enter an email address.")
    if any(ord(ch) < 32 or ord(ch) == 127 for ch in value):
        raise InvalidAddress("An email address cannot contain line breaks or control characters.")
    value = value.strip()
    if not value:
        raise InvalidAddress("Enter an email address.")
    if len(value) > MAX_ADDRESS_LENGTH:
        raise InvalidAddress(TOO_LONG)
    local, at, domain = value.rpartition("@")
    if not at or not local or not domain or any(ch.isspace() for ch in value):
        raise InvalidAddress("Enter a valid email address, like name@example.org.")
    if not local.isascii():
        raise InvalidAddress(
            "Addresses with accented or non-Latin letters before the @ are not supported; "
            "please use another address."
        )
    if '"' in local or len(local) > 64:
        raise InvalidAddress("Enter a valid email address, like name@example.org.")
    if domain.startswith("[") or _is_ip_address(domain):
        raise InvalidAddress(
            "The part after the @ must be a domain name, like example.org, not an IP address."
        )
    try:
        ascii_domain = domain.encode("idna").decode("ascii").lower()
    except UnicodeError:
        raise InvalidAddress("The part after the @ is not a valid domain name.") from None
    address = f"{local}@{ascii_domain}"
    if len(address) > MAX_ADDRESS_LENGTH:
        raise InvalidAddress(TOO_LONG)
    try:
        _validate_email(address)
    except ValidationError:
        raise InvalidAddress("Enter a valid email address, like name@example.org.") from None
    return address


class SubscribeOutcome(StrEnum):
    CONFIRMATION_SENT = "confirmation_sent"
    NOTICE_SENT = "notice_sent"  # already active: told how to reach preferences
    RATE_LIMITED = "rate_limited"  # an email went to this address very recently
    SUPPRESSED = "suppressed"  # complained: we never write to it again


# Addresses that no public form may ever mail again: a hard bounce or a spam complaint.
SUPPRESSED_STATUSES = (Subscriber.Status.BOUNCED, Subscriber.Status.COMPLAINED)


def subscribe(
    *,
    email: str,
    topics: Iterable[Topic] = (),
    ip: str | None = None,
    source: str = "form",
) -> SubscribeOutcome:
    """Record a subscription request and queue at most one email about it.

    A new address becomes a pending subscriber with a consent record; a
    confirmation link is sent. A known address changes state only through its
    own mailbox: pending or unsubscribed addresses get a new confirmation link,
    active ones a note with their preferences link, bounced and complained ones
    nothing, ever. At most ``SUBSCRIBE_RATE_PER_ADDRESS`` emails per address per
    hour. The caller shows the same answer in every case.

    Every address costs the same work, so the answer's timing tells nothing: one
    insert-if-absent, one read, one rate-limit hit, one conditional consent update
    and one queued task, whose ``kind`` says what (if anything) it sends; the
    chosen topics travel with the task, which sets them on a pending subscriber.
    """
    address = normalise_address(email)
    topic_ids = sorted({topic.pk for topic in topics})
    now = timezone.now()
    consent = {"consent_text": CONSENT_TEXT, "consent_ip": ip, "consent_source": source}
    Subscriber.objects.bulk_create([Subscriber(email=address, **consent)], ignore_conflicts=True)
    subscriber = Subscriber.objects.get(email__iexact=address)
    allowed = ratelimit.hit(
        key=f"subscribe-address:{address.lower()}",
        limit=settings.SUBSCRIBE_RATE_PER_ADDRESS,
        window_seconds=3600,
    )
    # Only a pending or unsubscribed address re-records consent; the query runs for all.
    Subscriber.objects.filter(
        pk=subscriber.pk,
        status__in=[Subscriber.Status.PENDING, Subscriber.Status.UNSUBSCRIBED],
    ).update(updated_at=now, **consent)
    if subscriber.status in SUPPRESSED_STATUSES:
        outcome, kind = SubscribeOutcome.SUPPRESSED, "none"
    elif not allowed:
        outcome, kind = SubscribeOutcome.RATE_LIMITED, "none"
    elif subscriber.status == Subscriber.Status.ACTIVE:
        outcome, kind = SubscribeOutcome.NOTICE_SENT, "already_subscribed"
    else:
        outcome, kind = SubscribeOutcome.CONFIRMATION_SENT, "confirm"
    _queue_email(subscriber=subscriber, kind=kind, topic_ids=topic_ids)
    return outcome


def _queue_email(*, subscriber: Subscriber, kind: str, topic_ids: list[int]) -> None:
    # The row is committed (autocommit): a worker sends it, so a slow or failing mail
    # server never fails the form, and the form's answer does not wait for it.
    enqueue(SUBSCRIBER_EMAIL_TASK, subscriber_id=subscriber.pk, kind=kind, topic_ids=topic_ids)


# Where the message goes when nothing may be sent: rendered and "sent" all the same.
NULL_EMAIL_BACKEND = "django.core.mail.backends.dummy.EmailBackend"


def send_subscriber_email(
    *, subscriber: Subscriber, kind: str, topic_ids: list[int] | None = None
) -> None:
    """Send the confirmation link (``kind="confirm"``) or the already-subscribed note
    (``"already_subscribed"``); ``"none"`` sends nothing. Nothing is ever sent to a
    bounced or complained address. ``topic_ids`` (the form's choice) are set on a
    subscriber that is still pending.

    A subscribe's email does the same work whatever the address: the topic statements
    run (matching rows only when pending), a message is rendered and handed to a mail
    backend, the null one when nothing may go out. With eager tasks this runs inside
    the form's request, so its timing must not tell a known address from a new one."""
    if kind == "welcome":
        if subscriber.status not in SUPPRESSED_STATUSES:
            send_welcome_email(subscriber=subscriber)
        return
    if kind not in ("confirm", "already_subscribed", "none"):
        raise ValueError(f"unknown subscriber email {kind!r}")
    if topic_ids is not None:
        _set_topics_if_pending(subscriber=subscriber, topic_ids=topic_ids)
    silent = kind == "none" or subscriber.status in SUPPRESSED_STATUSES
    if kind == "already_subscribed" and not silent:
        send_already_subscribed_email(subscriber=subscriber)
    else:
        send_confirmation_email(
            subscriber=subscriber, backend=NULL_EMAIL_BACKEND if silent else ""
        )


def _set_topics_if_pending(*, subscriber: Subscriber, topic_ids: list[int]) -> None:
    """The topics of a pending subscriber become ``topic_ids``; for any other status the
    same two statements run and match nothing (one code path for every address)."""
    through = Subscriber.topics.through
    pending = Subscriber.objects.filter(pk=subscriber.pk, status=Subscriber.Status.PENDING)
    through.objects.filter(subscriber_id__in=pending.values("pk")).exclude(
        topic_id__in=topic_ids
    ).delete()
    table, subscribers, topics = (
        through._meta.db_table,
        Subscriber._meta.db_table,
        Topic._meta.db_table,
    )
    wanted = ", ".join(["%s"] * len(topic_ids)) or "NULL"
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {table} (subscriber_id, topic_id) "  # noqa: S608 - model table names
            f"SELECT s.id, t.id FROM {subscribers} s, {topics} t "
            f"WHERE s.id = %s AND s.status = %s AND t.id IN ({wanted}) "
            f"AND NOT EXISTS (SELECT 1 FROM {table} x "
            "WHERE x.subscriber_id = s.id AND x.topic_id = t.id)",
            [subscriber.pk, Subscriber.Status.PENDING, *topic_ids],
        )


def _send_templated(
    *, subscriber: Subscriber, template: str, context: dict, backend: str = ""
) -> None:
    context = {"site_name": settings.SITE_NAME, "site_url": settings.SITE_URL, **context}
    subject = " ".join(
        render_to_string(f"newsletters/email/{template}.subject.txt", context).split()
    )
    message = EmailMultiAlternatives(
        subject=subject,
        body=render_to_string(f"newsletters/email/{template}.txt", context),
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=[subscriber.email],
        connection=get_connection(backend) if backend else None,
    )
    message.attach_alternative(
        render_to_string(f"newsletters/email/{template}.html", context), "text/html"
    )
    message.send(fail_silently=False)


def confirm_url(*, subscriber: Subscriber) -> str:
    token = make_token(subscriber=subscriber, purpose=Purpose.CONFIRM)
    return absolute_url(reverse("subscriptions:confirm", kwargs={"token": token}))


def preferences_url(*, subscriber: Subscriber) -> str:
    token = make_token(subscriber=subscriber, purpose=Purpose.PREFERENCES)
    return absolute_url(reverse("subscriptions:preferences", kwargs={"token": token}))


def send_confirmation_email(*, subscriber: Subscriber, backend: str = "") -> None:
    """Email the double opt-in link (valid 72 hours), through ``backend`` if given."""
    _send_templated(
        subscriber=subscriber,
        template="confirm",
        context={"confirm_url": confirm_url(subscriber=subscriber)},
        backend=backend,
    )


def send_already_subscribed_email(*, subscriber: Subscriber) -> None:
    _send_templated(
        subscriber=subscriber,
        template="already_subscribed",
        context={"preferences_url": preferences_url(subscriber=subscriber)},
    )


class ConfirmOutcome(StrEnum):
    CONFIRMED = "confirmed"
    ALREADY_ACTIVE = "already_active"


@dataclass(frozen=True)
class Confirmation:
    subscriber: Subscriber
    outcome: ConfirmOutcome


def _issued_before(claims: TokenClaims, moment: datetime) -> bool:
    """Whether the link was issued before ``moment``, compared exactly; a whole-second
    (older) link issued in the same second as ``moment`` counts as before it."""
    if claims.exact:
        return claims.issued_at < moment.timestamp()
    return claims.issued_at <= int(moment.timestamp())


def confirm_subscription(*, token: str) -> Confirmation:
    """Activate the subscriber a confirmation token names; reusing it is harmless.

    Raises ``InvalidToken`` for a forged, expired or revoked link, for a link
    issued before the subscriber last unsubscribed, and for bounced or complained
    addresses (only an operator can bring those back).
    """
    claims = read_token(token=token, purpose=Purpose.CONFIRM)
    subscriber = claims.subscriber
    if subscriber.status == Subscriber.Status.ACTIVE:
        return Confirmation(subscriber=subscriber, outcome=ConfirmOutcome.ALREADY_ACTIVE)
    if subscriber.status in SUPPRESSED_STATUSES:
        raise InvalidToken("This link is no longer valid.")
    if subscriber.unsubscribed_at and _issued_before(claims, subscriber.unsubscribed_at):
        raise InvalidToken(
            "This link is older than your last unsubscribe. Subscribe again to get a new one."
        )
    now = timezone.now()
    changed = Subscriber.objects.filter(
        pk=subscriber.pk,
        status__in=[Subscriber.Status.PENDING, Subscriber.Status.UNSUBSCRIBED],
    ).update(
        status=Subscriber.Status.ACTIVE,
        confirmed_at=now,
        consent_at=now,
        is_paused=False,
        bounce_count=0,
        updated_at=now,
    )
    subscriber.refresh_from_db()
    if changed:  # only the call that confirmed: a second click welcomes nobody twice
        enqueue_on_commit(SUBSCRIBER_EMAIL_TASK, subscriber_id=subscriber.pk, kind="welcome")
    outcome = ConfirmOutcome.CONFIRMED if changed else ConfirmOutcome.ALREADY_ACTIVE
    return Confirmation(subscriber=subscriber, outcome=outcome)


def update_preferences(*, subscriber: Subscriber, topics: Iterable[Topic], paused: bool) -> None:
    """Set the topics (none: the whole issue) and whether delivery is paused."""
    with transaction.atomic():
        subscriber.topics.set(list(topics))
        Subscriber.objects.filter(pk=subscriber.pk).update(
            is_paused=paused, updated_at=timezone.now()
        )
    subscriber.is_paused = paused


def unsubscribe(*, subscriber: Subscriber) -> bool:
    """Stop all email to ``subscriber`` now. True if this call changed anything;
    repeating it (or unsubscribing a bounced address) is harmless."""
    now = timezone.now()
    changed = Subscriber.objects.filter(
        pk=subscriber.pk, status__in=[Subscriber.Status.ACTIVE, Subscriber.Status.PENDING]
    ).update(status=Subscriber.Status.UNSUBSCRIBED, unsubscribed_at=now, updated_at=now)
    if changed:
        subscriber.status = Subscriber.Status.UNSUBSCRIBED
        subscriber.unsubscribed_at = now
    return bool(changed)


def resubscribe(*, subscriber: Subscriber) -> bool:
    """Undo an unsubscribe from the preferences page (the token proves the mailbox).

    Only for an unsubscribed subscriber who had confirmed before; True if changed.
    """
    now = timezone.now()
    changed = Subscriber.objects.filter(
        pk=subscriber.pk, status=Subscriber.Status.UNSUBSCRIBED, confirmed_at__isnull=False
    ).update(status=Subscriber.Status.ACTIVE, is_paused=False, consent_at=now, updated_at=now)
    if changed:
        subscriber.status = Subscriber.Status.ACTIVE
        subscriber.is_paused = False
    return bool(changed)


def record_permanent_failure(*, subscriber: Subscriber) -> bool:
    """Count a permanent (5xx) refusal; mark the subscriber bounced at the limit.

    True if this call marked them bounced.
    """
    now = timezone.now()
    Subscriber.objects.filter(pk=subscriber.pk).update(
        bounce_count=F("bounce_count") + 1, updated_at=now
    )
    return bool(
        Subscriber.objects.filter(
            pk=subscriber.pk,
            bounce_count__gte=settings.NEWSLETTER_BOUNCE_LIMIT,
            status__in=[Subscriber.Status.ACTIVE, Subscriber.Status.PENDING],
        ).update(status=Subscriber.Status.BOUNCED, updated_at=now)
    )


def mark_bounced(*, email: str) -> bool:
    """A hard bounce reported by the provider: never send to this address again."""
    now = timezone.now()
    return bool(
        Subscriber.objects.filter(email__iexact=email.strip())
        .exclude(status=Subscriber.Status.COMPLAINED)
        .update(
            status=Subscriber.Status.BOUNCED,
            bounce_count=F("bounce_count") + 1,
            updated_at=now,
        )
    )


def mark_complained(*, email: str) -> bool:
    """A spam complaint: never send to this address again, not even a confirmation."""
    return bool(
        Subscriber.objects.filter(email__iexact=email.strip()).update(
            status=Subscriber.Status.COMPLAINED, updated_at=timezone.now()
        )
    )


# ------------------------------------------------------------------ webhook
