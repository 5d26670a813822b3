"""Debian's Chromium driven by Playwright, shared by the browser tests.

Chromium comes from Debian's package (/usr/bin/chromium), never from Playwright's
own download; the flags keep it from reaching for the network on this closed host.
"""

from __future__ import annotations

import shutil

import pytest
from django.db import connections

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
HAS_CHROMIUM = bool(shutil.which(CHROMIUM))


@pytest.fixture
def chromium(monkeypatch):
    """A launched Chromium; the test's own database connections are closed afterwards."""
    # Playwright's sync API runs an event loop in this thread; the ORM calls the test
    # makes between browser steps are still synchronous and safe.
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            # While Playwright's loop runs, Django keeps this thread's connection in a
            # context variable, out of reach of the test database teardown: close it here.
            connections.close_all()
            browser.close()
