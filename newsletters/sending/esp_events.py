"""ESP tracking events through django-anymail: its signed, per-provider webhooks feed the
same bounce and complaint handling as the project's own signed endpoint.

Anymail normalises every provider's events to one ``tracking`` signal; ``record_esp_event``
turns a hard bounce (``bounced``, or ``rejected`` because the address bounced or is
invalid) into ``mark_bounced`` and a complaint into ``mark_complained``; soft bounces
(``deferred``) are the provider's own retries and change nothing. Both are idempotent,
so a replayed event changes nothing more.

``esp_webhook_urlpatterns`` serves anymail's tracking webhooks (``<esp>/tracking/``) with
two guards anymail lacks: with no ``ANYMAIL_WEBHOOK_SECRET`` (basic auth) every request is
refused (anymail would only warn and accept anyone), and a body too deeply nested to
parse answers 400 instead of a server error.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable

from anymail import urls as anymail_urls
from anymail.signals import EventType, RejectReason, tracking
from django.conf import settings
from django.dispatch import receiver
from django.http import HttpRequest, HttpResponse, HttpResponseBadRequest, HttpResponseForbidden
from django.urls.resolvers import URLPattern
from django.views.decorators.csrf import csrf_exempt

from newsletters.subscribers.services import mark_bounced, mark_complained

logger = logging.getLogger(__name__)

HARD_REJECT_REASONS = (RejectReason.BOUNCED, RejectReason.INVALID)


@receiver(tracking, dispatch_uid="newsletters.sending.esp_events.record_esp_event")
def record_esp_event(sender, event, esp_name: str, **kwargs) -> str:
    """Apply one normalised anymail tracking event; returns what it did
    ('bounced', 'complained' or 'ignored')."""
    email = (event.recipient or "").strip()
    outcome = "ignored"
    if email:
        kind = event.event_type
        if kind == EventType.COMPLAINED or (
            kind == EventType.REJECTED and event.reject_reason == RejectReason.SPAM
        ):
            outcome = "complained" if mark_complained(email=email) else "ignored"
        elif (
            kind == EventType.BOUNCED and event.reject_reason in (None, *HARD_REJECT_REASONS)
        ) or (kind == EventType.REJECTED and event.reject_reason in HARD_REJECT_REASONS):
            outcome = "bounced" if mark_bounced(email=email) else "ignored"
    logger.info("%s event %s for %s: %s", esp_name, event.event_type, email or "?", outcome)
    return outcome


def _webhook_secret_set() -> bool:
    return bool(getattr(settings, "ANYMAIL", {}).get("WEBHOOK_SECRET"))


def _guarded(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    @functools.wraps(view)
    def guarded_view(request: HttpRequest, *args, **kwargs) -> HttpResponse:
        if not _webhook_secret_set():
            return HttpResponseForbidden(
                "ESP webhooks are off: set ANYMAIL_WEBHOOK_SECRET (user:password)."
            )
        try:
            return view(request, *args, **kwargs)
        except RecursionError:
            return HttpResponseBadRequest("The webhook body is nested too deeply.")

    return csrf_exempt(guarded_view)


def esp_webhook_urlpatterns() -> list[URLPattern]:
    """Anymail's tracking webhook URLs (``mailgun/tracking/``, ``postmark/tracking/``, ...),
    each guarded as the module docstring says. Inbound-mail webhooks are not served."""
    return [
        URLPattern(pattern.pattern, _guarded(pattern.callback), pattern.default_args, pattern.name)
        for pattern in anymail_urls.urlpatterns
        if isinstance(pattern, URLPattern) and "tracking" in (pattern.name or "")
    ]
