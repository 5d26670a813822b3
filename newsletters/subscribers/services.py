"""Subscribing and everything a subscriber can change: double opt-in, topics,
pause, unsubscribe, resubscribe; bounces and complaints.

Addresses are checked strictly before anything is stored (``normalise_address``).
Decision on internationalised addresses: a non-ASCII *domain* is accepted and
stored in its ASCII (punycode) form, which every mail server can route; a
non-ASCII *local part* (before the @) needs SMTPUTF8 end to end, which we cannot
promise, so it is refused with a message saying so.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.mail import EmailMultiAlternatives
from django.core.validators import EmailValidator
from django.db import transaction
from django.db.models import F
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from django.utils.crypto import constant_time_compare

from articles.models import Topic
from digest.core import ratelimit
from digest.core.links import absolute_url
from digest.core.queue import enqueue, enqueue_on_commit
from newsletters.models import Subscriber
from newsletters.subscribers.tokens import InvalidToken, Purpose, make_token, read_token
from newsletters.welcome import send_welcome_email

logger = logging.getLogger(__name__)

SUBSCRIBER_EMAIL_TASK = "newsletters.tasks.subscriber_email_send_task"

MAX_ADDRESS_LENGTH = 254
TOO_LONG = "This address is too long: an email address has at most 254 characters."
CONSENT_TEXT = "Send me the weekly digest by email. I can unsubscribe at any time."
_validate_email = EmailValidator(allowlist=[])


class InvalidAddress(ValueError):
    """The address cannot be used; ``str(error)`` is a message for the person."""


def normalise_address(value: str) -> str:
    """Return ``value`` as a clean address to store and send to, or raise ``InvalidAddress``.

    Refuses line breaks and control characters anywhere (header injection), more
    than 254 characters, quoted or non-ASCII local parts, and anything Django's
    validator rejects. The domain is lower-cased and IDNA-encoded.
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


def subscribe(
    *,
    email: str,
    topics: Iterable[Topic] = (),
    ip: str | None = None,
    source: str = "form",
) -> SubscribeOutcome:
    """Record a subscription request and send at most one email about it.

    A new address becomes a pending subscriber with the chosen topics and a
    consent record; a confirmation link is sent. A known address changes state
    only through its own mailbox: pending or unsubscribed addresses get a new
    confirmation link, active ones a note with their preferences link,
    complained ones nothing. At most ``SUBSCRIBE_RATE_PER_ADDRESS`` emails per
    address per hour. The caller shows the same answer in every case.
    """
    address = normalise_address(email)
    topics = list(topics)
    now = timezone.now()
    with transaction.atomic():
        subscriber, created = Subscriber.objects.get_or_create(
            email__iexact=address,
            defaults={
                "email": address,
                "consent_text": CONSENT_TEXT,
                "consent_ip": ip,
                "consent_source": source,
            },
        )
        if created or (topics and subscriber.status == Subscriber.Status.PENDING):
            subscriber.topics.set(topics)
    if subscriber.status == Subscriber.Status.COMPLAINED:
        return SubscribeOutcome.SUPPRESSED
    if not ratelimit.hit(
        key=f"subscribe-address:{address.lower()}",
        limit=settings.SUBSCRIBE_RATE_PER_ADDRESS,
        window_seconds=3600,
    ):
        return SubscribeOutcome.RATE_LIMITED
    if subscriber.status == Subscriber.Status.ACTIVE:
        _queue_email(subscriber=subscriber, kind="already_subscribed")
        return SubscribeOutcome.NOTICE_SENT
    if not created:
        Subscriber.objects.filter(pk=subscriber.pk).update(
            consent_text=CONSENT_TEXT, consent_ip=ip, consent_source=source, updated_at=now
        )
    _queue_email(subscriber=subscriber, kind="confirm")
    return SubscribeOutcome.CONFIRMATION_SENT


def _queue_email(*, subscriber: Subscriber, kind: str) -> None:
    # The row is committed (autocommit, or the atomic block above has closed): a worker
    # sends it, so a slow or failing mail server never fails the form.
    enqueue(SUBSCRIBER_EMAIL_TASK, subscriber_id=subscriber.pk, kind=kind)


def send_subscriber_email(*, subscriber: Subscriber, kind: str) -> None:
    """Send the confirmation link (``kind="confirm"``) or the already-subscribed note;
    nothing to an address that complained."""
    if subscriber.status == Subscriber.Status.COMPLAINED:
        return
    if kind == "confirm":
        send_confirmation_email(subscriber=subscriber)
    elif kind == "already_subscribed":
        send_already_subscribed_email(subscriber=subscriber)
    elif kind == "welcome":
        send_welcome_email(subscriber=subscriber)
    else:
        raise ValueError(f"unknown subscriber email {kind!r}")


