"""Pages for subscribers: subscribe, confirm, preferences, unsubscribe; the
bounce/complaint webhook. Every page answers from a signed token, never a login."""

from __future__ import annotations

from django import forms
from django.conf import settings
from django.contrib import messages
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods, require_POST

from articles.models import Topic
from digest.core import ratelimit
from newsletters.models import Subscriber
from newsletters.subscribers import services as subscriptions
from newsletters.subscribers import webhooks
from newsletters.subscribers.tokens import InvalidToken, Purpose, read_token

WEBHOOK_MAX_BYTES = 1024 * 1024


class SubscribeForm(forms.Form):
    # strip=False: a trailing "\r\n" is refused, not quietly trimmed.
    email = forms.CharField(
        label="Email address",
        strip=False,
        error_messages={"required": "Enter your email address."},
    )
    topics = forms.ModelMultipleChoiceField(
        queryset=Topic.objects.all(),
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text="Leave all unticked to get the whole issue.",
    )
    # Honeypot: hidden from people by CSS; bots fill it in.
    website = forms.CharField(required=False, label="Leave this empty")

    def clean_email(self) -> str:
        try:
            return subscriptions.normalise_address(self.cleaned_data["email"])
        except subscriptions.InvalidAddress as error:
            raise forms.ValidationError(str(error)) from None


class PreferencesForm(forms.Form):
    topics = forms.ModelMultipleChoiceField(
        queryset=Topic.objects.all(), required=False, widget=forms.CheckboxSelectMultiple
    )
    paused = forms.BooleanField(required=False, label="Pause: send me nothing for now")


@require_http_methods(["GET", "POST"])
def subscribe_view(request: HttpRequest) -> HttpResponse:
    if request.method == "GET":
        return render(request, "subscribers/subscribe.html", {"form": SubscribeForm()})
    if not ratelimit.hit(
        key=f"subscribe-ip:{ratelimit.client_ip(request)}",
        limit=settings.SUBSCRIBE_RATE_PER_IP,
        window_seconds=3600,
    ):
        return render(
            request,
            "subscribers/message.html",
            {
                "title": "Too many requests",
                "message": "Too many subscription requests came from your network. "
                "Please try again in an hour.",
            },
            status=429,
        )
    form = SubscribeForm(request.POST)
    if request.POST.get("website"):
        # A bot filled in the honeypot: answer as if all went well, do nothing.
        return render(request, "subscribers/check_inbox.html", status=200)
    if not form.is_valid():
        return render(request, "subscribers/subscribe.html", {"form": form}, status=400)
    subscriptions.subscribe(
        email=form.cleaned_data["email"],
        topics=form.cleaned_data["topics"],
        ip=ratelimit.client_ip(request) if request.META.get("REMOTE_ADDR") else None,
    )
    # The same answer whatever we knew about the address.
    return render(request, "subscribers/check_inbox.html")


def _invalid_link(request: HttpRequest, error: InvalidToken) -> HttpResponse:
    return render(
        request,
        "subscribers/message.html",
        {"title": "This link does not work", "message": str(error), "offer_subscribe": True},
        status=400,
    )


@require_http_methods(["GET", "POST"])
def confirm_view(request: HttpRequest, token: str) -> HttpResponse:
    """GET asks, POST confirms: mail scanners that open every link in a message
    (corporate link checkers do) must not subscribe anyone on their own."""
    if request.method == "GET":
        try:
            subscriber = read_token(token=token, purpose=Purpose.CONFIRM).subscriber
        except InvalidToken as error:
            return _invalid_link(request, error)
        if subscriber.status != Subscriber.Status.ACTIVE:
            return render(request, "subscribers/confirm.html", {"subscriber": subscriber})
        confirmation = subscriptions.Confirmation(
            subscriber=subscriber, outcome=subscriptions.ConfirmOutcome.ALREADY_ACTIVE
        )
    else:
        try:
            confirmation = subscriptions.confirm_subscription(token=token)
        except InvalidToken as error:
            return _invalid_link(request, error)
    subscriber = confirmation.subscriber
    return render(
        request,
        "subscribers/confirmed.html",
        {
            "subscriber": subscriber,
            "already": confirmation.outcome == subscriptions.ConfirmOutcome.ALREADY_ACTIVE,
            "preferences_url": subscriptions.preferences_url(subscriber=subscriber),
        },
    )


