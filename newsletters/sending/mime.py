"""Building a newsletter message: the rendered issue per topic selection, the
per-recipient email, its Message-ID domain, and the connection it goes out on.
"""

from __future__ import annotations

import functools
import ipaddress
import re
import smtplib
import socket
import threading
from email.header import Header
from email.utils import parseaddr

from django.conf import settings
from django.core.mail import EmailMultiAlternatives, get_connection
from django.core.mail.backends.smtp import EmailBackend as SMTPBackend
from django.core.mail.message import (
    SafeMIMEMultipart,
    forbid_multi_line_headers,
    sanitize_address,
)

from newsletters.link_tracking import track_links
from newsletters.models import Issue, Subscriber
from newsletters.rendering import PersonalMessage, RenderedIssue, render_issue_email

_render_cache: dict[tuple, RenderedIssue] = {}
_RENDER_CACHE_SIZE = 64
_render_lock = threading.RLock()


def cached_rendered_issue(*, issue: Issue, topic_ids: frozenset[int]) -> RenderedIssue | None:
    """``rendered_issue`` if this process has rendered it already, else None (no query)."""
    return _render_cache.get((issue.pk, issue.updated_at, topic_ids))


def rendered_issue(*, issue: Issue, topic_ids: frozenset[int]) -> RenderedIssue:
    """The rendered email for a topic selection, rendered once per process (the lanes of
    a batch that need it at once wait for one rendering rather than each making one)."""
    key = (issue.pk, issue.updated_at, topic_ids)
    rendered = _render_cache.get(key)
    if rendered is not None:
        return rendered
    with _render_lock:
        rendered = _render_cache.get(key)
        if rendered is None:
            if len(_render_cache) >= _RENDER_CACHE_SIZE:
                _render_cache.clear()
            rendered = render_issue_email(issue=issue, topics=topic_ids)
            if settings.NEWSLETTER_CLICK_TRACKING:
                rendered = track_links(rendered=rendered, issue=issue)
            _render_cache[key] = rendered
    return rendered


_message_id_domain: str | None = None


def message_id_domain() -> str:
    """The domain of DEFAULT_FROM_EMAIL, for the Message-IDs of newsletter messages."""
    global _message_id_domain
    if _message_id_domain is None:
        address = parseaddr(settings.DEFAULT_FROM_EMAIL)[1]
        _message_id_domain = address.rpartition("@")[2] or "localhost"
    return _message_id_domain


@functools.lru_cache(maxsize=32)
def _encoded_subject(subject: str) -> str:
    """The Subject header's value as RFC 2047 wants it, worked out once per issue (encoding
    a non-ASCII subject was the largest per-message cost of building a message).

    Django's own check refuses line breaks (``BadHeaderError``). A non-ASCII subject
    becomes UTF-8 encoded-words of at most 75 characters, folded so that no line passes
    76 with the field name: Django's encoding ignores the name and the fold, which makes
    77-character words out of a long subject.
    """
    _, value = forbid_multi_line_headers("Subject", subject, settings.DEFAULT_CHARSET)
    if subject.isascii():
        return value  # folded at spaces when the message is written
    return Header(subject, "utf-8", maxlinelen=76, header_name="Subject").encode()


class NewsletterEmail(EmailMultiAlternatives):
    """A newsletter message: Django's ``EmailMultiAlternatives``, so every backend sends it
    (console, file, locmem, SMTP, django-anymail's ESP backends).

    Two things differ, neither in what is sent: ``message()`` builds the stdlib message
    once (the send validates it early; the backend then reuses it), and the subject's
    encoded form comes from a per-issue cache.
    """

    _built: SafeMIMEMultipart | None = None

    def message(self) -> SafeMIMEMultipart:
        if self._built is None:
            subject, self.subject = self.subject, ""
            try:
                built = super().message()
            finally:
                self.subject = subject
            built.replace_header("Subject", _encoded_subject(subject))
            self._built = built
        return self._built


_PLAIN_ADDRESS = re.compile(r"[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+@[A-Za-z0-9.-]+")


@functools.lru_cache(maxsize=8)
def _encoded_from(from_email: str) -> str:
    return sanitize_address(from_email, settings.DEFAULT_CHARSET)


def _encoded_address(address: str) -> str:
    # Addresses from the subscribe form are plain ASCII already; anything else
    # (admin edits, imports) goes through Django's full check.
    if _PLAIN_ADDRESS.fullmatch(address):
        return address
    return sanitize_address(address, settings.DEFAULT_CHARSET)


def address_refusal(address: str) -> str | None:
    """Why a stored address must not be sent to, or None. The subscribe form and imports
    refuse these already; an address edited in by hand or stored before that check is
    caught here, so its delivery fails with the reason instead of going out: a domain that
    is an IP literal (``x@[127.0.0.1]``) or a bare IP address would hand the relay a
    host to connect to directly."""
    domain = address.rpartition("@")[2]
    if domain.startswith("["):
        return f"Not sent: the address's domain is an IP literal ({domain}), not a domain name."
    # A top-level domain is never all digits, so only then is it worth parsing.
    if domain[-1:].isdigit() or ":" in domain:
        try:
            ipaddress.ip_address(domain)
        except ValueError:
            return None
        return f"Not sent: the address's domain is an IP address ({domain}), not a domain name."
    return None


