"""The newsletter message: its MIME form as parsed back, encodings, header checks."""

import pytest

from newsletters.sending import mime
from tests.newsletters.sending.mail_checks import check_header_lines, header_lines, parse_strict

pytestmark = pytest.mark.django_db


def _newsletter_email(**overrides):
    from newsletters.rendering import PersonalMessage

    fields = {
        "to": "reader@example.org",
        "subject": "Weekly #3 – Über alles",
        "html": "<p>Grüße</p>\n<p>second line</p>",
        "text": "Grüße\nsecond line\n",
        "headers": {"List-Unsubscribe": "<https://x.example/u/1/>"},
        "unsubscribe_url": "https://x.example/u/1/",
        "preferences_url": "https://x.example/p/1/",
    }
    fields.update(overrides)
    return mime.build_email(message=PersonalMessage(**fields), message_id="<m1@example.org>")


def parse(email_message):
    import email as email_lib
    import email.policy

    return email_lib.message_from_bytes(
        email_message.message().as_bytes(linesep="\r\n"), policy=email.policy.default
    )


def test_newsletter_email_parses_as_the_same_message():
    message = parse(_newsletter_email())
    assert message["Subject"] == "Weekly #3 – Über alles"
    assert message["To"] == "reader@example.org"
    assert message["Message-ID"] == "<m1@example.org>"
    assert message["List-Unsubscribe"] == "<https://x.example/u/1/>"
    plain = message.get_body(("plain",)).get_content()
    assert plain.replace("\r\n", "\n") == "Grüße\nsecond line\n"
    assert "<p>Grüße</p>" in message.get_body(("html",)).get_content()


def test_newsletter_email_encodes_overlong_lines():
    long_line = "word " * 400
    email_message = _newsletter_email(html=f"<p>{long_line}</p>")
    raw = email_message.message().as_bytes(linesep="\r\n")
    assert max(len(line) for line in raw.split(b"\r\n")) <= 998
    assert long_line in parse(email_message).get_body(("html",)).get_content()


def test_newsletter_email_refuses_line_breaks_in_headers():
    from django.core.mail import BadHeaderError

    with pytest.raises(BadHeaderError):
        _newsletter_email(headers={"List-Unsubscribe": "<https://x>\r\nBcc: x@y.z"}).message()
    with pytest.raises(BadHeaderError):
        _newsletter_email(subject="Hello\r\nBcc: x@y.z").message()


def test_long_non_ascii_subject_folds_into_short_encoded_words():
    # The shape of a titled issue: today's one 174-character encoded-word, before the fix.
    subject = (
        "Weekly #209 – Big Tech on global trial: lawsuits, data leaks, cryptocurrency – Ünïcode"
    )
    raw = _newsletter_email(subject=subject).message().as_bytes(linesep="\r\n")

    check_header_lines(raw)
    assert parse_strict(raw)["Subject"] == subject
    subject_lines = [line for line in header_lines(raw) if line.startswith(("Subject:", " =?"))]
    assert len(subject_lines) > 1


def test_long_ascii_subject_folds_at_spaces():
    subject = "Weekly #210 " + "policy " * 20
    raw = _newsletter_email(subject=subject.strip()).message().as_bytes(linesep="\r\n")

    check_header_lines(raw)
    assert parse_strict(raw)["Subject"] == subject.strip()


def test_newsletter_email_is_djangos_message_with_a_real_mime_message():
    from django.core.mail import EmailMultiAlternatives

    email_message = _newsletter_email()
    built = email_message.message()

    assert isinstance(email_message, EmailMultiAlternatives)
    # What Django's console backend asks of it (it failed on the old stand-in).
    assert built.get_charset() is None and built.is_multipart()
    # Built once: the early check and the backend share it.
    assert email_message.message() is built


def test_smtp_backend_sends_what_message_returns(smtp_sink):
    email_message = _newsletter_email()
    connection = mime.newsletter_connection()

    assert isinstance(connection, mime.NewsletterSMTPBackend)
    connection.send_messages([email_message])

    (received,) = smtp_sink.messages
    assert received.recipients == ["reader@example.org"]
    assert received.mail_from == "weekly@localhost"
    assert received.data.rstrip(b"\r\n") == email_message.message().as_bytes(
        linesep="\r\n"
    ).rstrip(b"\r\n")


@pytest.mark.parametrize(
    "data",
    [
        b"",
        b".",
        b".start\r\nmiddle\r\n.\r\n..two\r\nend.\r\n",
        b"a\n.b\r.c\r\n.d\n\n..",
        b"no periods at all\r\n",
    ],
)
def test_quote_periods_is_what_smtplib_sends(data):
    import smtplib

    from newsletters.sending.mime import quote_periods

    assert quote_periods(data) == smtplib._quote_periods(data)
