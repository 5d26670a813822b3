"""An editor reads an issue's click report in a real browser (Debian's Chromium); the
screenshot lands in test-artifacts/click-report.png (docs/click-report.png is a copy)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.contrib.auth.models import User
from django.utils import timezone

from newsletters.models import Click, Delivery, Issue, IssueItem, IssueLink
from tests.browser.conftest import HAS_CHROMIUM
from tests.factories import DeliveryFactory, IssueFactory, IssueItemFactory

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(not HAS_CHROMIUM, reason="Debian's chromium is not installed"),
]

STORIES = [
    ("radar", "EU AI Act obligations for general-purpose models begin", 9),
    ("radar", "Court fines platform over data transfers", 6),
    ("radar", "New undersea cable lands in West Africa", 3),
    ("reading", "Why digital public infrastructure needs open standards", 4),
    ("events", "Webinar: cross-border data flows", 1),
]


def test_click_report_in_the_browser(chromium, live_server, artifacts_dir):
    User.objects.create_superuser("editor", "editor@example.org", "pw-editor-1")
    issue = IssueFactory(number=210, title="Rules for AI models", status=Issue.Status.SENT)
    deliveries = [
        DeliveryFactory(
            issue=issue, status=Delivery.Status.SENT, sent_at=timezone.now() - timedelta(hours=3)
        )
        for _ in range(12)
    ]
    for position, (section, headline, readers) in enumerate(STORIES):
        item = IssueItemFactory(
            issue=issue,
            section=section,
            article=None,
            link_url=f"https://news.example.org/{position}",
            headline=headline,
        )
        link = IssueLink.objects.create(
            issue=issue, url=item.link_url, item=item, section=section, position=position
        )
        for delivery in deliveries[:readers]:
            Click.objects.create(delivery=delivery, link=link)
        Click.objects.create(delivery=deliveries[-1], link=link, is_scanner=True)
    assert IssueItem.objects.count() == len(STORIES)

    context = chromium.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    page.goto(f"{live_server.url}/admin/login/?next=/admin/newsletters/issuelink/reports/")
    page.fill("#id_username", "editor")
    page.fill("#id_password", "pw-editor-1")
    page.click("input[type=submit]")
    page.click("text=#210 – Rules for AI models")
    figures = page.locator("#click-figures").inner_text()
    assert "12\ndeliveries" in figures and "9\nunique clickers (75%)" in figures
    assert "23\nclicks by readers" in figures and "5\nby link scanners" in figures
    assert page.locator("#click-links tbody tr").count() == len(STORIES)
    assert page.locator("#click-sections tbody tr").count() == 3
    page.screenshot(path=str(artifacts_dir / "click-report.png"), full_page=True)
    context.close()
