"""A test copy and a whole issue through every email backend a user gets: console, file
(the embedded default's .eml files and Django's own), locmem, SMTP (aiosmtpd on loopback)
and django-anymail (its test backend), each message checked for MIME structure and headers.
"""

from __future__ import annotations

import io
import re

import pytest
from django.core import mail
from django.core.management import call_command

from newsletters.models import Delivery, Issue
from newsletters.sending.batch import send_batch
from newsletters.sending.deliveries import finish_issue_if_done
from newsletters.sending.start import begin_issue_send
from newsletters.sending.test_copy import send_test_copy
from tests.factories import IssueFactory, IssueItemFactory
from tests.newsletters.sending.helpers import active
from tests.newsletters.sending.mail_checks import check_newsletter_message

pytestmark = pytest.mark.django_db

# A title long enough, and far enough from ASCII, that its encoded subject must fold.
TITLE = "Big Tech on global trial – lawsuits, data leaks, cryptocurrency and Überwachung"
SUBJECT = f"Weekly #209 – {TITLE}"
SEPARATOR = "-" * 79


@pytest.fixture
def titled_issue():
    issue = IssueFactory(number=209, title=TITLE)
    IssueItemFactory(issue=issue, headline="Export controls tighten", order=0)
    IssueItemFactory(issue=issue, headline="Grüße from the regulator", order=1)
    return issue


def send_whole_issue(issue: Issue) -> list[Delivery]:
    """Send ``issue`` from this process, as ``send_issue`` does; its deliveries."""
    start = begin_issue_send(issue=issue, enqueue=False)
    for batch in start.batches:
        send_batch(issue_id=issue.pk, delivery_ids=batch)
    finish_issue_if_done(issue=issue)
    issue.refresh_from_db()
    assert issue.status == Issue.Status.SENT
    deliveries = list(Delivery.objects.filter(issue=issue).select_related("subscriber"))
    assert {d.status for d in deliveries} == {Delivery.Status.SENT}
    return deliveries


def check_sent(raw_by_recipient: dict[str, bytes], deliveries: list[Delivery]) -> None:
    assert set(raw_by_recipient) == {d.subscriber.email for d in deliveries}
    for delivery in deliveries:
        raw = raw_by_recipient[delivery.subscriber.email]
        check_newsletter_message(
            raw, to=delivery.subscriber.email, subject=SUBJECT, message_id=delivery.message_id
        )


def console_messages(text: str) -> dict[str, bytes]:
    """The messages Django's console backend printed, by recipient."""
    found = {}
    for chunk in text.split(SEPARATOR):
        chunk = chunk.strip("\n")
        if not chunk.startswith("Content-Type"):
            continue
        raw = chunk.encode()
        to = re.search(rb"^To: (.+)$", raw, flags=re.M).group(1).decode()
        found[to] = raw
    return found


def files_by_recipient(folder) -> dict[str, bytes]:
    found = {}
    for path in sorted(folder.iterdir()):
        raw = path.read_bytes()
        to = re.search(rb"^To: (.+)$", raw, flags=re.M).group(1).decode().strip()
        found[to] = raw
    return found


# ------------------------------------------------------------------ console


def test_console_backend_test_copy_and_whole_issue(titled_issue, settings, capsys):
    settings.EMAIL_BACKEND = "django.core.mail.backends.console.EmailBackend"
    readers = active(3)

    message_id = send_test_copy(issue=titled_issue, email="me@example.org")
    printed = console_messages(capsys.readouterr().out)
    check_newsletter_message(
        printed["me@example.org"],
        to="me@example.org",
        subject=f"[Test] {SUBJECT}",
        message_id=message_id,
    )

    deliveries = send_whole_issue(titled_issue)
    printed = console_messages(capsys.readouterr().out)
    check_sent(printed, deliveries)
    assert len(printed) == len(readers)


# --------------------------------------------------------------------- file


def test_default_file_backend_writes_one_eml_per_message(titled_issue, settings, tmp_path):
    settings.EMAIL_BACKEND = "digest.core.mailbox.EmailBackend"
    settings.EMAIL_FILE_PATH = str(tmp_path)
    active(3)

    message_id = send_test_copy(issue=titled_issue, email="me@example.org")
    deliveries = send_whole_issue(titled_issue)

    files = sorted(tmp_path.iterdir())
    assert len(files) == 4 and all(path.suffix == ".eml" for path in files)
    # Newest last: the test copy went first.
    assert b"To: me@example.org" in files[0].read_bytes()
    found = files_by_recipient(tmp_path)
    check_newsletter_message(
        found.pop("me@example.org"),
        to="me@example.org",
        subject=f"[Test] {SUBJECT}",
        message_id=message_id,
    )
    check_sent(found, deliveries)


