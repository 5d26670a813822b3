"""What readers and subscribers see, in Debian's Chromium: the issue email at 600 and
390 px, and the home, topic, article and issue pages at 1280 and 390 px.

Each view is screenshotted into test-artifacts/ (visual-*.png), must not scroll
sideways at 390 px, and must pass axe-core (vendored) with no violation.
"""

from __future__ import annotations

import pytest

from newsletters.rendering import personalise, render_issue_email, unsaved_recipient
from tests.browser.accessibility import (
    EMAIL_RULES,
    PAGE_RULES,
    axe_violations,
    horizontal_overflow,
)
from tests.browser.conftest import HAS_CHROMIUM
from tests.browser.test_reader_browser import make_world

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(not HAS_CHROMIUM, reason="Debian's chromium is not installed"),
]

EMAIL_WIDTHS = (600, 390)
PAGE_WIDTHS = (1280, 390)
PHONE = 390


def _all_images_loaded(page) -> bool:
    return page.evaluate(
        "Array.from(document.images).every(img => img.complete && img.naturalWidth > 0)"
    )


def test_issue_email_in_a_browser(live_server, chromium, artifacts_dir, settings):
    settings.SITE_URL = live_server.url
    settings.NEWSLETTER_POSTAL_ADDRESS = "Policy Weekly, 12 Rue du Rhône, 1204 Geneva"
    world = make_world(live_server.url)
    rendered = render_issue_email(issue=world["issue"])
    message = personalise(rendered=rendered, subscriber=unsaved_recipient(email="a@example.org"))
    for width in EMAIL_WIDTHS:
        context = chromium.new_context(
            # axe-core is injected as an inline script, which the site's CSP rightly refuses.
            viewport={"width": width, "height": 900},
            bypass_csp=True,
        )
        page = context.new_page()
        try:
            page.set_content(message.html, wait_until="load")
            page.wait_for_function(
                "Array.from(document.images).every(img => img.complete)", timeout=15_000
            )
            assert page.locator("img").count() >= 5
            assert _all_images_loaded(page), "an email image did not load"
            assert page.locator(".brand").inner_text().count("#209") == 1
            page.screenshot(path=str(artifacts_dir / f"visual-email-{width}.png"), full_page=True)
            if width == PHONE:
                assert horizontal_overflow(page) <= 0
                # Stacked on a phone: the image sits above its headline, not beside it.
                image = page.locator(".thumb img").first.bounding_box()
                headline = page.locator(".thumb + .text .headline").first.bounding_box()
                assert headline["y"] >= image["y"] + image["height"]
            else:
                image = page.locator(".thumb img").first.bounding_box()
                headline = page.locator(".thumb + .text .headline").first.bounding_box()
                assert headline["x"] >= image["x"] + image["width"] + 12  # beside, with a gap
            assert axe_violations(page, tags=EMAIL_RULES) == []
        finally:
            context.close()


@pytest.mark.parametrize("width", PAGE_WIDTHS)
def test_reader_pages_in_a_browser(live_server, chromium, artifacts_dir, settings, width):
    settings.SITE_URL = live_server.url
    world = make_world(live_server.url)
    pages = {
        "home": "/",
        "topic": world["topic"].get_absolute_url(),
        "article": world["lead"].get_absolute_url(),
        "issue": world["issue"].get_absolute_url(),
    }
    context = chromium.new_context(
        # axe-core is injected as an inline script, which the site's CSP rightly refuses.
        viewport={"width": width, "height": 900},
        bypass_csp=True,
    )
    context.set_default_timeout(15_000)
    page = context.new_page()
    try:
        for name, path in pages.items():
            response = page.goto(live_server.url + path)
            assert response.status == 200, path
            page.screenshot(path=str(artifacts_dir / f"visual-{name}-{width}.png"), full_page=True)
            if width == PHONE:
                assert horizontal_overflow(page) <= 0, f"{name} scrolls sideways at {width}px"
            violations = axe_violations(page, tags=PAGE_RULES)
            assert violations == [], f"{name} at {width}px: {violations}"
        # A short page (the archive of two issues, on a tall window): the footer still
        # ends at the window's bottom edge instead of floating mid-window.
        page.set_viewport_size({"width": width, "height": 2400})
        page.goto(live_server.url + "/issues/")
        height = page.evaluate("window.innerHeight")
        assert page.evaluate("document.documentElement.scrollHeight") <= height
        footer = page.locator("footer.site-footer").bounding_box()
        assert abs(footer["y"] + footer["height"] - height) <= 1
        page.screenshot(path=str(artifacts_dir / f"visual-short-page-{width}.png"))
    finally:
        context.close()
