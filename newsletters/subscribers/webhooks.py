"""The bounce and complaint webhook: signature, freshness, replays, body shape, events.

A request is accepted once: its HMAC signature (over timestamp and body) is kept
as a nonce in the shared cache for as long as its timestamp is acceptable, so a
replay inside the 5-minute window is refused like a stale one. The body is JSON
nested at most ``WEBHOOK_MAX_DEPTH`` levels, checked before it is parsed.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import time

from django.core.cache import cache
from django.utils.crypto import constant_time_compare

from newsletters.subscribers.services import mark_bounced, mark_complained

WEBHOOK_TOLERANCE_SECONDS = 300
WEBHOOK_MAX_EVENTS = 1000
# {"events": [{...}]} is three levels; anything far deeper is an attack on the parser.
WEBHOOK_MAX_DEPTH = 20


class WebhookRejected(Exception):
    """The webhook request is unsigned, badly signed, stale, replayed or malformed."""


class WebhookReplayed(WebhookRejected):
    """This exact signed request was already accepted."""


def webhook_signature(*, secret: str, timestamp: str, body: bytes) -> str:
    """'sha256=<hex>' of HMAC-SHA256(secret, timestamp + '.' + body)."""
    mac = hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256)
    return "sha256=" + mac.hexdigest()


def verify_webhook(*, secret: str, timestamp: str, signature: str, body: bytes) -> None:
    """Raise ``WebhookRejected`` unless the signature matches, is recent and is new.

    The first request with a given signature is accepted; the same one again, while
    its timestamp is still inside the window, raises ``WebhookReplayed``.
    """
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
    # Kept a little longer than the window on both sides of the timestamp.
    nonce_key = "webhook-nonce:" + hashlib.sha256(expected.encode()).hexdigest()[:40]
    if not cache.add(nonce_key, 1, timeout=2 * WEBHOOK_TOLERANCE_SECONDS + 60):
        raise WebhookReplayed("This request was already received.")


def _nesting_depth_exceeds(body: bytes, limit: int) -> bool:
    """Whether JSON ``body`` opens more than ``limit`` arrays/objects inside each other
    (brackets inside strings do not count). Linear, no recursion."""
    depth = 0
    in_string = escaped = False
    for byte in body:
        if in_string:
            if escaped:
                escaped = False
            elif byte == 0x5C:  # backslash
                escaped = True
            elif byte == 0x22:  # quote
                in_string = False
        elif byte == 0x22:
            in_string = True
        elif byte in (0x5B, 0x7B):  # [ {
            depth += 1
            if depth > limit:
                return True
        elif byte in (0x5D, 0x7D):  # ] }
            depth -= 1
    return False


def parse_webhook_body(body: bytes) -> object:
    """The JSON value of ``body``; ``WebhookRejected`` if it is not JSON or nests deeper
    than ``WEBHOOK_MAX_DEPTH``."""
    if _nesting_depth_exceeds(body, WEBHOOK_MAX_DEPTH):
        raise WebhookRejected(f"The body nests deeper than {WEBHOOK_MAX_DEPTH} levels.")
    try:
        return json.loads(body)
    except (ValueError, RecursionError) as error:
        raise WebhookRejected(f"The body is not JSON: {error}") from None


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
