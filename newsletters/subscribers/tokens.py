"""Signed, single-purpose links for subscribers: confirm, preferences, unsubscribe.

A token is ``django.core.signing`` output over ``[subscriber id, tag, issued at]``
with a salt per purpose, so a preferences token never works as a confirm token.
The tag is an HMAC of the subscriber's ``token_key``: rotating that key revokes
every link already sent. Confirmation links expire (``CONFIRM_MAX_AGE``); the
others last as long as the key, because they sit in old emails that must keep
working.
"""

from __future__ import annotations

import functools
import hashlib
import hmac
import json
import time
from dataclasses import dataclass
from datetime import timedelta
from enum import StrEnum

from django.conf import settings
from django.core import signing
from django.utils.crypto import constant_time_compare
from django.utils.encoding import force_bytes

from newsletters.models import Subscriber

CONFIRM_MAX_AGE = timedelta(hours=72)


class Purpose(StrEnum):
    CONFIRM = "confirm"
    PREFERENCES = "preferences"
    UNSUBSCRIBE = "unsubscribe"


MAX_AGE: dict[Purpose, timedelta | None] = {
    Purpose.CONFIRM: CONFIRM_MAX_AGE,
    Purpose.PREFERENCES: None,
    Purpose.UNSUBSCRIBE: None,
}


class InvalidToken(Exception):
    """The token is malformed, forged, revoked, for another purpose, or expired."""


@dataclass(frozen=True)
class TokenClaims:
    subscriber: Subscriber
    issued_at: float
    """Seconds since the epoch, exact (links made before this change: whole seconds)."""
    exact: bool = True
    """False for a whole-second time, which cannot be ordered within its second."""


def _salt(purpose: Purpose) -> str:
    return f"newsletters.tokens.{purpose}"


def _key_tag(*, subscriber_token_key: str, purpose: Purpose) -> str:
    key = _hmac_key(_salt(purpose), settings.SECRET_KEY)
    return hmac.digest(key, subscriber_token_key.encode(), "sha256").hex()[:20]


@functools.lru_cache(maxsize=16)
def _hmac_key(salt: str, secret_key: str) -> bytes:
    # ``salted_hmac``'s key for ``salt``, derived once per salt and secret key rather than
    # for every HMAC (tokens are made for every recipient of every issue).
    return hashlib.sha256(force_bytes(salt) + force_bytes(secret_key)).digest()


def make_token(*, subscriber: Subscriber, purpose: Purpose) -> str:
    """Return a URL-safe token that proves ``purpose`` for ``subscriber``.

    The token is exactly ``TimestampSigner(salt=…).sign_object(payload)`` (what
    ``signing.loads`` reads back), computed with the derived HMAC keys kept and OpenSSL's
    one-shot HMAC: the signer's own code was most of a message's personalisation.
    """
    now = time.time()
    payload = [
        subscriber.pk,
        _key_tag(subscriber_token_key=subscriber.token_key, purpose=purpose),
        # Exact time, not whole seconds: a link issued just before an unsubscribe in the
        # same second must still count as older than it.
        now,
    ]
    data = json.dumps(payload, separators=(",", ":")).encode("latin-1")
    value = f"{signing.b64_encode(data).decode()}:{signing.b62_encode(int(now))}"
    key = _hmac_key(_salt(purpose) + "signer", settings.SECRET_KEY)
    signature = hmac.digest(key, value.encode(), "sha256")
    return f"{value}:{signing.b64_encode(signature).decode()}"


def read_token(*, token: str, purpose: Purpose) -> TokenClaims:
    """Return the subscriber a token speaks for, or raise ``InvalidToken``.

    One query. The subscriber may be in any status; callers decide what the
    purpose allows for it.
    """
    if not token or len(token) > 500:
        raise InvalidToken("This link is not valid.")
    max_age = MAX_AGE[purpose]
    try:
        payload = signing.loads(
            token,
            salt=_salt(purpose),
            max_age=max_age.total_seconds() if max_age else None,
        )
    except signing.SignatureExpired:
        raise InvalidToken("This link has expired.") from None
    except signing.BadSignature:
        raise InvalidToken("This link is not valid.") from None
    if (
        not isinstance(payload, list)
        or len(payload) != 3
        or not isinstance(payload[0], int)
        or not isinstance(payload[1], str)
        or not isinstance(payload[2], int | float)
        or isinstance(payload[2], bool)
    ):
        raise InvalidToken("This link is not valid.")
    subscriber_id, tag, issued_at = payload
    subscriber = Subscriber.objects.filter(pk=subscriber_id).first()
    if subscriber is None:
        raise InvalidToken("This link is not valid.")
    expected = _key_tag(subscriber_token_key=subscriber.token_key, purpose=purpose)
    if not constant_time_compare(tag, expected):
        raise InvalidToken("This link is no longer valid.")
    return TokenClaims(
        subscriber=subscriber, issued_at=float(issued_at), exact=isinstance(issued_at, float)
    )
