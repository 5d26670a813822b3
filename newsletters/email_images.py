"""Images for email: any picture an issue shows, as a small JPEG every client displays.

Gmail and Outlook show neither SVG nor WebP reliably, and a 1200 px lead image is
far larger than a 144 px thumbnail needs. So the email never links an image
directly: ``email_image_url`` gives a signed address on the site, and the first
request for it converts the source (``convert_for_email``: decode with Pillow,
crop to the fixed email size, JPEG) and keeps the result in ``EmailImage`` rows,
which any web host can serve. Rendering an issue needs no network and no query;
every image has the same known width and height.

A source that cannot be fetched or decoded (an SVG, a dead link, a private
address) becomes a neutral placeholder of the same size, so no email shows a
broken image.
"""

from __future__ import annotations

import hashlib
import io
import logging
from collections.abc import Callable
from urllib.parse import urlsplit

from django.conf import settings
from django.contrib.staticfiles import finders
from django.core import signing
from django.db import IntegrityError, transaction
from django.urls import reverse
from PIL import Image, ImageOps, UnidentifiedImageError

from articles.fetching.client import FetchError, FetchResult, fetch
from digest.core.links import absolute_url, is_web_url
from newsletters.models import EmailImage

logger = logging.getLogger(__name__)

# Shown at 144×96 CSS pixels beside each item; stored at twice that for sharp
# high-density screens.
EMAIL_IMAGE_WIDTH = 144
EMAIL_IMAGE_HEIGHT = 96
_SCALE = 2
_JPEG_QUALITY = 78
# A source larger than this is not worth converting for a thumbnail.
MAX_SOURCE_BYTES = 8 * 1024 * 1024
# Refuse decompression bombs long before Pillow's own (warning-only) limit.
MAX_SOURCE_PIXELS = 40_000_000
_PLACEHOLDER_COLOUR = (214, 219, 226)
_SALT = "newsletters.email-image"


def email_image_url(source_url: str) -> str:
    """The absolute, signed site address that serves ``source_url`` converted for email.

    Site paths ("/static/…") are made absolute first. Returns "" for anything that
    is not a web URL.
    """
    source = absolute_url(source_url or "")
    if not is_web_url(source):
        return ""
    # No timestamp: the same source keeps one address, so clients cache it across issues.
    token = signing.Signer(salt=_SALT).sign_object(source, compress=True)
    return absolute_url(reverse("articles:email_image", kwargs={"token": token}))


def source_from_token(token: str) -> str | None:
    """The source URL a token was signed for, or None if it was not signed here."""
    try:
        source = signing.Signer(salt=_SALT).unsign_object(token)
    except signing.BadSignature:
        return None
    return source if isinstance(source, str) and is_web_url(source) else None


def _key(source_url: str) -> str:
    size = f"{EMAIL_IMAGE_WIDTH}x{EMAIL_IMAGE_HEIGHT}@{_SCALE}"
    return hashlib.sha256(f"{size} {source_url}".encode()).hexdigest()


def _local_static_bytes(source_url: str) -> bytes | None:
    """The bytes of one of the site's own static files, read from disk, not over HTTP."""
    prefix = settings.SITE_URL + settings.STATIC_URL
    if not source_url.startswith(prefix):
        return None
    relative = urlsplit(source_url).path[len(urlsplit(prefix).path) :]
    if ".." in relative.split("/"):
        return None
    found = finders.find(relative)
    if not found:
        return None
    with open(found, "rb") as handle:
        return handle.read(MAX_SOURCE_BYTES + 1)


def source_bytes(source_url: str, *, fetcher: Callable[..., FetchResult] = fetch) -> bytes:
    """The source image's bytes: the site's own static files from disk, others through
    the safe fetcher. Raises ``FetchError`` when they cannot be had."""
    local = _local_static_bytes(source_url)
    if local is not None:
        return local
    result = fetcher(source_url, max_bytes=MAX_SOURCE_BYTES, accept="image/*")
    return result.content


def convert_for_email(content: bytes) -> bytes:
    """``content`` (any format Pillow reads) as a JPEG cropped to the email size.

    Raises ``ValueError`` if it is not a raster image Pillow can decode, or too big.
    """
    if len(content) > MAX_SOURCE_BYTES:
        raise ValueError("The image is larger than an email thumbnail needs.")
    try:
        with Image.open(io.BytesIO(content)) as image:
            if image.width * image.height > MAX_SOURCE_PIXELS:
                raise ValueError("The image has too many pixels.")
            image.load()
            image = ImageOps.exif_transpose(image)
            if image.mode in ("RGBA", "LA", "P"):
                image = image.convert("RGBA")
                background = Image.new("RGB", image.size, (255, 255, 255))
                background.paste(image, mask=image.getchannel("A"))
                image = background
            image = image.convert("RGB")
            size = (EMAIL_IMAGE_WIDTH * _SCALE, EMAIL_IMAGE_HEIGHT * _SCALE)
            thumbnail = ImageOps.fit(image, size, method=Image.Resampling.LANCZOS)
    except (UnidentifiedImageError, OSError, Image.DecompressionBombError) as error:
        raise ValueError(f"Not an image Pillow can read: {error}") from error
    output = io.BytesIO()
    thumbnail.save(output, "JPEG", quality=_JPEG_QUALITY, optimize=True, progressive=True)
    return output.getvalue()


def placeholder_jpeg() -> bytes:
    """A plain JPEG of the email size, served when a source cannot be converted."""
    size = (EMAIL_IMAGE_WIDTH * _SCALE, EMAIL_IMAGE_HEIGHT * _SCALE)
    output = io.BytesIO()
    Image.new("RGB", size, _PLACEHOLDER_COLOUR).save(output, "JPEG", quality=_JPEG_QUALITY)
    return output.getvalue()


def email_image_for(
    source_url: str, *, fetcher: Callable[..., FetchResult] = fetch
) -> tuple[bytes, bool]:
    """The converted JPEG for ``source_url`` and whether it is the real picture.

    A converted image is kept (one row per source and size) and served from there
    afterwards; a failure is not kept, so a source that comes back later is tried again.
    """
    key = _key(source_url)
    stored = EmailImage.objects.filter(key=key).values_list("content", flat=True).first()
    if stored is not None:
        return bytes(stored), True
    try:
        content = convert_for_email(source_bytes(source_url, fetcher=fetcher))
    except (FetchError, ValueError) as error:
        logger.info("email image %s not converted: %s", source_url, error)
        return placeholder_jpeg(), False
    try:
        with transaction.atomic():
            EmailImage.objects.create(
                key=key,
                source_url=source_url[:2000],
                content=content,
                width=EMAIL_IMAGE_WIDTH,
                height=EMAIL_IMAGE_HEIGHT,
            )
    except IntegrityError:  # converted by a concurrent request first: same bytes
        pass
    return content, True