def _send_templated(*, subscriber: Subscriber, template: str, context: dict) -> None:
    context = {"site_name": settings.SITE_NAME, "site_url": settings.SITE_URL, **context}
    subject = " ".join(
        render_to_string(f"newsletters/email/{template}.subject.txt", context).split()
    )
    message = EmailMultiAlternatives(
        subject=subject,
        body=render_to_string(f"newsletters/email/{template}.txt", context),
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=[subscriber.email],
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


def send_confirmation_email(*, subscriber: Subscriber) -> None:
    """Email the double opt-in link (valid 72 hours)."""
    _send_templated(
        subscriber=subscriber,
        template="confirm",
        context={"confirm_url": confirm_url(subscriber=subscriber)},
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


def confirm_subscription(*, token: str) -> Confirmation:
    """Activate the subscriber a confirmation token names; reusing it is harmless.

    Raises ``InvalidToken`` for a forged, expired or revoked link, for a link
    issued before the subscriber last unsubscribed, and for complained addresses.
    """
    claims = read_token(token=token, purpose=Purpose.CONFIRM)
    subscriber = claims.subscriber
    if subscriber.status == Subscriber.Status.ACTIVE:
        return Confirmation(subscriber=subscriber, outcome=ConfirmOutcome.ALREADY_ACTIVE)
    if subscriber.status == Subscriber.Status.COMPLAINED:
        raise InvalidToken("This link is no longer valid.")
    if subscriber.unsubscribed_at and claims.issued_at < int(
        subscriber.unsubscribed_at.timestamp()
    ):
        raise InvalidToken(
            "This link is older than your last unsubscribe. Subscribe again to get a new one."
        )
    now = timezone.now()
    changed = Subscriber.objects.filter(
        pk=subscriber.pk,
        status__in=[
            Subscriber.Status.PENDING,
            Subscriber.Status.UNSUBSCRIBED,
            Subscriber.Status.BOUNCED,
        ],
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

WEBHOOK_TOLERANCE_SECONDS = 300
WEBHOOK_MAX_EVENTS = 1000


class WebhookRejected(Exception):
    """The webhook request is unsigned, badly signed, stale or malformed."""


def webhook_signature(*, secret: str, timestamp: str, body: bytes) -> str:
    """'sha256=<hex>' of HMAC-SHA256(secret, timestamp + '.' + body)."""
    import hashlib
    import hmac

    mac = hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256)
    return "sha256=" + mac.hexdigest()


def verify_webhook(*, secret: str, timestamp: str, signature: str, body: bytes) -> None:
    """Raise ``WebhookRejected`` unless the signature matches and is recent."""
    import time

    if not secret:
        raise WebhookRejected("The webhook is not configured (NEWSLETTER_WEBHOOK_SECRET).")
    try:
        sent_at = int(timestamp)
    except (TypeError, ValueError):
        raise WebhookRejected("Missing or malformed X-Digest-Timestamp.") from None
    if abs(time.time() - sent_at) > WEBHOOK_TOLERANCE_SECONDS:
        raise WebhookRejected("Timestamp outside the accepted window.")
    expected = webhook_signature(secret=secret, timestamp=timestamp, body=body)
    if not constant_time_compare(expected, signature or ""):
        raise WebhookRejected("Bad signature.")


def apply_webhook_events(*, payload: object) -> dict[str, int]:
    """Apply ``{"events": [{"type": "bounce"|"complaint", "email": …, "permanent": bool}]}``.

    Hard bounces and complaints stop all email to the address; soft bounces are
    ignored (the sender retries those itself). Returns counts per outcome.
    """
    if not isinstance(payload, dict) or not isinstance(payload.get("events"), list):
        raise WebhookRejected('Expected a JSON object with an "events" list.')
    events = payload["events"]
    if len(events) > WEBHOOK_MAX_EVENTS:
        raise WebhookRejected(f"At most {WEBHOOK_MAX_EVENTS} events per request.")
    counts = {"bounced": 0, "complained": 0, "ignored": 0}
    for event in events:
        if not isinstance(event, dict) or not isinstance(event.get("email"), str):
            counts["ignored"] += 1
            continue
        kind, email = event.get("type"), event["email"]
        if kind == "complaint" and mark_complained(email=email):
            counts["complained"] += 1
        elif (
            kind == "bounce" and event.get("permanent", True) is True and mark_bounced(email=email)
        ):
            counts["bounced"] += 1
        else:
            counts["ignored"] += 1
    return counts
