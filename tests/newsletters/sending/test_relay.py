"""Relay-level failures pause the whole send and charge nobody; recipient-level ones count.

Every case runs against a real SMTP server on loopback (aiosmtpd, or a raw socket that
answers 421 on connect), through ``send_batch`` as a worker runs it.
"""

from __future__ import annotations

import smtplib
import socket
import ssl
import threading
from datetime import timedelta

import pytest
from django.utils import timezone

from newsletters.models import Delivery, Issue
from newsletters.sending.batch import send_batch
from newsletters.sending.relay import relay_backoff
from newsletters.sending.smtp_errors import classify_smtp_error
from tests.newsletters.conftest import free_port
from tests.newsletters.sending.helpers import active, sending_issue_with

pytestmark = pytest.mark.django_db


def states():
    return list(Delivery.objects.order_by("pk").values_list("status", "attempts"))


def assert_paused(issue, deliveries, result, *, error_part: str) -> None:
    issue.refresh_from_db()
    assert result.paused and result.failed == 0
    assert sorted(result.retry_ids) == sorted(d.pk for d in deliveries if d.status == "pending")
    assert issue.relay_paused_since is not None
    assert issue.relay_retry_at > timezone.now()
    assert error_part in issue.relay_error


def point_at(settings, port: int) -> None:
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT, settings.EMAIL_TIMEOUT = "127.0.0.1", port, 2
    settings.EMAIL_USE_TLS = settings.EMAIL_USE_SSL = False
    settings.EMAIL_HOST_USER = settings.EMAIL_HOST_PASSWORD = ""


