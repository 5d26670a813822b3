"""System checks for sending in production: the footer's legally required sender details."""

from __future__ import annotations

from django.conf import settings
from django.core.checks import Error, Tags, register


@register(Tags.compatibility, deploy=True)
def sender_identity_check(app_configs=None, **kwargs) -> list[Error]:
    """``check --deploy`` fails when an issue's footer would lack the publisher's postal
    address or the reason the reader gets the mail."""
    errors = []
    if not settings.NEWSLETTER_POSTAL_ADDRESS.strip():
        errors.append(
            Error(
                "NEWSLETTER_POSTAL_ADDRESS is not set.",
                hint="Set it to the publisher's postal address; every issue's footer shows "
                "it (CAN-SPAM requires one in bulk mail).",
                id="newsletters.E001",
            )
        )
    if not settings.NEWSLETTER_REASON.strip():
        errors.append(
            Error(
                "NEWSLETTER_REASON is not set.",
                hint="Say why readers get the mail, e.g. 'You receive this because you "
                "subscribed to Digital Policy Weekly at news.example.org.'",
                id="newsletters.E002",
            )
        )
    return errors