def test_djangos_own_file_backend_sends_too(titled_issue, settings, tmp_path):
    settings.EMAIL_BACKEND = "django.core.mail.backends.filebased.EmailBackend"
    settings.EMAIL_FILE_PATH = str(tmp_path)
    active(2)

    message_id = send_test_copy(issue=titled_issue, email="me@example.org")
    deliveries = send_whole_issue(titled_issue)

    text = "".join(path.read_text() for path in sorted(tmp_path.iterdir()))
    found = console_messages(text)
    check_newsletter_message(
        found.pop("me@example.org"),
        to="me@example.org",
        subject=f"[Test] {SUBJECT}",
        message_id=message_id,
    )
    check_sent(found, deliveries)


# ------------------------------------------------------------------- locmem


def test_locmem_backend_test_copy_and_whole_issue(titled_issue, settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    active(3)

    message_id = send_test_copy(issue=titled_issue, email="me@example.org")
    deliveries = send_whole_issue(titled_issue)

    found = {m.to[0]: m.message().as_bytes(linesep="\r\n") for m in mail.outbox}
    check_newsletter_message(
        found.pop("me@example.org"),
        to="me@example.org",
        subject=f"[Test] {SUBJECT}",
        message_id=message_id,
    )
    check_sent(found, deliveries)


# --------------------------------------------------------------------- SMTP


def test_smtp_backend_test_copy_and_whole_issue(titled_issue, smtp_sink):
    active(3)

    message_id = send_test_copy(issue=titled_issue, email="me@example.org")
    deliveries = send_whole_issue(titled_issue)

    found = {}
    for message in smtp_sink.messages:
        assert len(message.recipients) == 1
        # What travelled is CRLF throughout, as SMTP requires.
        assert b"\n" not in message.data.replace(b"\r\n", b"")
        found[message.recipients[0]] = message.data
    check_newsletter_message(
        found.pop("me@example.org"),
        to="me@example.org",
        subject=f"[Test] {SUBJECT}",
        message_id=message_id,
    )
    check_sent(found, deliveries)


# ------------------------------------------------------------------ anymail


def test_anymail_backend_test_copy_and_whole_issue(titled_issue, settings):
    settings.EMAIL_BACKEND = "anymail.backends.test.EmailBackend"
    settings.ANYMAIL = {}
    active(3)

    message_id = send_test_copy(issue=titled_issue, email="me@example.org")
    deliveries = send_whole_issue(titled_issue)

    assert len(mail.outbox) == 4
    by_recipient = {}
    for message in mail.outbox:
        params = message.anymail_test_params
        # What an ESP's API receives: the fields, not a MIME blob.
        assert [str(address) for address in params["to"]] == message.to
        assert "Digital Policy Weekly" in str(params["from"])
        assert params["text_body"] and "<html" in params["html_body"].lower()
        assert params["extra_headers"]["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
        assert params["extra_headers"]["Message-ID"] == message.extra_headers["Message-ID"]
        assert message.anymail_status.status == {"sent"}
        by_recipient[message.to[0]] = (params, message.message().as_bytes(linesep="\r\n"))
    params, raw = by_recipient.pop("me@example.org")
    assert params["subject"] == f"[Test] {SUBJECT}"
    assert params["extra_headers"]["Message-ID"] == message_id
    check_newsletter_message(
        raw, to="me@example.org", subject=f"[Test] {SUBJECT}", message_id=message_id
    )
    for delivery in deliveries:
        params, raw = by_recipient[delivery.subscriber.email]
        assert params["subject"] == SUBJECT
        assert params["extra_headers"]["Message-ID"] == delivery.message_id
    check_sent({to: raw for to, (_, raw) in by_recipient.items()}, deliveries)


# --------------------------------------------------------------- send_issue


def test_send_issue_test_copy_with_the_console_backend(titled_issue, settings, capsys):
    settings.EMAIL_BACKEND = "django.core.mail.backends.console.EmailBackend"
    out = io.StringIO()

    call_command("send_issue", "209", "--test", "me@example.org", stdout=out)

    assert "Sent a test copy of #209 to me@example.org" in out.getvalue()
    printed = console_messages(capsys.readouterr().out)
    check_newsletter_message(
        printed["me@example.org"], to="me@example.org", subject=f"[Test] {SUBJECT}"
    )


def test_send_issue_sends_everyone_with_the_default_file_backend(
    titled_issue, settings, tmp_path, capsys
):
    settings.EMAIL_BACKEND = "digest.core.mailbox.EmailBackend"
    settings.EMAIL_FILE_PATH = str(tmp_path)
    readers = active(4)
    out = io.StringIO()

    call_command("send_issue", "209", stdout=out)

    assert "4 sent, 0 failed, 0 waiting for a retry, of 4" in out.getvalue()
    assert sorted(files_by_recipient(tmp_path)) == sorted(r.email for r in readers)
    console = capsys.readouterr().out
    # One console line per message, naming the recipient and the file.
    assert sum(".eml" in line for line in console.splitlines()) == 4
