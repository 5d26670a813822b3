"""Building a newsletter message: the rendered issue per topic selection, the
per-recipient email, its Message-ID domain, and the connection it goes out on.
"""

from __future__ import annotations

import base64
import functools
import re
import secrets
import smtplib
from email.header import Header
from email.utils import formatdate, parseaddr

from django.conf import settings
from django.core.mail import BadHeaderError, EmailMultiAlternatives, get_connection
from django.core.mail.backends.smtp import EmailBackend as SMTPBackend
from django.core.mail.message import sanitize_address

from newsletters.models import Issue
from newsletters.rendering import (
    PersonalMessage,
    RenderedIssue,
    render_issue_email,
)

_render_cache: dict[tuple, RenderedIssue] = {}


_RENDER_CACHE_SIZE = 64


def rendered_issue(*, issue: Issue, topic_ids: frozenset[int]) -> RenderedIssue:
    """The rendered email for a topic selection, rendered once per process."""
    key = (issue.pk, issue.updated_at, topic_ids)
    rendered = _render_cache.get(key)
    if rendered is None:
        if len(_render_cache) >= _RENDER_CACHE_SIZE:
            _render_cache.clear()
        rendered = render_issue_email(issue=issue, topics=topic_ids)
        _render_cache[key] = rendered
    return rendered


_message_id_domain: str | None = None


def message_id_domain() -> str:
    global _message_id_domain
    if _message_id_domain is None:
        address = parseaddr(settings.DEFAULT_FROM_EMAIL)[1]
        _message_id_domain = address.rpartition("@")[2] or "localhost"
    return _message_id_domain


class _SerialisedMessage:
    """What ``EmailMessage.message()`` returns, as far as Django's backends use it:
    ``as_bytes``/``as_string`` of a finished message."""

    def __init__(self, data: bytes) -> None:
        self._data = data  # CRLF line endings

    def as_bytes(self, unixfrom: bool = False, linesep: str = "\n") -> bytes:
        return self._data if linesep == "\r\n" else self._data.replace(b"\r\n", b"\n")

    def as_string(self, unixfrom: bool = False, linesep: str = "\n") -> str:
        return self.as_bytes(linesep=linesep).decode("utf-8")


@functools.lru_cache(maxsize=32)
def _encoded_header(value: str) -> str:
    """RFC 2047 form of a header value (ASCII values come back unchanged)."""
    if value.isascii():
        return value
    return Header(value, "utf-8", maxlinelen=998).encode()


@functools.lru_cache(maxsize=8)
def _encoded_from(from_email: str) -> str:
    return sanitize_address(from_email, "utf-8")


_PLAIN_ADDRESS = re.compile(r"[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+@[A-Za-z0-9.-]+")


def _encoded_address(address: str) -> str:
    # Addresses from the subscribe form are plain ASCII already; anything else
    # (admin edits, imports) goes through Django's full check.
    if _PLAIN_ADDRESS.fullmatch(address):
        return address
    return sanitize_address(address, "utf-8")


def _mime_body(text: str) -> tuple[str, bytes]:
    """(Content-Transfer-Encoding, CRLF body): 8bit when every line fits SMTP's
    998-octet limit, else base64."""
    if "\r" in text:
        text = text.replace("\r\n", "\n").replace("\r", "\n")
    data = text.encode()
    if max(map(len, data.split(b"\n"))) <= 998:
        return "8bit", data.replace(b"\n", b"\r\n")
    return "base64", base64.encodebytes(data).replace(b"\n", b"\r\n")


class PreparedEmail(EmailMultiAlternatives):
    """A newsletter message that any Django email backend can send.

    Backends that read the attributes (anymail, locmem) see an ordinary
    ``EmailMultiAlternatives``; ``message()`` serialises the two-part MIME message
    directly instead of through the ``email`` package, because that was the largest
    per-recipient cost of a send (the headers that repeat are encoded once per issue).
    """

    def message(self) -> _SerialisedMessage:
        # Built once: the send validates it early, the backend then reuses it.
        if self._serialised is None:
            self._serialised = self._serialise()
        return self._serialised

    _serialised: _SerialisedMessage | None = None

    def _serialise(self) -> _SerialisedMessage:
        headers = {
            "Content-Type": f'multipart/alternative; boundary="{self._boundary}"',
            "MIME-Version": "1.0",
            "Subject": _encoded_header(self.subject),
            "From": _encoded_from(self.from_email),
            "To": ", ".join(_encoded_address(address) for address in self.to),
            "Date": formatdate(localtime=False),
            **{name: _encoded_header(value) for name, value in self.extra_headers.items()},
        }
        lines = []
        for name, value in headers.items():
            if "\r" in value or "\n" in value:
                raise BadHeaderError(f"Header values can't contain newlines ({name})")
            lines.append(f"{name}: {value}")
        head = ("\r\n".join(lines) + "\r\n\r\n").encode("ascii")
        parts = [head]
        for content, subtype in ((self.body, "plain"), *self.alternatives):
            subtype = subtype.split("/", 1)[-1]
            encoding, data = _mime_body(content)
            parts.append(
                (
                    f"--{self._boundary}\r\n"
                    f'Content-Type: text/{subtype}; charset="utf-8"\r\n'
                    f"Content-Transfer-Encoding: {encoding}\r\n\r\n"
                ).encode("ascii")
            )
            parts.append(data)
            parts.append(b"\r\n")
        parts.append(f"--{self._boundary}--\r\n".encode("ascii"))
        return _SerialisedMessage(b"".join(parts))

    @functools.cached_property
    def _boundary(self) -> str:
        return "=_" + secrets.token_hex(16)


class NewsletterSMTPBackend(SMTPBackend):
    """Django's SMTP backend, minus re-parsing the addresses of a ``PreparedEmail``
    for every message (they were checked and encoded when it was built); that parsing
    was the largest per-message cost left in a send. Other messages go the usual way.
    """

    def _send(self, email_message) -> bool:
        if not isinstance(email_message, PreparedEmail):
            return super()._send(email_message)
        recipients = [_encoded_address(address) for address in email_message.recipients()]
        if not recipients:
            return False
        data = email_message.message().as_bytes(linesep="\r\n")
        try:
            self.connection.sendmail(_encoded_from(email_message.from_email), recipients, data)
        except smtplib.SMTPException:
            if not self.fail_silently:
                raise
            return False
        return True


def newsletter_connection():
    """A connection from the configured email backend; Django's own SMTP backend is
    swapped for ``NewsletterSMTPBackend`` (same settings, same behaviour)."""
    if settings.EMAIL_BACKEND == "django.core.mail.backends.smtp.EmailBackend":
        return NewsletterSMTPBackend(fail_silently=False)
    return get_connection(fail_silently=False)


def build_email(
    *, message: PersonalMessage, message_id: str, connection=None
) -> EmailMultiAlternatives:
    """A multipart/alternative email (text, then HTML) with the message's own headers."""
    email = PreparedEmail(
        subject=message.subject,
        body=message.text,
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=[message.to],
        headers={**message.headers, "Message-ID": message_id},
        connection=connection,
    )
    email.attach_alternative(message.html, "text/html")
    return email
