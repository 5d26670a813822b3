from datetime import timedelta
from unittest import mock

import pytest

from newsletters.subscribers.tokens import InvalidToken, Purpose, make_token, read_token
from tests.factories import SubscriberFactory

pytestmark = pytest.mark.django_db


def test_token_reads_back_as_its_subscriber():
    subscriber = SubscriberFactory(active=True)
    token = make_token(subscriber=subscriber, purpose=Purpose.PREFERENCES)
    assert read_token(token=token, purpose=Purpose.PREFERENCES).subscriber == subscriber


def test_token_for_one_purpose_is_refused_for_another():
    subscriber = SubscriberFactory(active=True)
    token = make_token(subscriber=subscriber, purpose=Purpose.PREFERENCES)
    with pytest.raises(InvalidToken):
        read_token(token=token, purpose=Purpose.UNSUBSCRIBE)
    with pytest.raises(InvalidToken):
        read_token(token=token, purpose=Purpose.CONFIRM)


def test_forged_token_is_refused():
    subscriber = SubscriberFactory(active=True)
    token = make_token(subscriber=subscriber, purpose=Purpose.UNSUBSCRIBE)
    other = SubscriberFactory(active=True)
    # Swap the payload for another subscriber's id but keep the signature.
    payload, _, rest = token.partition(":")
    forged_payload = make_token(subscriber=other, purpose=Purpose.UNSUBSCRIBE).partition(":")[0]
    for forged in (forged_payload + ":" + rest, token[:-2] + "xx", "garbage", "", "a" * 600):
        with pytest.raises(InvalidToken):
            read_token(token=forged, purpose=Purpose.UNSUBSCRIBE)


def test_rotating_token_key_revokes_links():
    subscriber = SubscriberFactory(active=True)
    token = make_token(subscriber=subscriber, purpose=Purpose.PREFERENCES)
    subscriber.token_key = "rotated-key"
    subscriber.save()
    with pytest.raises(InvalidToken, match="no longer valid"):
        read_token(token=token, purpose=Purpose.PREFERENCES)


def test_confirm_token_expires_after_72_hours():
    subscriber = SubscriberFactory()
    token = make_token(subscriber=subscriber, purpose=Purpose.CONFIRM)
    import time

    later = time.time() + timedelta(hours=72, minutes=1).total_seconds()
    with (
        mock.patch("django.core.signing.time.time", return_value=later),
        pytest.raises(InvalidToken, match="expired"),
    ):
        read_token(token=token, purpose=Purpose.CONFIRM)
    almost = time.time() + timedelta(hours=71).total_seconds()
    with mock.patch("django.core.signing.time.time", return_value=almost):
        assert read_token(token=token, purpose=Purpose.CONFIRM).subscriber == subscriber


def test_unsubscribe_token_does_not_expire():
    subscriber = SubscriberFactory(active=True)
    token = make_token(subscriber=subscriber, purpose=Purpose.UNSUBSCRIBE)
    import time

    much_later = time.time() + timedelta(days=400).total_seconds()
    with mock.patch("django.core.signing.time.time", return_value=much_later):
        assert read_token(token=token, purpose=Purpose.UNSUBSCRIBE).subscriber == subscriber


def test_token_for_deleted_subscriber_is_refused():
    subscriber = SubscriberFactory(active=True)
    token = make_token(subscriber=subscriber, purpose=Purpose.UNSUBSCRIBE)
    subscriber.delete()
    with pytest.raises(InvalidToken):
        read_token(token=token, purpose=Purpose.UNSUBSCRIBE)


def test_token_is_exactly_what_djangos_timestamp_signer_makes():
    from django.core import signing
    from django.utils.crypto import salted_hmac

    subscriber = SubscriberFactory(active=True)
    for purpose in Purpose:
        with mock.patch("time.time", return_value=1_764_600_000.123456):
            token = make_token(subscriber=subscriber, purpose=purpose)
            salt = f"newsletters.tokens.{purpose}"
            tag = salted_hmac(salt, subscriber.token_key, algorithm="sha256").hexdigest()[:20]
            expected = signing.TimestampSigner(salt=salt).sign_object(
                [subscriber.pk, tag, 1_764_600_000.123456]
            )
        assert token == expected
