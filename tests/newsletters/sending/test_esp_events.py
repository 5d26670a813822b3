"""ESP tracking webhooks through django-anymail: bounces and complaints reach the same
handling as the project's own endpoint; unauthenticated, unconfigured and malformed
requests are refused."""

from __future__ import annotations

import base64
import json

import pytest
from django.urls import reverse

from newsletters.models import Subscriber
from tests.factories import SubscriberFactory

pytestmark = pytest.mark.django_db

SECRET = "hooks:s3cret-pass"


@pytest.fixture
def webhook_secret(settings):
    settings.ANYMAIL = {"WEBHOOK_SECRET": SECRET}


def post_postmark(client, payload, *, auth: str | None = SECRET, raw: bytes | None = None):
    headers = {}
    if auth is not None:
        headers["HTTP_AUTHORIZATION"] = "Basic " + base64.b64encode(auth.encode()).decode()
    return client.post(
        reverse("anymail:postmark_tracking_webhook"),
        data=raw if raw is not None else json.dumps(payload),
        content_type="application/json",
        **headers,
    )


def bounce(email: str, kind: str = "HardBounce") -> dict:
    return {
        "RecordType": "Bounce",
        "Type": kind,
        "TypeCode": 1,
        "Email": email,
        "MessageID": "883953f4-6105-42a2-a16a-77a8eac79483",
        "BouncedAt": "2026-12-01T10:00:00Z",
    }


def test_hard_bounce_marks_the_subscriber_bounced(client, webhook_secret):
    reader = SubscriberFactory(active=True)

    response = post_postmark(client, bounce(reader.email))

    assert response.status_code == 200
    reader.refresh_from_db()
    assert reader.status == Subscriber.Status.BOUNCED


def test_replayed_bounce_changes_nothing_more(client, webhook_secret):
    reader = SubscriberFactory(active=True)
    post_postmark(client, bounce(reader.email))
    reader.refresh_from_db()

    assert post_postmark(client, bounce(reader.email)).status_code == 200
    assert Subscriber.objects.get(pk=reader.pk).status == Subscriber.Status.BOUNCED


def test_soft_bounce_changes_nothing(client, webhook_secret):
    reader = SubscriberFactory(active=True)

    # Postmark's "Transient": anymail's deferred, the provider retries by itself.
    post_postmark(client, bounce(reader.email, kind="Transient"))

    assert Subscriber.objects.get(pk=reader.pk).status == Subscriber.Status.ACTIVE


def test_complaint_marks_the_subscriber_complained(client, webhook_secret):
    reader = SubscriberFactory(active=True)
    payload = {
        "RecordType": "SpamComplaint",
        "Type": "SpamComplaint",
        "Email": reader.email,
        "BouncedAt": "2026-12-01T10:00:00Z",
    }

    assert post_postmark(client, payload).status_code == 200
    assert Subscriber.objects.get(pk=reader.pk).status == Subscriber.Status.COMPLAINED


def test_bad_credentials_are_refused_and_change_nothing(client, webhook_secret):
    reader = SubscriberFactory(active=True)

    response = post_postmark(client, bounce(reader.email), auth="hooks:wrong")
    missing = post_postmark(client, bounce(reader.email), auth=None)

    assert response.status_code == 400 and missing.status_code == 400
    assert Subscriber.objects.get(pk=reader.pk).status == Subscriber.Status.ACTIVE


def test_without_a_webhook_secret_every_request_is_refused(client, settings):
    settings.ANYMAIL = {}
    reader = SubscriberFactory(active=True)

    response = post_postmark(client, bounce(reader.email))

    assert response.status_code == 403
    assert b"ANYMAIL_WEBHOOK_SECRET" in response.content
    assert Subscriber.objects.get(pk=reader.pk).status == Subscriber.Status.ACTIVE


def test_nested_json_bomb_answers_400_not_500(client, webhook_secret):
    response = post_postmark(client, None, raw=b"[" * 200_000 + b"]" * 200_000)

    assert response.status_code == 400


def test_every_configured_providers_tracking_webhook_is_served():
    for esp in ("mailgun", "amazon_ses", "postmark", "sendgrid", "brevo"):
        assert reverse(f"anymail:{esp}_tracking_webhook") == f"/webhooks/anymail/{esp}/tracking/"
