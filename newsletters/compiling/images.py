"""Images for issue items: uploaded, fetched from a pasted URL, checked and resized.

Whatever the source, the bytes are opened with Pillow and refused unless they are a
JPEG, PNG, WebP or GIF within ``IMAGE_MAX_BYTES`` and ``IMAGE_MAX_PIXELS``; the image
is then stored through Django's storage API (local files, or any remote storage in
production) in two widths: one for the web page, a narrower one for the email. A
pasted URL is read only through the project's safe fetcher.
"""

from __future__ import annotations

import io
import re
import uuid
from dataclasses import dataclass

from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from PIL import Image, UnidentifiedImageError

from articles.fetching.client import fetch
from articles.fetching.errors import FetchError
from digest.core.links import absolute_url, is_web_url

# 8 MiB is a large photo straight from a camera; anything bigger is not a news image.
IMAGE_MAX_BYTES = 8 * 1024 * 1024
# 40 megapixels; Pillow's own bomb guard is far higher and would use gigabytes first.
IMAGE_MAX_PIXELS = 40_000_000
ALLOWED_FORMATS = {"JPEG": "jpg", "PNG": "png", "WEBP": "webp", "GIF": "gif"}
# The site's column is 1,200 px at most; an email is 600 px wide.
WEB_WIDTH = 1200
EMAIL_WIDTH = 600


# The name ``store_image`` gives the web copy; the email copy sits beside it.
_STORED_WEB_COPY = re.compile(r"/([0-9a-f]{32})-web\.(jpg|png)$")


class ImageRefused(Exception):
    """The file is not an image we take; the message says why, in words for the editor."""


@dataclass(frozen=True)
class StoredImage:
    web_url: str
    email_url: str
    width: int
    height: int


def _open(data: bytes) -> Image.Image:
    if len(data) > IMAGE_MAX_BYTES:
        raise ImageRefused(
            f"The image is {len(data) // 1024} KiB; the limit is {IMAGE_MAX_BYTES // 1024} KiB."
        )
    try:
        probe = Image.open(io.BytesIO(data))
        probe.verify()  # checks the file's structure; the image must be reopened after
        image = Image.open(io.BytesIO(data))
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError):
        raise ImageRefused("That file is not an image (JPEG, PNG, WebP or GIF).") from None
    if image.format not in ALLOWED_FORMATS:
        raise ImageRefused(f"{image.format} images are not taken: use JPEG, PNG, WebP or GIF.")
    if image.width * image.height > IMAGE_MAX_PIXELS:
        raise ImageRefused(f"The image is {image.width}×{image.height} pixels: too large.")
    return image


def _resized(image: Image.Image, width: int) -> bytes:
    copy = image.copy()
    if copy.width > width:
        copy.thumbnail((width, width * 10))
    # JPEG for photographs everywhere an email client may show them; PNG keeps transparency.
    buffer = io.BytesIO()
    if copy.mode in ("RGBA", "LA", "P") and "transparency" in copy.info or copy.mode == "RGBA":
        copy.save(buffer, format="PNG", optimize=True)
    else:
        copy.convert("RGB").save(buffer, format="JPEG", quality=85, optimize=True)
    return buffer.getvalue()


def store_image(*, data: bytes, folder: str) -> StoredImage:
    """Check ``data`` is an image we take, store a web and an email size under
    ``folder``, and return their absolute URLs. Raises ``ImageRefused``."""
    image = _open(data)
    image.load()
    stem = f"{folder.strip('/')}/{uuid.uuid4().hex}"
    urls = []
    for label, width in (("web", WEB_WIDTH), ("email", EMAIL_WIDTH)):
        body = _resized(image, width)
        extension = "png" if body.startswith(b"\x89PNG") else "jpg"
        name = default_storage.save(f"{stem}-{label}.{extension}", ContentFile(body))
        urls.append(absolute_url(default_storage.url(name)))
    return StoredImage(web_url=urls[0], email_url=urls[1], width=image.width, height=image.height)


def email_rendition(url: str) -> str:
    """The email-width copy of an image ``store_image`` stored (its web copy's URL
    ``…/<id>-web.jpg`` gives ``…/<id>-email.jpg``, saved with it); any other URL as is.

    Both copies are saved together under one random name, so no lookup is needed."""
    return _STORED_WEB_COPY.sub(r"/\1-email.\2", url or "")


def image_from_url(*, url: str, folder: str) -> StoredImage:
    """Fetch ``url`` through the safe fetcher and store it as ``store_image`` does.
    Raises ``ImageRefused`` with the fetcher's reason when the URL cannot be read."""
    url = url.strip()
    if not is_web_url(url):
        raise ImageRefused("Paste a full http:// or https:// address of an image.")
    try:
        result = fetch(url, max_bytes=IMAGE_MAX_BYTES, accept="image/*")
    except FetchError as error:
        raise ImageRefused(f"The image could not be fetched: {error}") from None
    if result.status != 200:
        raise ImageRefused(f"The image could not be fetched (HTTP {result.status}).")
    return store_image(data=result.content, folder=folder)
