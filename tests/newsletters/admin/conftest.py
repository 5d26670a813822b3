"""Who uses the newsletter admin in these tests: an editor, a junior, a superuser."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Group, Permission, User


@pytest.fixture
def editor(db) -> User:
    user = User.objects.create_user(
        "editor", email="editor@example.org", password="pw-editor-1", is_staff=True
    )
    user.groups.add(Group.objects.get(name="Editors"))
    return user


@pytest.fixture
def junior(db) -> User:
    """Staff who may compile issues but not schedule or send them."""
    user = User.objects.create_user(
        "junior", email="junior@example.org", password="pw-junior-1", is_staff=True
    )
    user.user_permissions.add(
        *Permission.objects.filter(
            content_type__app_label="newsletters",
            codename__in=[
                "view_issue",
                "change_issue",
                "add_issue",
                "change_issueitem",
                "view_issueitem",
                "add_issueitem",
                "delete_issueitem",
            ],
        )
    )
    return user


@pytest.fixture
def editor_client(client, editor):
    client.force_login(editor)
    return client


@pytest.fixture
def admin_client(client):
    user = User.objects.create_superuser("boss", "boss@example.org", "pw-boss-1")
    client.force_login(user)
    return client
