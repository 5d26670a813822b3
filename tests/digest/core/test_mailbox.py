"""The embedded default's email backend: one .eml per message, newest last, one line each."""

from __future__ import annotations

import email
import email.policy
import io

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.core.mail import EmailMessage, EmailMultiAlternatives

from digest.core.mailbox import EmailBackend


def test_each_message_gets_its_own_file_newest_last(tmp_path):
    console = io.StringIO()
    backend = EmailBackend(file_path=str(tmp_path), console=console)
    messages = [
        EmailMessage(f"Note {n} – ünïcode", f"Body {n}", "from@example.org", [f"r{n}@example.org"])
        for n in range(25)
    ]

    assert backend.send_messages(messages) == 25

    files = sorted(tmp_path.iterdir())
    assert [path.suffix for path in files] == [".eml"] * 25
    parsed = [
        email.message_from_bytes(path.read_bytes(), policy=email.policy.strict) for path in files
    ]
    assert [m["To"] for m in parsed] == [f"r{n}@example.org" for n in range(25)]
    assert parsed[3]["Subject"] == "Note 3 – ünïcode"
    lines = console.getvalue().splitlines()
    assert len(lines) == 25
    assert lines[0].startswith("Email to r0@example.org: 'Note 0 – ünïcode' saved as ")
    assert lines[0].endswith(files[0].name)


def test_a_multipart_message_is_written_whole(tmp_path):
    message = EmailMultiAlternatives("Hi", "plain", "from@example.org", ["to@example.org"])
    message.attach_alternative("<p>html</p>", "text/html")

    EmailBackend(file_path=str(tmp_path), console=io.StringIO()).send_messages([message])

    (path,) = tmp_path.iterdir()
    parsed = email.message_from_bytes(path.read_bytes(), policy=email.policy.strict)
    assert [p.get_content_type() for p in parsed.iter_parts()] == ["text/plain", "text/html"]


def test_message_without_recipients_writes_nothing(tmp_path):
    backend = EmailBackend(file_path=str(tmp_path), console=io.StringIO())

    assert backend.send_messages([EmailMessage("Hi", "x", "from@example.org", [])]) == 0
    assert not list(tmp_path.iterdir())


def test_folder_that_cannot_be_created_is_refused_before_sending(tmp_path):
    (tmp_path / "file").write_text("x")

    with pytest.raises(ImproperlyConfigured, match="Could not create directory"):
        EmailBackend(file_path=str(tmp_path / "file" / "mail"))


def test_folder_that_is_a_file_is_refused(tmp_path):
    target = tmp_path / "mail"
    target.write_text("not a folder")

    with pytest.raises(ImproperlyConfigured, match="not a directory"):
        EmailBackend(file_path=str(target))


def test_write_failure_leaves_no_partial_file(tmp_path, monkeypatch):
    backend = EmailBackend(file_path=str(tmp_path), console=io.StringIO())
    message = EmailMessage("Hi", "x", "from@example.org", ["to@example.org"])
    real_replace = type(tmp_path).replace

    def failing_replace(self, target):
        raise OSError("disk full")

    monkeypatch.setattr(type(tmp_path), "replace", failing_replace)
    with pytest.raises(OSError, match="disk full"):
        backend.send_messages([message])
    monkeypatch.setattr(type(tmp_path), "replace", real_replace)
    assert not list(tmp_path.iterdir())
