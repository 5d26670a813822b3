import json
import re
import time
from unittest import mock

import pytest
from django.core import mail
from django.test import Client
from django.urls import reverse

from newsletters.models import Subscriber
from newsletters.subscribers.tokens import Purpose, make_token
from newsletters.subscribers.webhooks import webhook_signature
from tests.factories import SubscriberFactory, TopicFactory

pytestmark = pytest.mark.django_db

SUBSCRIBE = "/subscribe/"


def strip_csrf(html: str) -> str:
    return re.sub(r'name="csrfmiddlewaretoken" value="[^"]+"', "", html)


# ----------------------------------------------------------------- subscribe


def test_subscribe_page_explains_topic_digests_and_has_honeypot(client):
    TopicFactory(name="Cybersecurity")
    response = client.get(SUBSCRIBE)
    assert response.status_code == 200
    html = response.content.decode()
    assert "Cybersecurity" in html
    assert "topic digest" in html
    assert 'name="website"' in html
    assert 'class="footer-subscribe"' in html  # the footer form on every page


def test_subscribe_creates_pending_subscriber_and_sends_confirmation(client):
    topic = TopicFactory()
    response = client.post(SUBSCRIBE, {"email": "reader@example.org", "topics": [topic.pk]})
    assert response.status_code == 200
    assert "Check your inbox" in response.content.decode()
    subscriber = Subscriber.objects.get()
    assert subscriber.status == Subscriber.Status.PENDING
    assert list(subscriber.topics.all()) == [topic]
    assert subscriber.consent_ip == "127.0.0.1"
    [message] = mail.outbox
    assert message.to == ["reader@example.org"]


def test_same_answer_whether_the_address_was_known_or_not(client):
    SubscriberFactory(active=True, email="known@example.org")
    known = client.post(SUBSCRIBE, {"email": "known@example.org"})
    unknown = client.post(SUBSCRIBE, {"email": "unknown@example.org"})
    assert known.status_code == unknown.status_code == 200
    assert strip_csrf(known.content.decode()) == strip_csrf(unknown.content.decode())


def test_same_form_posted_twice_is_harmless(client):
    data = {"email": "twice@example.org"}
    first = client.post(SUBSCRIBE, data)
    second = client.post(SUBSCRIBE, data)
    assert first.status_code == second.status_code == 200
    assert Subscriber.objects.count() == 1
    assert len(mail.outbox) == 1


def test_honeypot_looks_like_success_and_does_nothing(client):
    response = client.post(SUBSCRIBE, {"email": "bot@example.org", "website": "http://spam"})
    assert response.status_code == 200
    assert "Check your inbox" in response.content.decode()
    assert Subscriber.objects.count() == 0
    assert mail.outbox == []


@pytest.mark.parametrize(
    ("email", "message"),
    [
        ("a@b.c\r\nBcc: x@y.z", "line breaks"),
        ("a@b.c\nBcc: x@y.z", "line breaks"),
        ("x" * 10_000 + "@example.org", "too long"),
        ("not an address", "valid email address"),
        ("jörg@example.org", "before the @"),
        ("", "Enter"),
    ],
)
def test_bad_address_gets_a_clear_message_and_nothing_is_stored(client, email, message):
    response = client.post(SUBSCRIBE, {"email": email})
    assert response.status_code == 400
    assert message in response.content.decode()
    assert Subscriber.objects.count() == 0
    assert mail.outbox == []


def test_header_injection_in_topics_is_refused(client):
    response = client.post(SUBSCRIBE, {"email": "ok@example.org", "topics": ["1\r\nBcc: x@y.z"]})
    assert response.status_code == 400
    assert Subscriber.objects.count() == 0
    assert mail.outbox == []


def test_idn_domain_is_stored_as_punycode(client):
    client.post(SUBSCRIBE, {"email": "leser@bücher.example"})
    assert Subscriber.objects.get().email == "leser@xn--bcher-kva.example"
    assert mail.outbox[0].to == ["leser@xn--bcher-kva.example"]


