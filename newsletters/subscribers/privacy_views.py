"""A subscriber's privacy pages, reached from their preferences link: download my data,
and erase me. Both answer from the signed preferences token, never a login."""

from __future__ import annotations

import json

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET, require_http_methods

from newsletters.subscribers.privacy import erase_subscriber, subscriber_data
from newsletters.subscribers.tokens import InvalidToken, Purpose, read_token


def _invalid_link(request: HttpRequest, error: InvalidToken) -> HttpResponse:
    return render(
        request,
        "subscribers/message.html",
        {"title": "This link does not work", "message": str(error)},
        status=400,
    )


@require_GET
def my_data_view(request: HttpRequest, token: str) -> HttpResponse:
    """Everything stored about the subscriber, as a JSON file to download."""
    try:
        subscriber = read_token(token=token, purpose=Purpose.PREFERENCES).subscriber
    except InvalidToken as error:
        return _invalid_link(request, error)
    body = json.dumps(subscriber_data(subscriber=subscriber), indent=2, ensure_ascii=False)
    response = HttpResponse(body, content_type="application/json; charset=utf-8")
    response["Content-Disposition"] = 'attachment; filename="my-subscription-data.json"'
    response["Cache-Control"] = "private, no-store"
    return response


@require_http_methods(["GET", "POST"])
def erase_view(request: HttpRequest, token: str) -> HttpResponse:
    """GET asks, POST erases (a link scanner's GET must not delete anyone)."""
    try:
        subscriber = read_token(token=token, purpose=Purpose.PREFERENCES).subscriber
    except InvalidToken as error:
        return _invalid_link(request, error)
    if request.method == "GET":
        return render(request, "subscribers/erase_confirm.html", {"subscriber": subscriber})
    erase_subscriber(subscriber=subscriber)
    return render(
        request,
        "subscribers/message.html",
        {
            "title": "Your data is erased",
            "message": "Your address and everything about your subscription are deleted. "
            "You will get no more email from us.",
        },
    )
