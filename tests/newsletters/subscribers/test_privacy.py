"""A subscriber's own data, and erasure: deleted, their deliveries kept anonymous."""

from __future__ import annotations

import json

import pytest
from django.utils import timezone

from newsletters.models import Click, Delivery, IssueLink, Subscriber
from newsletters.subscribers.privacy import erase_subscriber, subscriber_data
from newsletters.subscribers.services import preferences_url
from tests.factories import DeliveryFactory, IssueFactory, SubscriberFactory, TopicFactory

pytestmark = pytest.mark.django_db


def test_subscriber_data_holds_consent_topics_and_deliveries(django_assert_max_num_queries):
    subscriber = SubscriberFactory(
        email="ada@example.org", name="Ada", active=True, topics=[TopicFactory(name="AI")]
    )
    delivery = DeliveryFactory(
        issue=IssueFactory(number=7, title="Seven"),
        subscriber=subscriber,
        status=Delivery.Status.SENT,
        sent_at=timezone.now(),
    )
    link = IssueLink.objects.create(issue=delivery.issue, url="https://a.example/")
    Click.objects.create(delivery=delivery, link=link)
    Click.objects.create(delivery=delivery, link=link, is_scanner=True)
    with django_assert_max_num_queries(3):
        data = subscriber_data(subscriber=subscriber)
    assert data["email"] == "ada@example.org" and data["name"] == "Ada"
    assert data["topics"] == ["AI"]
    assert data["consent"]["source"] == "form" and data["consent"]["at"]
    (sent,) = data["deliveries"]
    assert (sent["issue"], sent["title"], sent["status"]) == (7, "Seven", "sent")
    assert [click["url"] for click in sent["links_followed"]] == ["https://a.example/"]
    json.dumps(data)  # JSON-ready as it is


def test_erasure_deletes_the_subscriber_and_anonymises_deliveries():
    subscriber = SubscriberFactory(email="gone@example.org", active=True)
    other = SubscriberFactory(email="stays@example.org", active=True)
    sent = DeliveryFactory(
        subscriber=subscriber,
        status=Delivery.Status.SENT,
        message_id="<1@x>",
        error="gone@example.org: 250",
    )
    pending = DeliveryFactory(subscriber=subscriber, status=Delivery.Status.PENDING)
    kept = DeliveryFactory(subscriber=other, issue=sent.issue, message_id="<2@x>")
    result = erase_subscriber(subscriber=subscriber)
    assert (result.deliveries_anonymised, result.deliveries_cancelled) == (2, 1)
    assert not Subscriber.objects.filter(email__iexact="gone@example.org").exists()
    sent.refresh_from_db()
    assert (sent.subscriber_id, sent.message_id, sent.error, sent.status) == (None, "", "", "sent")
    pending.refresh_from_db()
    assert pending.subscriber_id is None and pending.status == Delivery.Status.FAILED
    kept.refresh_from_db()
    assert kept.subscriber_id == other.pk and kept.message_id == "<2@x>"
    # The issue's counts still add up.
    assert Delivery.objects.filter(issue=sent.issue).count() == 2


def test_preferences_page_links_to_my_data_and_erasure(client):
    subscriber = SubscriberFactory(active=True)
    page = client.get(preferences_url(subscriber=subscriber))
    assert page.status_code == 200
    assert b"my-data/" in page.content and b"erase/" in page.content


def test_download_my_data_is_a_json_attachment(client):
    subscriber = SubscriberFactory(email="ada@example.org", active=True)
    url = preferences_url(subscriber=subscriber) + "my-data/"
    response = client.get(url)
    assert response.status_code == 200
    assert response["Content-Disposition"].startswith("attachment;")
    assert response["Cache-Control"] == "private, no-store"
    assert json.loads(response.content)["email"] == "ada@example.org"


def test_a_forged_token_gets_no_data(client):
    response = client.get("/preferences/forged-token/my-data/")
    assert response.status_code == 400
    assert response["Content-Type"].startswith("text/html")  # the error page, no JSON


def test_erase_asks_on_get_and_erases_on_post(client):
    subscriber = SubscriberFactory(email="ada@example.org", active=True)
    url = preferences_url(subscriber=subscriber) + "erase/"
    assert client.get(url).status_code == 200
    assert Subscriber.objects.filter(pk=subscriber.pk).exists()  # a scanner's GET erases nothing
    response = client.post(url)
    assert response.status_code == 200 and b"erased" in response.content
    assert not Subscriber.objects.filter(pk=subscriber.pk).exists()
    # The old link now names nobody.
    assert client.get(preferences_url(subscriber=subscriber)).status_code == 400
