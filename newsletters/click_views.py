"""The click redirect (``/r/<token>``) and the open pixel (``/o/<token>.gif``)."""

from __future__ import annotations

import base64

from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.views.decorators.http import require_safe

from newsletters.clicks import follow_click, record_open

# The smallest transparent GIF.
PIXEL = base64.b64decode("R0lGODlhAQABAIAAAAAAAP///yH5BAEAAAAALAAAAAABAAEAAAIBRAA7")


@require_safe  # GET and HEAD; HEAD is how many link scanners ask
def follow_view(request: HttpRequest, token: str) -> HttpResponse:
    target = follow_click(
        token=token,
        method=request.method,
        user_agent=request.headers.get("User-Agent", "")[:500],
    )
    if target is None:
        raise Http404("No such link.")
    response = HttpResponseRedirect(target)
    response["Cache-Control"] = "no-store"
    # The target learns nothing about the reader's token from the Referer.
    response["Referrer-Policy"] = "no-referrer"
    return response


@require_safe
def open_view(request: HttpRequest, token: str) -> HttpResponse:
    if request.method == "GET":
        record_open(token=token)
    response = HttpResponse(PIXEL, content_type="image/gif")
    response["Cache-Control"] = "no-store"
    return response
