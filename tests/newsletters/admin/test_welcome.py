"""The welcome email's admin page: one row, placeholders checked on save."""

from __future__ import annotations

import pytest
from django.urls import reverse

from newsletters.models import WelcomeEmail

pytestmark = pytest.mark.django_db


def test_editors_save_a_template_and_cannot_add_a_second(admin_client):
    url = reverse("admin:newsletters_welcomeemail_add")
    response = admin_client.post(
        url, {"subject": "Welcome, {{ name }}", "html": "<p>Hi</p>", "text": ""}
    )
    assert response.status_code == 302
    assert WelcomeEmail.objects.get().subject == "Welcome, {{ name }}"
    second = admin_client.post(url, {"subject": "Another", "html": "<p>Hi</p>", "text": ""})
    assert "There is a welcome email already" in second.content.decode()
    assert WelcomeEmail.objects.count() == 1


def test_a_template_that_does_not_parse_is_refused(admin_client):
    url = reverse("admin:newsletters_welcomeemail_add")
    response = admin_client.post(url, {"subject": "Hi {% if %}", "html": "", "text": "x"})
    assert response.status_code == 200
    assert "This does not parse" in response.content.decode()
    assert not WelcomeEmail.objects.exists()
