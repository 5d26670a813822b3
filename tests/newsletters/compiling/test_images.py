"""Item images: checked with Pillow, resized for web and email, stored via storage,
pasted URLs read only through the safe fetcher."""

from __future__ import annotations

import io

import pytest
from django.core.files.storage import default_storage
from PIL import Image

from newsletters.compiling.images import (
    EMAIL_WIDTH,
    WEB_WIDTH,
    ImageRefused,
    email_rendition,
    image_from_url,
    store_image,
)
from tests.articles.conftest import loopback  # noqa: F401  (the loopback HTTP server fixture)


@pytest.fixture(autouse=True)
def media_in_tmp(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    settings.SITE_URL = "https://digest.example.org"


def png_bytes(width: int, height: int) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (width, height), (200, 30, 30)).save(buffer, format="PNG")
    return buffer.getvalue()


def stored_size(url: str) -> tuple[int, int]:
    name = url.removeprefix("https://digest.example.org/media/")
    with default_storage.open(name) as handle:
        return Image.open(handle).size


def test_a_large_upload_is_stored_in_a_web_and_an_email_width():
    stored = store_image(data=png_bytes(2400, 1200), folder="issues/7")
    assert stored.web_url.startswith("https://digest.example.org/media/issues/7/")
    assert stored_size(stored.web_url) == (WEB_WIDTH, WEB_WIDTH // 2)
    assert stored_size(stored.email_url) == (EMAIL_WIDTH, EMAIL_WIDTH // 2)


def test_a_small_image_is_not_enlarged():
    stored = store_image(data=png_bytes(300, 200), folder="issues/7")
    assert stored_size(stored.web_url) == (300, 200)


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"<html>not an image</html>", "not an image"),
        (b"\x89PNG\r\n\x1a\n" + b"\x00" * 50, "not an image"),
    ],
)
def test_what_is_not_an_image_is_refused(data, message):
    with pytest.raises(ImageRefused, match=message):
        store_image(data=data, folder="issues/7")


def test_an_oversized_file_is_refused_before_it_is_opened(settings, monkeypatch):
    monkeypatch.setattr("newsletters.compiling.images.IMAGE_MAX_BYTES", 1000)
    with pytest.raises(ImageRefused, match="the limit is 0 KiB"):
        store_image(data=png_bytes(400, 400) + b"\x00" * 2000, folder="issues/7")


def test_a_pasted_url_is_fetched_through_the_safe_fetcher(loopback):  # noqa: F811
    url = loopback.serve("/photo.png", png_bytes(800, 400), content_type="image/png")
    stored = image_from_url(url=url, folder="issues/7")
    assert stored_size(stored.web_url) == (800, 400)
    assert loopback.hits("/photo.png") == 1


def test_a_pasted_private_address_is_refused_without_connecting(settings):
    settings.FETCH_ALLOWED_NETWORKS = []
    with pytest.raises(ImageRefused, match="could not be fetched"):
        image_from_url(url="http://127.0.0.1:9/photo.png", folder="issues/7")


def test_a_pasted_non_web_address_is_refused():
    with pytest.raises(ImageRefused, match="http:// or https://"):
        image_from_url(url="file:///etc/passwd", folder="issues/7")


@pytest.mark.django_db
def test_the_email_starts_from_the_stored_600_px_copy_not_the_1200_px_one():
    from newsletters.email_images import email_image_url
    from newsletters.rendering import render_issue_email
    from tests.factories import IssueFactory, IssueItemFactory

    stored = store_image(data=png_bytes(2000, 1000), folder="issues/7")
    assert email_rendition(stored.web_url) == stored.email_url
    assert stored_size(email_rendition(stored.web_url)) == (EMAIL_WIDTH, EMAIL_WIDTH // 2)
    # A picture from anywhere else is left as it is.
    assert email_rendition("https://img.example.org/a-web.jpg") == (
        "https://img.example.org/a-web.jpg"
    )
    issue = IssueFactory()
    IssueItemFactory(issue=issue, headline="Pictured", image_url=stored.web_url)

    html = render_issue_email(issue=issue).html

    assert email_image_url(stored.email_url).replace("&", "&amp;") in html
    assert email_image_url(stored.web_url).replace("&", "&amp;") not in html
