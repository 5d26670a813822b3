"""The images emails show, served from their signed addresses (see newsletters.email_images)."""

from __future__ import annotations

from django.http import Http404, HttpRequest, HttpResponse
from django.views.decorators.http import require_safe

from newsletters.email_images import email_image_for, source_from_token

# A converted image never changes for its address; a placeholder may become the
# real picture once the source is back, so it is kept for an hour only.
CONVERTED_MAX_AGE = 365 * 24 * 3600
PLACEHOLDER_MAX_AGE = 3600


@require_safe
def email_image(request: HttpRequest, token: str) -> HttpResponse:
    """The JPEG for a signed email image address; 404 for an address not signed here."""
    source = source_from_token(token)
    if source is None:
        raise Http404("Not an image address of this site.")
    content, converted = email_image_for(source)
    response = HttpResponse(content, content_type="image/jpeg")
    max_age = CONVERTED_MAX_AGE if converted else PLACEHOLDER_MAX_AGE
    response["Cache-Control"] = f"public, max-age={max_age}"
    response["X-Content-Type-Options"] = "nosniff"
    return response
