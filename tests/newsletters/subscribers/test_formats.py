"""Which tool an export's header line comes from, and dates as those tools write them."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from newsletters.subscribers.formats import RowError, detect_format, normalise_header, parse_when


@pytest.mark.parametrize(
    ("header", "key"),
    [
        ("Email Address,First Name,Last Name,MEMBER_RATING,OPTIN_TIME,LEID,EUID", "mailchimp"),
        ("email,active_subscription,expiry,plan,email_disabled,created_at", "substack"),
        ("id,email,name,note,subscribed_to_emails,complimentary_plan,labels", "ghost"),
        ("email,creation_date,subscriber_type,tags,notes,metadata", "buttondown"),
        ("email_address,creation_date,tags", "buttondown"),
        ("uuid,email,name,attributes,status,created_at,updated_at", "listmonk"),
        ("email,name,topics", "plain"),
        ("E-mail,Name", "plain"),
    ],
)
def test_each_tools_header_is_recognised(header, key):
    export_format = detect_format(normalise_header(header.split(",")))
    assert export_format is not None and export_format.key == key


def test_a_header_without_an_email_column_is_no_format():
    assert detect_format(normalise_header(["name", "city"])) is None


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("2023-03-01 09:15:02", datetime(2023, 3, 1, 9, 15, 2, tzinfo=UTC)),
        ("2024-02-11T16:20:44.000Z", datetime(2024, 2, 11, 16, 20, 44, tzinfo=UTC)),
        ("2023-11-02 14:03:22.114000+00:00", datetime(2023, 11, 2, 14, 3, 22, 114000, tzinfo=UTC)),
        ("03/01/2023 09:15", datetime(2023, 3, 1, 9, 15, tzinfo=UTC)),
        ("2024-01-01", datetime(2024, 1, 1, tzinfo=UTC)),
        ("", None),
    ],
)
def test_dates_as_the_tools_write_them(value, expected):
    assert parse_when(value, column="x") == expected


def test_a_date_that_is_not_one_is_a_row_error():
    with pytest.raises(RowError, match="'yesterday' is not a date"):
        parse_when("yesterday", column="created_at")
