"""An SMTP server on loopback that records every message, for sending tests.

``smtp_sink`` starts aiosmtpd on 127.0.0.1 (a free port) and points Django's
SMTP backend at it. Answers can be scripted per recipient:
``smtp_sink.script("a@example.org", "451 4.3.0 Try again later")`` refuses the
next RCPT for that address with a 4xx, once; pass several answers for several
attempts. ``delay`` slows every DATA to make a send take a while.
"""

from __future__ import annotations

import asyncio
import email
import email.policy
import logging
import socket
import threading
from collections import Counter, defaultdict, deque
from dataclasses import dataclass
from email.message import EmailMessage

import pytest
from aiosmtpd.controller import Controller

# aiosmtpd logs every SMTP command at INFO: far too much for a 2,000-message test.
logging.getLogger("mail.log").setLevel(logging.WARNING)


@dataclass
class RecordedMessage:
    mail_from: str
    recipients: list[str]
    data: bytes
    # (host, port) of the client: one value per SMTP connection.
    peer: tuple = ()

    def parsed(self) -> EmailMessage:
        return email.message_from_bytes(self.data, policy=email.policy.default)


class RecordingHandler:
    def __init__(self) -> None:
        self.messages: list[RecordedMessage] = []
        self.lock = threading.Lock()
        self.rcpt_answers: dict[str, deque[str]] = defaultdict(deque)
        self.data_answers: dict[str, deque[str]] = defaultdict(deque)
        self.delay = 0.0
        self.mail_answers: deque[str] = deque()
        # DATA commands to answer by dropping the connection instead.
        self.drops = 0

    async def handle_MAIL(self, server, session, envelope, address, mail_options):
        with self.lock:
            answer = self.mail_answers.popleft() if self.mail_answers else None
        if answer:
            return answer
        envelope.mail_from = address
        envelope.mail_options.extend(mail_options)
        return "250 OK"

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        with self.lock:
            answers = self.rcpt_answers.get(address.lower())
            answer = answers.popleft() if answers else None
        if answer:
            return answer
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        if self.delay:
            await asyncio.sleep(self.delay)
        with self.lock:
            drop = self.drops > 0
            self.drops -= drop
        if drop:
            server.transport.close()
            return "421 4.3.0 Connection dropped"
        with self.lock:
            for rcpt in envelope.rcpt_tos:
                answers = self.data_answers.get(rcpt.lower())
                if answers:
                    return answers.popleft()
            self.messages.append(
                RecordedMessage(
                    mail_from=envelope.mail_from,
                    recipients=list(envelope.rcpt_tos),
                    data=bytes(envelope.content),
                    peer=tuple(session.peer or ()),
                )
            )
        return "250 Message accepted for delivery"


class SmtpSink:
    def __init__(self, handler: RecordingHandler, port: int) -> None:
        self.handler = handler
        self.host = "127.0.0.1"
        self.port = port

    @property
    def messages(self) -> list[RecordedMessage]:
        with self.handler.lock:
            return list(self.handler.messages)

    def recipient_counts(self) -> Counter:
        return Counter(rcpt.lower() for m in self.messages for rcpt in m.recipients)

    def connections(self) -> int:
        return len({m.peer for m in self.messages})

    def script(self, address: str, *answers: str) -> None:
        """Answer the next RCPT TO for ``address`` with each of ``answers`` in turn."""
        with self.handler.lock:
            self.handler.rcpt_answers[address.lower()].extend(answers)

    def script_data(self, address: str, *answers: str) -> None:
        """Answer the end of DATA for a message to ``address`` with ``answers`` in turn."""
        with self.handler.lock:
            self.handler.data_answers[address.lower()].extend(answers)

    def script_mail(self, *answers: str) -> None:
        """Answer the next MAIL FROM commands with each of ``answers`` in turn."""
        with self.handler.lock:
            self.handler.mail_answers.extend(answers)

    def drop_data(self, times: int = 1) -> None:
        """Drop the connection in the middle of the next ``times`` DATA commands."""
        with self.handler.lock:
            self.handler.drops += times

    @property
    def delay(self) -> float:
        return self.handler.delay

    @delay.setter
    def delay(self, seconds: float) -> None:
        self.handler.delay = seconds

    @property
    def url(self) -> str:
        return f"smtp://{self.host}:{self.port}"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def smtp_sink(settings):
    """A recording SMTP server on 127.0.0.1; Django's SMTP backend points at it."""
    handler = RecordingHandler()
    port = free_port()
    controller = Controller(handler, hostname="127.0.0.1", port=port)
    controller.start()
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST = "127.0.0.1"
    settings.EMAIL_PORT = port
    settings.EMAIL_HOST_USER = ""
    settings.EMAIL_HOST_PASSWORD = ""
    settings.EMAIL_USE_TLS = False
    settings.EMAIL_USE_SSL = False
    settings.EMAIL_TIMEOUT = 10
    try:
        yield SmtpSink(handler, port)
    finally:
        controller.stop()