@pytest.fixture
def greets_421(settings):
    """A server on loopback that answers every connection with 421 and hangs up."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen()
    stop = threading.Event()

    def serve() -> None:
        server.settimeout(0.2)
        while not stop.is_set():
            try:
                client, _ = server.accept()
            except TimeoutError:
                continue
            client.sendall(b"421 4.3.2 Service not available, closing\r\n")
            client.close()

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    point_at(settings, server.getsockname()[1])
    yield
    stop.set()
    thread.join(2)
    server.close()


def test_connection_refused_pauses_the_send_and_charges_nobody(issue, settings):
    point_at(settings, free_port())  # nothing listens there
    deliveries = sending_issue_with(active(3), issue)

    result = send_batch(issue_id=issue.pk, delivery_ids=[d.pk for d in deliveries])

    assert_paused(issue, deliveries, result, error_part="Connection")
    assert states() == [("pending", 0)] * 3
    next_try = set(Delivery.objects.values_list("next_attempt_at", flat=True))
    assert next_try == {issue.relay_retry_at}


def test_421_on_connect_pauses_the_send(issue, greets_421):
    deliveries = sending_issue_with(active(2), issue)

    result = send_batch(issue_id=issue.pk, delivery_ids=[d.pk for d in deliveries])

    assert_paused(issue, deliveries, result, error_part="421")
    assert states() == [("pending", 0)] * 2


def test_421_at_rcpt_pauses_and_releases_the_claimed_delivery(issue, smtp_sink):
    subscribers = active(4)
    deliveries = sending_issue_with(subscribers, issue)
    smtp_sink.script(subscribers[1].email, "421 4.4.2 Closing connection")

    result = send_batch(issue_id=issue.pk, delivery_ids=[d.pk for d in deliveries])

    assert result.sent == 1 and result.paused
    assert result.retry_ids == [d.pk for d in deliveries[1:]]
    assert states() == [("sent", 1), ("pending", 0), ("pending", 0), ("pending", 0)]
    assert "Not charged" in Delivery.objects.get(pk=deliveries[1].pk).error


def test_sender_refused_pauses_the_send(issue, smtp_sink):
    deliveries = sending_issue_with(active(2), issue)
    smtp_sink.script_mail("550 5.7.1 Sender not allowed")

    result = send_batch(issue_id=issue.pk, delivery_ids=[d.pk for d in deliveries])

    assert_paused(issue, deliveries, result, error_part="Sender not allowed")
    assert states() == [("pending", 0)] * 2


def test_connection_dropped_mid_data_pauses_the_send(issue, smtp_sink):
    deliveries = sending_issue_with(active(3), issue)
    smtp_sink.drop_data()

    result = send_batch(issue_id=issue.pk, delivery_ids=[d.pk for d in deliveries])

    assert result.paused and result.sent == 0
    assert states() == [("pending", 0)] * 3


def test_a_paused_send_tries_nothing_until_its_retry_time(issue, smtp_sink):
    deliveries = sending_issue_with(active(2), issue)
    Issue.objects.filter(pk=issue.pk).update(
        relay_paused_since=timezone.now(), relay_retry_at=timezone.now() + timedelta(seconds=40)
    )

    result = send_batch(issue_id=issue.pk, delivery_ids=[d.pk for d in deliveries])

    assert result.paused and 35 < result.retry_in <= 40
    assert not smtp_sink.messages
    assert states() == [("pending", 0)] * 2


def test_send_resumes_by_itself_when_the_relay_answers_and_clears_the_pause(
    issue, settings, smtp_sink
):
    deliveries = sending_issue_with(active(3), issue)
    ids = [d.pk for d in deliveries]
    real_port = settings.EMAIL_PORT
    settings.EMAIL_PORT = free_port()
    for _ in range(3):  # longer than any number of recipient retries would allow
        send_batch(issue_id=issue.pk, delivery_ids=ids)
        Issue.objects.filter(pk=issue.pk).update(relay_retry_at=timezone.now())
        Delivery.objects.update(next_attempt_at=timezone.now())
    issue.refresh_from_db()
    assert issue.relay_failures == 3
    settings.EMAIL_PORT = real_port

    result = send_batch(issue_id=issue.pk, delivery_ids=ids)

    assert result.sent == 3 and not result.paused
    assert states() == [("sent", 1)] * 3
    issue.refresh_from_db()
    assert issue.relay_paused_since is None and issue.relay_failures == 0
    assert sorted(smtp_sink.recipient_counts().values()) == [1, 1, 1]


def test_recipient_4xx_counts_an_attempt_and_5xx_fails(issue, smtp_sink):
    subscribers = active(3)
    deliveries = sending_issue_with(subscribers, issue)
    smtp_sink.script(subscribers[0].email, "450 4.2.1 Mailbox busy")
    smtp_sink.script(subscribers[1].email, "550 5.1.1 No such user")

    result = send_batch(issue_id=issue.pk, delivery_ids=[d.pk for d in deliveries])

    assert not result.paused
    assert states() == [("pending", 1), ("failed", 1), ("sent", 1)]
    issue.refresh_from_db()
    assert issue.relay_paused_since is None


def test_data_4xx_is_the_recipients_temporary_failure(issue, smtp_sink):
    subscribers = active(2)
    deliveries = sending_issue_with(subscribers, issue)
    smtp_sink.script_data(subscribers[0].email, "452 4.2.2 Over quota")

    result = send_batch(issue_id=issue.pk, delivery_ids=[d.pk for d in deliveries])

    assert not result.paused
    assert states() == [("pending", 1), ("sent", 1)]


def test_relay_backoff_doubles_up_to_the_cap(settings):
    settings.NEWSLETTER_RELAY_RETRY_SECONDS = 30
    settings.NEWSLETTER_RELAY_RETRY_MAX_SECONDS = 600

    waits = [relay_backoff(n).total_seconds() for n in range(1, 8)]

    assert waits == [30, 60, 120, 240, 480, 600, 600]


@pytest.mark.parametrize(
    ("error", "relay"),
    [
        (ConnectionRefusedError(111, "refused"), True),
        (TimeoutError("timed out"), True),
        (ssl.SSLError("handshake failure"), True),
        (smtplib.SMTPAuthenticationError(535, b"bad credentials"), True),
        (smtplib.SMTPServerDisconnected("gone"), True),
        (smtplib.SMTPDataError(421, b"closing"), True),
        (smtplib.SMTPDataError(451, b"local error"), False),
        (smtplib.SMTPRecipientsRefused({"a@b.c": (550, b"no")}), False),
    ],
    ids=["refused", "timeout", "tls", "auth", "disconnected", "data-421", "data-451", "rcpt-550"],
)
def test_classify_tells_relay_from_recipient(error, relay):
    assert classify_smtp_error(error).relay is relay