def unsendable_reason(subscriber: Subscriber) -> str | None:
    """Why ``subscriber``'s delivery must fail without a message, or None: they stopped
    receiving since the send started, or their address is refused (``address_refusal``)."""
    if not (
        subscriber.status == Subscriber.Status.ACTIVE
        and subscriber.confirmed_at is not None
        and not subscriber.is_paused
    ):
        return f"Not sent: subscriber is {subscriber.get_status_display().lower()}" + (
            " (paused)" if subscriber.is_paused else ""
        )
    return address_refusal(subscriber.email)


class NewsletterSMTPBackend(SMTPBackend):
    """Django's SMTP backend, minus re-parsing the envelope addresses of a
    ``NewsletterEmail`` for every message (a plain address needs no parsing; the sender
    is the same for the whole send). The message sent is ``message().as_bytes()``,
    as with Django's backend; other messages go the usual way.
    """

    def _send(self, email_message) -> bool:
        if not isinstance(email_message, NewsletterEmail):
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

    def open(self) -> bool | None:
        opened = super().open()
        sock = getattr(self.connection, "sock", None)
        if sock is not None:
            # The line that ends a message goes out on its own, after the message's bytes:
            # Nagle's algorithm would hold it until the relay's delayed ACK (40 ms).
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        return opened

    # True between the message's bytes (``begin_raw``) and the line that
    # ends them (``finish_raw``): the relay has not accepted anything yet.
    _in_data = False

    def begin_raw(self, *, recipient: str, data: bytes) -> None:
        """Send ``data``, a serialised newsletter message, to ``recipient`` (a plain
        address) over the open connection, all but the line that ends it: MAIL FROM and
        RCPT TO as smtplib's ``sendmail`` sends them (with the same errors), DATA and the
        message's bytes. A relay accepts a message only at that line and discards one
        whose connection drops before it, so a caller can do this while other work (the
        delivery's claim) commits, and end the message with ``finish_raw`` only once it
        has."""
        smtp = self.connection
        if smtp is None:
            raise smtplib.SMTPServerDisconnected("The SMTP connection is not open.")
        with self._lock:
            smtp.ehlo_or_helo_if_needed()
            has_size = smtp.does_esmtp and smtp.has_extn("size")
            options = [f"size={len(data)}"] if has_size else []
            sender = _encoded_from(settings.DEFAULT_FROM_EMAIL)
            code, answer = smtp.mail(sender, options)
            if code != 250:
                _reset_or_close(smtp, code)
                raise smtplib.SMTPSenderRefused(code, answer, sender)
            code, answer = smtp.rcpt(recipient, [])
            if code not in (250, 251):
                _reset_or_close(smtp, code)
                raise smtplib.SMTPRecipientsRefused({recipient: (code, answer)})
            code, answer = smtp.docmd("data")
            if code != 354:
                _reset_or_close(smtp, code)
                raise smtplib.SMTPDataError(code, answer)
            body = quote_periods(data)
            if body[-2:] != b"\r\n":
                body += b"\r\n"
            self._in_data = True
            smtp.send(body)

    def finish_raw(self) -> None:
        """The line that ends the message ``begin_raw`` sent, and the relay's answer."""
        smtp = self.connection
        if smtp is None or not self._in_data:
            raise smtplib.SMTPServerDisconnected("No message of this connection to end.")
        with self._lock:
            smtp.send(b".\r\n")
            self._in_data = False
            code, answer = smtp.getreply()
            if code != 250:
                _reset_or_close(smtp, code)
                raise smtplib.SMTPDataError(code, answer)

    def abort_raw(self) -> None:
        """Drop a transaction ``begin_raw`` started, if the connection is open: RSET, or,
        once the message's bytes went, a new connection (only leaving one unfinished
        discards them)."""
        if self.connection is None:
            return
        with self._lock:
            if self._in_data:
                self._drop()
                self.open()
            else:
                self.connection.rset()

    def close(self) -> None:
        if self._in_data and self.connection is not None:
            self._drop()  # a QUIT now would be read as a line of the message
            return
        super().close()

    def _drop(self) -> None:
        try:
            self.connection.close()
        finally:
            self.connection = None
            self._in_data = False


def quote_periods(data: bytes) -> bytes:
    """``data`` with a period doubled at the start of each line (RFC 5321 4.5.2), byte for
    byte as smtplib's ``data()`` writes it, without its regular expression: that scan was
    a large part of a message's CPU (a line starts at the beginning and after each LF)."""
    quoted = data.replace(b"\n.", b"\n..")
    return b"." + quoted if quoted[:1] == b"." else quoted


def _reset_or_close(smtp: smtplib.SMTP, code: int) -> None:
    # As smtplib's sendmail: a 421 closes the connection, anything else resets it.
    if code == 421:
        smtp.close()
    else:
        smtp._rset()


def newsletter_connection():
    """A connection from the configured email backend; Django's own SMTP backend is
    swapped for ``NewsletterSMTPBackend`` (same settings, same behaviour)."""
    if settings.EMAIL_BACKEND == "django.core.mail.backends.smtp.EmailBackend":
        return NewsletterSMTPBackend(fail_silently=False)
    return get_connection(fail_silently=False)


def build_email(*, message: PersonalMessage, message_id: str, connection=None) -> NewsletterEmail:
    """A multipart/alternative email (text, then HTML) with the message's own headers."""
    email = NewsletterEmail(
        subject=message.subject,
        body=message.text,
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=[message.to],
        headers={**message.headers, "Message-ID": message_id},
        connection=connection,
    )
    email.attach_alternative(message.html, "text/html")
    return email
