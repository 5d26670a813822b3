"""Sorting an exception raised while sending into temporary or permanent, and what
it implies for the batch and for the subscriber.
"""

from __future__ import annotations

import smtplib
from dataclasses import dataclass


@dataclass(frozen=True)
class SendFailure:
    temporary: bool
    # The connection is unusable (or the sender was refused): stop this batch.
    stop_batch: bool
    # The recipient's address was refused for good: counts towards bounced.
    counts_as_bounce: bool


def classify_smtp_error(error: BaseException) -> SendFailure:
    """Sort an exception from sending into temporary/permanent and what it implies."""
    if isinstance(error, smtplib.SMTPRecipientsRefused):
        codes = [code for code, _ in error.recipients.values()]
        permanent = bool(codes) and all(code >= 500 for code in codes)
        # After a 421 smtplib has closed the connection.
        return SendFailure(
            temporary=not permanent, stop_batch=421 in codes, counts_as_bounce=permanent
        )
    if isinstance(error, smtplib.SMTPSenderRefused):
        # Our own envelope sender was refused: not the recipient's fault.
        return SendFailure(temporary=True, stop_batch=True, counts_as_bounce=False)
    if isinstance(error, smtplib.SMTPServerDisconnected):
        return SendFailure(temporary=True, stop_batch=True, counts_as_bounce=False)
    if isinstance(error, smtplib.SMTPResponseException):
        code = error.smtp_code
        if isinstance(error, smtplib.SMTPConnectError | smtplib.SMTPHeloError):
            return SendFailure(temporary=True, stop_batch=True, counts_as_bounce=False)
        if 500 <= code < 600:
            return SendFailure(temporary=False, stop_batch=False, counts_as_bounce=True)
        return SendFailure(temporary=True, stop_batch=code == 421, counts_as_bounce=False)
    if isinstance(error, OSError):
        return SendFailure(temporary=True, stop_batch=True, counts_as_bounce=False)
    # Anything else (a bug, a bad header): not worth hammering; retry a few times.
    return SendFailure(temporary=True, stop_batch=False, counts_as_bounce=False)
