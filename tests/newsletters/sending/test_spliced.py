"""Spliced messages: the same message Django builds, or None where splicing cannot give it."""

from __future__ import annotations

import email
import email.policy
import re

import pytest

from newsletters.models import Subscriber
from newsletters.rendering import RenderedIssue, filled_message, personal_values
from newsletters.sending import spliced
from newsletters.sending.mime import build_email, rendered_issue
from tests.factories import IssueItemFactory
from tests.newsletters.sending.helpers import active
from tests.newsletters.sending.mail_checks import check_newsletter_message

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _fresh_templates():
    spliced._templates.clear()
    yield
    spliced._templates.clear()


def both(rendered, subscriber, delivery_id=7, message_id="<m1@example.org>"):
    values = personal_values(rendered=rendered, subscriber=subscriber, delivery_id=delivery_id)
    raw = spliced.spliced_message(
        rendered=rendered, values=values, to=subscriber.email, message_id=message_id
    )
    built = build_email(
        message=filled_message(rendered=rendered, subscriber=subscriber, values=values),
        message_id=message_id,
    )
    return raw, built.message().as_bytes(linesep="\r\n")


def normalised(raw: bytes) -> bytes:
    boundary = re.search(rb'boundary="([^"]+)"', raw).group(1)
    return re.sub(rb"\r\nDate: [^\r]+", b"\r\nDate: -", raw.replace(boundary, b"BOUNDARY"))


def parsed(raw: bytes):
    return email.message_from_bytes(raw, policy=email.policy.default)


def test_spliced_message_is_the_message_django_builds(issue):
    IssueItemFactory(issue=issue, headline="Grüße from the regulator", order=1)
    rendered = rendered_issue(issue=issue, topic_ids=frozenset())
    assert rendered.links  # tracked links, signed per delivery
    first, second = active(2)

    for subscriber, delivery_id in ((first, 7), (second, 8)):
        raw, django_raw = both(rendered, subscriber, delivery_id=delivery_id)
        assert raw is not None
        check_newsletter_message(
            raw, to=subscriber.email, subject=rendered.subject, message_id="<m1@example.org>"
        )
        # Byte for byte, but for the Date and the MIME boundary (both differ per build).
        assert normalised(raw) == normalised(django_raw)
        ours, theirs = parsed(raw), parsed(django_raw)
        names = [n for n in theirs if n not in ("Date", "Content-Type")]
        assert [n for n in ours if n not in ("Date", "Content-Type")] == names
        for name in names:
            assert str(ours[name]) == str(theirs[name]), name
        assert ours["Date"].datetime is not None
        for mine, django_part in zip(ours.iter_parts(), theirs.iter_parts(), strict=True):
            assert mine.get_content_type() == django_part.get_content_type()
            assert mine["Content-Transfer-Encoding"] == django_part["Content-Transfer-Encoding"]
            assert mine.get_content() == django_part.get_content()
    # The second message came from the same cut copy: built once per rendered issue.
    assert len(spliced._templates) == 1


def test_an_address_that_is_not_plain_is_left_to_django(issue):
    [subscriber] = active(1)
    Subscriber.objects.filter(pk=subscriber.pk).update(email="zoë@example.org")
    subscriber.refresh_from_db()
    raw, _ = both(rendered_issue(issue=issue, topic_ids=frozenset()), subscriber)
    assert raw is None


def test_a_part_django_would_encode_quoted_printable_is_not_spliced(issue):
    # A line over 998 bytes: Django switches the part to quoted-printable.
    long_line = "word " * 250
    rendered = RenderedIssue(
        issue_id=issue.pk,
        topic_ids=frozenset(),
        subject="Weekly",
        preheader="",
        html="",
        text="",
        html_parts=(f'<p>{long_line}</p><a href="', "unsubscribe_url", '">x</a>'),
        text_parts=("Hello\n", "unsubscribe_url", "\n"),
    )
    [subscriber] = active(1)
    raw, django_raw = both(rendered, subscriber)
    assert b"quoted-printable" in django_raw
    assert raw is None


def test_a_line_that_a_recipients_value_pushes_past_998_bytes_is_not_spliced(issue):
    # With the short marker the line is within the limit; with a real link it is not,
    # so Django's own copy of that recipient's message is quoted-printable.
    rendered = RenderedIssue(
        issue_id=issue.pk,
        topic_ids=frozenset(),
        subject="Weekly",
        preheader="",
        html="",
        text="",
        html_parts=("<p>" + "x" * 940, "unsubscribe_url", "</p>"),
        text_parts=("Hello ", "unsubscribe_url", "\n"),
    )
    [subscriber] = active(1)
    raw, django_raw = both(rendered, subscriber)
    assert b"quoted-printable" in django_raw
    assert spliced.template_for(rendered, headers={}) is not None
    assert raw is None
