"""The export_subscribers command: CSV to stdout or a file, optionally by status."""

from __future__ import annotations

import csv
import io
from io import StringIO

import pytest
from django.core.management import call_command

from tests.factories import SubscriberFactory

pytestmark = pytest.mark.django_db


def test_export_to_stdout_is_only_the_csv():
    SubscriberFactory(email="a@example.org", active=True, name="-1+1")
    out = StringIO()
    call_command("export_subscribers", stdout=out)
    rows = list(csv.reader(io.StringIO(out.getvalue())))
    assert rows[0][:3] == ["id", "email", "name"]
    assert rows[1][1:3] == ["a@example.org", "'-1+1"]


def test_export_to_a_file_by_status_says_how_many(tmp_path):
    SubscriberFactory(email="a@example.org", active=True)
    SubscriberFactory(email="b@example.org")
    target = tmp_path / "subscribers.csv"
    out = StringIO()
    call_command("export_subscribers", "--output", str(target), "--status", "active", stdout=out)
    assert "Wrote 1 subscribers" in out.getvalue()
    rows = list(csv.reader(target.open(newline="")))
    assert [row[1] for row in rows[1:]] == ["a@example.org"]