@require_http_methods(["GET", "POST"])
def preferences_view(request: HttpRequest, token: str) -> HttpResponse:
    try:
        subscriber = read_token(token=token, purpose=Purpose.PREFERENCES).subscriber
    except InvalidToken as error:
        return _invalid_link(request, error)
    if request.method == "POST":
        action = request.POST.get("action", "save")
        if action == "unsubscribe":
            subscriptions.unsubscribe(subscriber=subscriber)
            messages.success(request, "You are unsubscribed. We will not send you the digest.")
            return redirect(request.path)
        if action == "resubscribe":
            if subscriptions.resubscribe(subscriber=subscriber):
                messages.success(request, "Welcome back: you will get the next issue.")
            else:
                messages.error(request, "This address cannot be resubscribed from here.")
            return redirect(request.path)
        form = PreferencesForm(request.POST)
        if form.is_valid():
            subscriptions.update_preferences(
                subscriber=subscriber,
                topics=form.cleaned_data["topics"],
                paused=form.cleaned_data["paused"],
            )
            messages.success(request, "Your preferences are saved.")
            return redirect(request.path)
        status = 400
    else:
        form = PreferencesForm(
            initial={"topics": list(subscriber.topics.all()), "paused": subscriber.is_paused}
        )
        status = 200
    return render(
        request,
        "subscribers/preferences.html",
        {
            "form": form,
            "subscriber": subscriber,
            "is_active": subscriber.status == Subscriber.Status.ACTIVE,
            "can_resubscribe": subscriber.status == Subscriber.Status.UNSUBSCRIBED
            and subscriber.confirmed_at is not None,
        },
        status=status,
    )


@csrf_exempt  # RFC 8058 one-click: mail clients POST without a CSRF token; the token authenticates
@require_http_methods(["GET", "POST"])
def unsubscribe_view(request: HttpRequest, token: str) -> HttpResponse:
    if request.method == "GET":
        # Link scanners fetch links: a GET only asks, it never unsubscribes.
        return render(request, "subscribers/unsubscribe_confirm.html", {"token": token})
    try:
        subscriber = read_token(token=token, purpose=Purpose.UNSUBSCRIBE).subscriber
    except InvalidToken as error:
        return _invalid_link(request, error)
    subscriptions.unsubscribe(subscriber=subscriber)
    return render(
        request,
        "subscribers/unsubscribed.html",
        {"preferences_url": subscriptions.preferences_url(subscriber=subscriber)},
    )


@csrf_exempt  # authenticated by its HMAC signature instead
@require_POST
def email_webhook_view(request: HttpRequest) -> HttpResponse:
    if int(request.META.get("CONTENT_LENGTH") or 0) > WEBHOOK_MAX_BYTES:
        return JsonResponse({"error": "Body too large."}, status=413)
    body = request.body
    try:
        webhooks.verify_webhook(
            secret=settings.NEWSLETTER_WEBHOOK_SECRET,
            timestamp=request.headers.get("X-Digest-Timestamp", ""),
            signature=request.headers.get("X-Digest-Signature", ""),
            body=body,
        )
    except webhooks.WebhookRejected as error:
        return JsonResponse({"error": str(error)}, status=403)
    try:
        payload = webhooks.parse_webhook_body(body)
        counts = webhooks.apply_webhook_events(payload=payload)
    except webhooks.WebhookRejected as error:
        return JsonResponse({"error": f"Bad payload: {error}"}, status=400)
    return JsonResponse(counts)