def test_per_ip_rate_limit(client, settings):
    settings.SUBSCRIBE_RATE_PER_IP = 3
    for n in range(3):
        assert client.post(SUBSCRIBE, {"email": f"r{n}@example.org"}).status_code == 200
    response = client.post(SUBSCRIBE, {"email": "r9@example.org"})
    assert response.status_code == 429
    assert "try again" in response.content.decode()
    assert Subscriber.objects.count() == 3
    other_ip = client.post(SUBSCRIBE, {"email": "r9@example.org"}, REMOTE_ADDR="192.0.2.7")
    assert other_ip.status_code == 200


def test_subscribe_needs_csrf_token():
    client = Client(enforce_csrf_checks=True)
    response = client.post(SUBSCRIBE, {"email": "reader@example.org"})
    assert response.status_code == 403
    assert Subscriber.objects.count() == 0


# ------------------------------------------------------------------- confirm


def test_confirm_link_asks_on_get_and_confirms_on_post_and_reuse_is_harmless():
    client = Client(enforce_csrf_checks=True)
    client.get(SUBSCRIBE)  # sets the CSRF cookie
    csrf = client.cookies["csrftoken"].value
    client.post(SUBSCRIBE, {"email": "reader@example.org", "csrfmiddlewaretoken": csrf})
    url = re.search(r"https?://\S+/subscribe/confirm/\S+/", mail.outbox[0].body).group(0)
    path = "/" + url.split("://", 1)[1].split("/", 1)[1]
    # A link checker opening the link confirms nothing.
    asked = client.get(path)
    assert asked.status_code == 200
    assert "Yes, subscribe me" in asked.content.decode()
    assert Subscriber.objects.receiving().count() == 0
    assert client.post(path).status_code == 403  # the confirm form carries a CSRF token
    response = client.post(path, {"csrfmiddlewaretoken": csrf})
    assert response.status_code == 200
    assert "You are subscribed" in response.content.decode()
    assert Subscriber.objects.receiving().count() == 1
    for again in (client.get(path), client.post(path, {"csrfmiddlewaretoken": csrf})):
        assert again.status_code == 200
        assert "already subscribed" in again.content.decode()
    assert Subscriber.objects.receiving().count() == 1


def test_forged_and_expired_confirm_links_are_refused(client):
    subscriber = SubscriberFactory()
    token = make_token(subscriber=subscriber, purpose=Purpose.CONFIRM)
    forged_path = reverse("subscriptions:confirm", kwargs={"token": token[:-3] + "abc"})
    assert client.get(forged_path).status_code == 400
    assert client.post(forged_path).status_code == 400
    later = time.time() + 73 * 3600
    with mock.patch("django.core.signing.time.time", return_value=later):
        expired = client.post(reverse("subscriptions:confirm", kwargs={"token": token}))
    assert expired.status_code == 400
    assert "expired" in expired.content.decode()
    assert Subscriber.objects.get().status == Subscriber.Status.PENDING


def test_preferences_token_does_not_confirm(client):
    subscriber = SubscriberFactory()
    token = make_token(subscriber=subscriber, purpose=Purpose.PREFERENCES)
    assert (
        client.post(reverse("subscriptions:confirm", kwargs={"token": token})).status_code == 400
    )
    assert Subscriber.objects.get().status == Subscriber.Status.PENDING


# --------------------------------------------------------------- preferences


def preferences_path(subscriber):
    token = make_token(subscriber=subscriber, purpose=Purpose.PREFERENCES)
    return reverse("subscriptions:preferences", kwargs={"token": token})


def test_preferences_page_explains_topic_digests(client):
    TopicFactory(name="Semiconductors")
    response = client.get(preferences_path(SubscriberFactory(active=True)))
    html = response.content.decode()
    assert response.status_code == 200
    assert "How topic digests work" in html
    assert "Semiconductors" in html


def test_preferences_save_topics_and_pause(client):
    subscriber = SubscriberFactory(active=True)
    topic = TopicFactory()
    path = preferences_path(subscriber)
    response = client.post(path, {"action": "save", "topics": [topic.pk], "paused": "on"})
    assert response.status_code == 302
    subscriber.refresh_from_db()
    assert list(subscriber.topics.all()) == [topic]
    assert subscriber.is_paused
    assert "saved" in client.get(path).content.decode()


