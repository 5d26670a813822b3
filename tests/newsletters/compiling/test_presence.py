"""Presence on the compile screen from each editor's heartbeat."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import User

from newsletters.compiling.presence import PRESENT_SECONDS, heartbeat, presence_line

pytestmark = pytest.mark.django_db


def test_each_editor_sees_the_others_until_their_heartbeat_stops():
    ana = User.objects.create_user("ana", first_name="Ana")
    ben = User.objects.create_user("ben")
    assert heartbeat(issue_id=1, user=ana, now=1000.0) == []
    assert heartbeat(issue_id=1, user=ben, now=1005.0) == ["Ana"]
    assert heartbeat(issue_id=1, user=ana, now=1010.0) == ["ben"]
    assert heartbeat(issue_id=2, user=ana, now=1010.0) == []  # another issue
    assert heartbeat(issue_id=1, user=ana, now=1005.0 + PRESENT_SECONDS + 1) == []


def test_presence_line_names_the_others():
    assert presence_line([]) == ""
    assert presence_line(["Ana"]) == "Ana is editing this issue too."
    assert presence_line(["Ana", "Ben", "Chi"]) == "Ana, Ben and Chi are editing this issue too."
