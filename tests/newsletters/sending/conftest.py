"""Fixtures shared by the sending tests: a fresh render cache, a one-item issue."""

from __future__ import annotations

import pytest

from newsletters.sending import mime
from tests.factories import IssueFactory, IssueItemFactory


@pytest.fixture(autouse=True)
def _fresh_render_cache():
    mime._render_cache.clear()
    yield
    mime._render_cache.clear()


@pytest.fixture
def issue():
    issue = IssueFactory(number=12, title="Chips and rules")
    IssueItemFactory(issue=issue, headline="Export controls tighten")
    return issue