def test_preferences_unsubscribe_then_resubscribe(client):
    subscriber = SubscriberFactory(active=True)
    path = preferences_path(subscriber)
    client.post(path, {"action": "unsubscribe"})
    assert Subscriber.objects.get().status == Subscriber.Status.UNSUBSCRIBED
    assert "Resubscribe" in client.get(path).content.decode()
    client.post(path, {"action": "resubscribe"})
    assert Subscriber.objects.receiving().get() == subscriber


def test_preferences_need_csrf_and_a_valid_token():
    subscriber = SubscriberFactory(active=True)
    client = Client(enforce_csrf_checks=True)
    assert client.post(preferences_path(subscriber), {"action": "unsubscribe"}).status_code == 403
    assert Subscriber.objects.get().status == Subscriber.Status.ACTIVE
    bad = reverse("subscriptions:preferences", kwargs={"token": "forged"})
    assert client.get(bad).status_code == 400


# --------------------------------------------------------------- unsubscribe


def unsubscribe_path(subscriber):
    token = make_token(subscriber=subscriber, purpose=Purpose.UNSUBSCRIBE)
    return reverse("subscriptions:unsubscribe", kwargs={"token": token})


def test_unsubscribe_get_only_asks(client):
    subscriber = SubscriberFactory(active=True)
    response = client.get(unsubscribe_path(subscriber))
    assert response.status_code == 200
    assert "<form" in response.content.decode()
    assert Subscriber.objects.get().status == Subscriber.Status.ACTIVE


def test_one_click_post_unsubscribes_without_csrf_and_repeats_harmlessly():
    subscriber = SubscriberFactory(active=True)
    client = Client(enforce_csrf_checks=True)
    path = unsubscribe_path(subscriber)
    body = "List-Unsubscribe=One-Click"
    first = client.post(path, body, content_type="application/x-www-form-urlencoded")
    assert first.status_code == 200
    assert Subscriber.objects.get().status == Subscriber.Status.UNSUBSCRIBED
    second = client.post(path, body, content_type="application/x-www-form-urlencoded")
    assert second.status_code == 200
    assert Subscriber.objects.get().status == Subscriber.Status.UNSUBSCRIBED


def test_unsubscribe_post_for_unknown_or_forged_token_is_harmless(client):
    subscriber = SubscriberFactory(active=True)
    gone = SubscriberFactory(active=True)
    gone_path = unsubscribe_path(gone)
    gone.delete()
    for path in (
        gone_path,
        reverse("subscriptions:unsubscribe", kwargs={"token": "not-a-token"}),
        preferences_path(subscriber).replace("/preferences/", "/unsubscribe/"),
    ):
        response = client.post(path)
        assert response.status_code == 400
        assert "This link does not work" in response.content.decode()
    assert Subscriber.objects.get().status == Subscriber.Status.ACTIVE


# ------------------------------------------------------------------- webhook


def post_webhook(
    client, payload=None, *, secret="s3cret", timestamp=None, signature=None, body=None
):
    body = json.dumps(payload).encode() if body is None else body
    timestamp = str(int(time.time())) if timestamp is None else timestamp
    signature = signature or webhook_signature(secret=secret, timestamp=timestamp, body=body)
    return client.post(
        reverse("subscriptions:email_webhook"),
        body,
        content_type="application/json",
        headers={"X-Digest-Timestamp": timestamp, "X-Digest-Signature": signature},
    )


