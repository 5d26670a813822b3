"""Debian's Chromium posts a CSP report to the site's own endpoint, which logs it."""

from __future__ import annotations

import logging
import time

import pytest

from tests.browser.conftest import HAS_CHROMIUM
from tests.digest.core.test_csp_reports import URL, violations

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(not HAS_CHROMIUM, reason="Debian's chromium is not installed"),
]


def test_chromium_reports_a_trial_policys_violation_to_the_endpoint(
    live_server, chromium, settings, caplog
):
    """A report-only policy that forbids the site's own stylesheet: Chromium still
    applies it (report only) and posts a report, which the endpoint logs."""
    caplog.set_level(logging.WARNING, logger="digest.csp")
    settings.CONTENT_SECURITY_POLICY_REPORT_ONLY = {
        "DIRECTIVES": {"style-src": ["'none'"], "report-uri": [URL]}
    }
    context = chromium.new_context()
    page = context.new_page()
    page.goto(f"{live_server.url}/subscribe/")
    stylesheet_applied = page.locator("link[rel=stylesheet]").count() > 0
    deadline = time.monotonic() + 10
    while not violations(caplog) and time.monotonic() < deadline:
        page.wait_for_timeout(100)
    context.close()

    assert stylesheet_applied
    lines = violations(caplog)
    assert lines, "Chromium sent no report"
    assert "directive=style-src" in lines[0]
    assert "disposition=report" in lines[0]
    assert f"page={live_server.url}/subscribe/" in lines[0]
