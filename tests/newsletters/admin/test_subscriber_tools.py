"""The subscriber admin's import page, filtered CSV export and erase action."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from newsletters.models import Delivery, Subscriber
from tests.factories import DeliveryFactory, SubscriberFactory

pytestmark = pytest.mark.django_db

FIXTURES = Path(__file__).resolve().parents[2] / "data" / "imports"


def upload(name: str) -> SimpleUploadedFile:
    return SimpleUploadedFile(name, (FIXTURES / name).read_bytes(), content_type="text/csv")


def test_changelist_links_to_import_and_export(admin_client):
    page = admin_client.get(reverse("admin:newsletters_subscriber_changelist"))
    assert b'href="import/"' in page.content and b'href="export/' in page.content


def test_upload_dry_run_shows_the_report_and_stores_nothing(admin_client):
    url = reverse("admin:newsletters_subscriber_import")
    assert admin_client.get(url).status_code == 200
    page = admin_client.post(url, {"file": upload("mailchimp_subscribed.csv"), "dry_run": "on"})
    assert page.status_code == 200
    text = page.content.decode()
    assert "Dry run" in text and "2 new" in text
    assert "line 4: noconsent@example.org: No consent record" in text
    assert not Subscriber.objects.exists()


def test_upload_imports(admin_client):
    url = reverse("admin:newsletters_subscriber_import")
    page = admin_client.post(url, {"file": upload("ghost.csv")})
    assert "Imported" in page.content.decode()
    assert Subscriber.objects.get(email="member@example.org").status == "active"


def test_an_unknown_file_is_refused_in_one_line(admin_client):
    url = reverse("admin:newsletters_subscriber_import")
    bad = SimpleUploadedFile("people.csv", b"name,city\nAda,London\n")
    page = admin_client.post(url, {"file": bad})
    assert "people.csv: No email column" in page.content.decode()


def test_export_follows_the_changelist_filter(admin_client):
    SubscriberFactory(email="a@example.org", active=True, name="@SUM(1)")
    SubscriberFactory(email="b@example.org")
    url = reverse("admin:newsletters_subscriber_export") + "?status__exact=active"
    response = admin_client.get(url)
    assert response.status_code == 200
    assert response["Content-Disposition"].startswith('attachment; filename="subscribers-')
    rows = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode())))
    assert [row[1] for row in rows[1:]] == ["a@example.org"]
    assert rows[1][2] == "'@SUM(1)"


def test_erase_action_deletes_and_anonymises(admin_client):
    delivery = DeliveryFactory(status=Delivery.Status.SENT, message_id="<m@x>")
    subscriber = delivery.subscriber
    admin_client.post(
        reverse("admin:newsletters_subscriber_changelist"),
        {"action": "erase_selected", "_selected_action": [subscriber.pk]},
    )
    assert not Subscriber.objects.filter(pk=subscriber.pk).exists()
    delivery.refresh_from_db()
    assert delivery.subscriber_id is None and delivery.message_id == ""


def test_import_needs_the_add_permission(client, django_user_model):
    user = django_user_model.objects.create_user("viewer", password="pw", is_staff=True)
    client.force_login(user)
    assert client.get(reverse("admin:newsletters_subscriber_import")).status_code == 403
