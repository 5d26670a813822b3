"""Reading CSV files: encodings, separators, line numbers, limits."""

from __future__ import annotations

import codecs
import io

import pytest

from newsletters.subscribers.csvreading import (
    FileTooLarge,
    detect_delimiter,
    detect_encoding,
    read_csv,
)


@pytest.mark.parametrize(
    ("head", "expected"),
    [
        (codecs.BOM_UTF8 + b"email\n", "utf-8-sig"),
        ("email\n".encode("utf-16"), "utf-16"),
        ("email,name\n".encode("utf-16-le"), "utf-16-le"),
        ("email,name\n".encode("utf-16-be"), "utf-16-be"),
        ("email,name\nzoë@example.org\n".encode(), "utf-8"),
        ("email,name\nzoë@example.org\n".encode("latin-1"), "cp1252"),
        # A multi-byte character cut at the end of the sniffed start is still UTF-8.
        ("email,é".encode()[:-1], "utf-8"),
    ],
)
def test_encoding_is_detected(head, expected):
    assert detect_encoding(head)[0] == expected


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        ("email,name,topics", ","),
        ("email;name;topics", ";"),
        ("email\tname", "\t"),
        ('"Last, First";email;x', ";"),  # the comma is inside quotes
        ("email", ","),
    ],
)
def test_separator_is_detected(line, expected):
    assert detect_delimiter(line) == expected


def test_records_carry_the_line_they_start_on():
    content = b'email,note\n\na@example.org,"two\nlines"\nb@example.org,x\n'
    csv_file = read_csv(io.BytesIO(content))
    records = list(csv_file.records)
    assert [(r.line, r.values) for r in records] == [
        (3, ["a@example.org", "two\nlines"]),
        (5, ["b@example.org", "x"]),
    ]


def test_a_stream_that_grows_past_the_limit_stops_the_read():
    content = b"email\n" + b"a@example.org\n" * 20_000
    stream = io.BytesIO(content)
    csv_file = read_csv(stream, max_bytes=len(content))
    stream.seek(0, io.SEEK_END)
    stream.write(b"b@example.org\n" * 20_000)  # appended after the size check
    stream.seek(len(b"email\n"))
    with pytest.raises(FileTooLarge):
        list(csv_file.records)


def test_the_callers_stream_stays_open_after_release():
    stream = io.BytesIO(b"email\na@example.org\n")
    csv_file = read_csv(stream)
    list(csv_file.records)
    csv_file.release()
    del csv_file
    assert stream.tell() > 0  # not closed by the text wrapper's finaliser
