"""Sign-in throttling (django-axes, configured in digest/settings.py): per account and
per address, a clear lock-out page, and an unlock in the admin."""

from __future__ import annotations

import pytest
from axes.models import AccessAttempt
from django.contrib.auth import get_user_model
from django.test import Client

pytestmark = pytest.mark.django_db

LOGIN = "/admin/login/?next=/admin/"
PASSWORD = "correct horse battery staple"  # noqa: S105


@pytest.fixture
def editor():
    return get_user_model().objects.create_user(
        "editor", password=PASSWORD, is_staff=True, is_superuser=True
    )


def sign_in(client: Client, username: str, password: str, address: str = "192.0.2.10"):
    return client.post(LOGIN, {"username": username, "password": password}, REMOTE_ADDR=address)


def test_wrong_passwords_lock_the_account_even_for_the_right_password(editor, settings):
    client = Client()
    answers = [
        sign_in(client, "editor", f"wrong-{attempt}", f"198.51.100.{attempt}").status_code
        for attempt in range(settings.AXES_FAILURE_LIMIT)
    ]
    assert answers[:-1] == [200] * (settings.AXES_FAILURE_LIMIT - 1)

    response = sign_in(client, "editor", PASSWORD, "203.0.113.99")

    assert response.status_code == 429
    page = response.content.decode()
    assert "Signing in is locked" in page and "ask another administrator" in page
    assert "_auth_user_id" not in client.session


def test_wrong_passwords_from_one_address_lock_that_address(editor, settings):
    get_user_model().objects.create_user("other", password=PASSWORD, is_staff=True)
    client = Client()
    for attempt in range(settings.AXES_FAILURE_LIMIT):
        sign_in(client, f"guess-{attempt}", "wrong", "192.0.2.66")

    assert sign_in(client, "other", PASSWORD, "192.0.2.66").status_code == 429
    assert sign_in(Client(), "other", PASSWORD, "192.0.2.67").status_code == 302


def test_an_administrator_unlocks_the_account_in_the_admin(editor, admin_client, settings):
    for attempt in range(settings.AXES_FAILURE_LIMIT):
        sign_in(Client(), "editor", f"wrong-{attempt}")
    assert sign_in(Client(), "editor", PASSWORD).status_code == 429
    attempts = list(AccessAttempt.objects.values_list("pk", flat=True))

    listing = admin_client.get("/admin/axes/accessattempt/")
    assert listing.status_code == 200 and "editor" in listing.content.decode()
    admin_client.post(
        "/admin/axes/accessattempt/",
        {"action": "delete_selected", "_selected_action": attempts, "post": "yes"},
    )

    assert not AccessAttempt.objects.exists()
    assert sign_in(Client(), "editor", PASSWORD).status_code == 302


def test_a_good_sign_in_resets_the_count(editor, settings):
    client = Client()
    for attempt in range(settings.AXES_FAILURE_LIMIT - 1):
        sign_in(client, "editor", f"wrong-{attempt}")
    assert sign_in(client, "editor", PASSWORD).status_code == 302
    for attempt in range(settings.AXES_FAILURE_LIMIT - 1):
        sign_in(Client(), "editor", f"wrong-again-{attempt}")

    assert sign_in(Client(), "editor", PASSWORD).status_code == 302
