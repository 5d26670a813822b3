"""Checks every sending test applies to a message as it left a backend: it parses under
Python's strict email policy, has the newsletter's MIME structure, and its headers keep
the RFCs' line limits (RFC 5322: 78 characters where a line can be folded, 998 always;
RFC 2047: encoded-words of at most 75 characters)."""

from __future__ import annotations

import email
import email.policy
import re
from email.message import EmailMessage

ENCODED_WORD = re.compile(r"=\?[^?\s]+\?[bBqQ]\?[^?\s]*\?=")


def header_lines(raw: bytes) -> list[str]:
    """The raw header lines of ``raw`` (continuation lines included), line endings cut."""
    head = re.split(rb"\r?\n\r?\n", raw, maxsplit=1)[0]
    return head.decode("ascii").splitlines()


def check_header_lines(raw: bytes) -> None:
    """Every header line within RFC 5322's limits; every encoded-word within RFC 2047's."""
    for line in header_lines(raw):
        assert len(line) <= 998, line
        # A line longer than 78 is allowed only when it has nowhere to fold: one
        # unbreakable token (a long URL, say) after the field name or the fold.
        if len(line) > 78:
            body = line.split(":", 1)[1] if not line[:1].isspace() else line
            assert len(body.split()) == 1, f"foldable header line of {len(line)}: {line!r}"
        for word in ENCODED_WORD.findall(line):
            assert len(word) <= 75, f"encoded-word of {len(word)}: {word!r}"


def parse_strict(raw: bytes) -> EmailMessage:
    """``raw`` parsed with ``email.policy.strict`` (any defect raises)."""
    return email.message_from_bytes(raw, policy=email.policy.strict)


def check_newsletter_message(
    raw: bytes, *, to: str, subject: str, message_id: str | None = None
) -> EmailMessage:
    """Assert ``raw`` is a well-formed newsletter message for ``to``; return it parsed."""
    check_header_lines(raw)
    # The MIME parts' own headers keep the same limits.
    for part_head in re.findall(rb"\r?\n--[^\r\n]+\r?\n(.*?)\r?\n\r?\n", raw, flags=re.S):
        check_header_lines(part_head + b"\n\n")
    message = parse_strict(raw)
    assert message.get_content_type() == "multipart/alternative"
    parts = list(message.iter_parts())
    assert [part.get_content_type() for part in parts] == ["text/plain", "text/html"]
    assert all(part.get_content_charset() == "utf-8" for part in parts)
    assert message["Subject"] == subject
    assert message["To"] == to
    assert message["From"]
    assert message["Date"].datetime is not None
    assert message["MIME-Version"] == "1.0"
    if message_id is not None:
        assert message["Message-ID"] == message_id
    # (Folded before the long URL: the unfolded value keeps the fold's space.)
    assert message["List-Unsubscribe"].strip().startswith("<http")
    assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert message["List-Id"]
    assert "unsubscribe" in parts[1].get_content()
    return message
