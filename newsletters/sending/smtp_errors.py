"""Sorting an exception raised while sending: the relay's fault or the recipient's,
temporary or permanent, and what it implies for the batch and for the subscriber.

Relay-level failures are everything that says nothing about the recipient: the server
cannot be reached (refused, timed out, TLS), will not let us in (HELO, AUTH), refuses our
own sender, closes the connection or answers 421 ("service not available") at any
stage. They pause the whole send and are charged to nobody. Only what the server says
about one recipient (its RCPT, or the DATA of its message) counts as that recipient's
attempt; only a recipient-level 5xx fails a delivery at once.
"""

from __future__ import annotations

import smtplib
from dataclasses import dataclass

from anymail.exceptions import AnymailAPIError, AnymailRecipientsRefused


@dataclass(frozen=True)
class SendFailure:
    temporary: bool
    # The connection is unusable (or the sender was refused): stop this batch.
    stop_batch: bool
    # The recipient's address was refused for good: counts towards bounced.
    counts_as_bounce: bool
    # The relay failed, not the recipient: pause the send, count no attempt.
    relay: bool = False


RELAY = SendFailure(temporary=True, stop_batch=True, counts_as_bounce=False, relay=True)
RECIPIENT_TEMPORARY = SendFailure(temporary=True, stop_batch=False, counts_as_bounce=False)


def classify_smtp_error(error: BaseException) -> SendFailure:
    """Sort an exception from sending into relay- or recipient-level, temporary or
    permanent (see the module docstring)."""
    if isinstance(error, smtplib.SMTPRecipientsRefused):
        codes = [code for code, _ in error.recipients.values()]
        if 421 in codes:
            return RELAY  # smtplib has closed the connection
        permanent = bool(codes) and all(code >= 500 for code in codes)
        return SendFailure(temporary=not permanent, stop_batch=False, counts_as_bounce=permanent)
    if isinstance(
        error,
        smtplib.SMTPSenderRefused
        | smtplib.SMTPServerDisconnected
        | smtplib.SMTPConnectError
        | smtplib.SMTPHeloError
        | smtplib.SMTPAuthenticationError
        | smtplib.SMTPNotSupportedError,
    ):
        return RELAY
    if isinstance(error, smtplib.SMTPResponseException):
        # What is left answers the DATA of one recipient's message (SMTPDataError) or
        # a command in its transaction.
        code = error.smtp_code
        if code == 421 or code < 400:
            return RELAY
        if 500 <= code < 600:
            return SendFailure(temporary=False, stop_batch=False, counts_as_bounce=False)
        return RECIPIENT_TEMPORARY
    if isinstance(error, AnymailRecipientsRefused):
        # The provider refused every recipient of this message: it is about them.
        return SendFailure(temporary=False, stop_batch=False, counts_as_bounce=True)
    if isinstance(error, AnymailAPIError):
        # The provider's API failed (down, throttling, a bad key): the relay's fault.
        return RELAY
    if isinstance(error, OSError):
        # Refused, timed out, reset, TLS errors (ssl.SSLError is an OSError).
        return RELAY
    # Anything else (a bug, a bad header): not worth hammering; retry a few times.
    return RECIPIENT_TEMPORARY
