"""/r/<token> over HTTP: a redirect for the issue's links, 404 for anything else (never an
open redirect), HEAD counted as a scanner, nothing cached."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from newsletters.clicks import make_token
from newsletters.models import Click, Delivery, IssueLink
from tests.factories import DeliveryFactory

pytestmark = pytest.mark.django_db

BROWSER = "Mozilla/5.0 (X11; Linux x86_64) Firefox/125.0"


@pytest.fixture
def token():
    delivery = DeliveryFactory(
        status=Delivery.Status.SENT, sent_at=timezone.now() - timedelta(hours=1)
    )
    link = IssueLink.objects.create(issue=delivery.issue, url="https://news.example.org/a/")
    return make_token(delivery_id=delivery.pk, link_id=link.pk)


def test_redirects_to_the_link(client, token):
    response = client.get(f"/r/{token}", HTTP_USER_AGENT=BROWSER)
    assert response.status_code == 302
    assert response["Location"] == "https://news.example.org/a/"
    assert response["Cache-Control"] == "no-store"
    assert response["Referrer-Policy"] == "no-referrer"
    assert Click.objects.filter(is_scanner=False).count() == 1


def test_head_is_a_scanner(client, token):
    assert client.head(f"/r/{token}", HTTP_USER_AGENT=BROWSER).status_code == 302
    assert Click.objects.filter(is_scanner=True).count() == 1


@pytest.mark.parametrize(
    "path", ["/r/1.2", "/r/https:%2F%2Fevil.example%2F", "/r/..%2F..%2Fadmin"]
)
def test_no_open_redirect(client, token, path):
    response = client.get(path, HTTP_USER_AGENT=BROWSER)
    assert response.status_code == 404
    assert "Location" not in response


def test_post_is_not_allowed(client, token):
    assert client.post(f"/r/{token}").status_code == 405


def test_the_pixel_is_a_gif(client):
    response = client.get("/o/1.0.abc.gif")
    assert response.status_code == 200 and response["Content-Type"] == "image/gif"