def test_signed_webhook_marks_bounced_and_complained(client, settings):
    settings.NEWSLETTER_WEBHOOK_SECRET = "s3cret"
    SubscriberFactory(active=True, email="hard@example.org")
    SubscriberFactory(active=True, email="soft@example.org")
    SubscriberFactory(active=True, email="angry@example.org")
    payload = {
        "events": [
            {"type": "bounce", "email": "hard@example.org", "permanent": True},
            {"type": "bounce", "email": "soft@example.org", "permanent": False},
            {"type": "complaint", "email": "angry@example.org"},
            {"type": "complaint", "email": "a@b.c\r\nBcc: x@y.z"},
        ]
    }
    response = post_webhook(Client(enforce_csrf_checks=True), payload)
    assert response.status_code == 200
    assert response.json() == {"bounced": 1, "complained": 1, "ignored": 2}
    statuses = dict(Subscriber.objects.values_list("email", "status"))
    assert statuses == {
        "hard@example.org": "bounced",
        "soft@example.org": "active",
        "angry@example.org": "complained",
    }


@pytest.mark.parametrize(
    "kwargs",
    [
        {"secret": "wrong"},
        {"signature": "sha256=" + "0" * 64},
        {"timestamp": str(int(time.time()) - 3600)},
        {"timestamp": "soon"},
    ],
)
def test_webhook_refuses_bad_signatures_and_replays(client, settings, kwargs):
    settings.NEWSLETTER_WEBHOOK_SECRET = "s3cret"
    SubscriberFactory(active=True, email="hard@example.org")
    payload = {"events": [{"type": "bounce", "email": "hard@example.org"}]}
    assert post_webhook(client, payload, **kwargs).status_code == 403
    assert Subscriber.objects.get().status == Subscriber.Status.ACTIVE


def test_replayed_webhook_is_refused_inside_the_window(client, settings):
    settings.NEWSLETTER_WEBHOOK_SECRET = "s3cret"
    SubscriberFactory(active=True, email="hard@example.org")
    payload = {"events": [{"type": "bounce", "email": "hard@example.org"}]}
    timestamp = str(int(time.time()))

    assert post_webhook(client, payload, timestamp=timestamp).status_code == 200
    Subscriber.objects.update(status=Subscriber.Status.ACTIVE)
    replay = post_webhook(client, payload, timestamp=timestamp)

    assert replay.status_code == 403
    assert "already received" in replay.json()["error"]
    assert Subscriber.objects.get().status == Subscriber.Status.ACTIVE
    # A new request (new timestamp, so a new signature) is still accepted.
    assert post_webhook(client, payload, timestamp=str(int(timestamp) + 1)).status_code == 200


def test_deeply_nested_signed_body_answers_400_not_500(client, settings):
    settings.NEWSLETTER_WEBHOOK_SECRET = "s3cret"
    body = b"[" * 50_000 + b"]" * 50_000

    response = post_webhook(client, body=body)

    assert response.status_code == 400
    assert "nests deeper" in response.json()["error"]


def test_brackets_inside_strings_do_not_count_as_nesting(client, settings):
    settings.NEWSLETTER_WEBHOOK_SECRET = "s3cret"
    SubscriberFactory(active=True, email="hard@example.org")
    payload = {
        "note": "[" * 500 + '\\"{',
        "events": [{"type": "bounce", "email": "hard@example.org"}],
    }

    assert post_webhook(client, payload).json()["bounced"] == 1


def test_webhook_is_off_without_a_secret(client, settings):
    settings.NEWSLETTER_WEBHOOK_SECRET = ""
    SubscriberFactory(active=True, email="hard@example.org")
    payload = {"events": [{"type": "bounce", "email": "hard@example.org"}]}
    assert post_webhook(client, payload, secret="").status_code == 403
    assert Subscriber.objects.get().status == Subscriber.Status.ACTIVE


def test_webhook_rejects_malformed_payload(client, settings):
    settings.NEWSLETTER_WEBHOOK_SECRET = "s3cret"
    assert post_webhook(client, ["not", "an", "object"]).status_code == 400
    assert client.get(reverse("subscriptions:email_webhook")).status_code == 405


def test_subscribe_answers_even_when_the_mail_server_is_down(client, settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT, settings.EMAIL_TIMEOUT = "127.0.0.1", 9, 2
    response = client.post(SUBSCRIBE, {"email": "reader@example.org"})
    assert response.status_code == 200
    assert Subscriber.objects.get().status == Subscriber.Status.PENDING
