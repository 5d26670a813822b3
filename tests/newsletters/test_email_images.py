"""Email images: any source becomes a small JPEG served from a signed site address."""

from __future__ import annotations

import io

import pytest
from PIL import Image

from newsletters.email_images import (
    EMAIL_IMAGE_HEIGHT,
    EMAIL_IMAGE_WIDTH,
    convert_for_email,
    email_image_url,
)
from newsletters.models import EmailImage
from tests.articles.conftest import loopback  # noqa: F401 - a fixture

pytestmark = pytest.mark.django_db

SVG = b'<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"><rect/></svg>'


def _png(size=(1200, 630), mode="RGBA") -> bytes:
    output = io.BytesIO()
    Image.new(mode, size, (200, 30, 30, 128) if mode == "RGBA" else (200, 30, 30)).save(
        output, "PNG"
    )
    return output.getvalue()


def _served(client, url: str):
    return client.get(url.removeprefix("https://news.example.org"))


@pytest.fixture
def site(settings):
    settings.SITE_URL = "https://news.example.org"


def test_any_raster_becomes_a_jpeg_of_the_email_size():
    converted = Image.open(io.BytesIO(convert_for_email(_png())))

    assert converted.format == "JPEG"
    assert converted.size == (EMAIL_IMAGE_WIDTH * 2, EMAIL_IMAGE_HEIGHT * 2)


def test_svg_and_garbage_are_refused_by_the_converter():
    for content in (SVG, b"not an image", b""):
        with pytest.raises(ValueError):
            convert_for_email(content)


def test_site_static_image_is_converted_from_disk_and_kept(site, client):
    url = email_image_url("/static/img/demo/ai.jpg")

    response = _served(client, url)

    assert response.status_code == 200 and response["Content-Type"] == "image/jpeg"
    assert Image.open(io.BytesIO(response.content)).size == (288, 192)
    assert "max-age=31536000" in response["Cache-Control"]
    assert EmailImage.objects.count() == 1
    # Served from the stored row afterwards, byte for byte.
    assert _served(client, url).content == response.content
    assert EmailImage.objects.count() == 1


def test_remote_image_is_fetched_through_the_safe_fetcher(settings, client, loopback):  # noqa: F811
    settings.SITE_URL = "https://news.example.org"
    source = loopback.serve("/pick.png", _png(mode="RGB"), content_type="image/png")

    response = _served(client, email_image_url(source))

    assert Image.open(io.BytesIO(response.content)).format == "JPEG"
    assert loopback.hits("/pick.png") == 1
    _served(client, email_image_url(source))
    assert loopback.hits("/pick.png") == 1


def test_an_svg_source_gets_a_placeholder_and_is_tried_again_later(settings, client, loopback):  # noqa: F811
    settings.SITE_URL = "https://news.example.org"
    source = loopback.serve("/logo.svg", SVG, content_type="image/svg+xml")

    response = _served(client, email_image_url(source))

    assert response["Content-Type"] == "image/jpeg"
    assert Image.open(io.BytesIO(response.content)).size == (288, 192)
    assert "max-age=3600" in response["Cache-Control"]
    assert not EmailImage.objects.exists()


def test_private_address_is_refused_before_connecting(site, client):
    # No loopback allowance: the fetcher refuses 127.0.0.1 without connecting.
    response = _served(client, email_image_url("http://127.0.0.1:9/secret.png"))

    assert response.status_code == 200 and "max-age=3600" in response["Cache-Control"]
    assert not EmailImage.objects.exists()


def test_unsigned_or_tampered_address_is_not_found(site, client):
    url = email_image_url("https://img.example.org/a.png")

    assert _served(client, url.replace(".jpg", "x.jpg")).status_code == 404
    assert client.get("/email-images/anything.jpg").status_code == 404


def test_non_web_sources_get_no_address(site):
    assert email_image_url("") == ""
    assert email_image_url("javascript:alert(1)") == ""
    assert email_image_url("file:///etc/passwd") == ""
