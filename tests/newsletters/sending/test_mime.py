"""The newsletter message: its MIME form as parsed back, encodings, header checks."""

import pytest

from newsletters.sending import mime

pytestmark = pytest.mark.django_db


def _prepared(**overrides):
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


def test_prepared_email_parses_as_the_same_message():
    message = parse(_prepared())
    assert message["Subject"] == "Weekly #3 – Über alles"
    assert message["To"] == "reader@example.org"
    assert message["Message-ID"] == "<m1@example.org>"
    assert message["List-Unsubscribe"] == "<https://x.example/u/1/>"
    plain = message.get_body(("plain",)).get_content()
    assert plain.replace("\r\n", "\n") == "Grüße\nsecond line\n"
    assert "<p>Grüße</p>" in message.get_body(("html",)).get_content()


def test_prepared_email_uses_base64_for_overlong_lines():
    long_line = "word " * 400
    email_message = _prepared(html=f"<p>{long_line}</p>")
    raw = email_message.message().as_bytes(linesep="\r\n")
    assert max(len(line) for line in raw.split(b"\r\n")) <= 998
    assert long_line in parse(email_message).get_body(("html",)).get_content()


def test_prepared_email_refuses_line_breaks_in_headers():
    from django.core.mail import BadHeaderError

    with pytest.raises(BadHeaderError):
        _prepared(headers={"List-Unsubscribe": "<https://x>\r\nBcc: x@y.z"}).message()
    with pytest.raises(BadHeaderError):
        _prepared(subject="Hello\r\nBcc: x@y.z").message()
