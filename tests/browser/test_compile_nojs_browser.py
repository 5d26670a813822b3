"""The compile screen with JavaScript off, in Debian's Chromium: the basic actions still
work as plain forms (add from the pool, edit a blurb and save, move, save the letter,
filter the pool, remove), each answered by the page again with a message."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from newsletters.models import Issue, IssueItem
from tests.browser.conftest import HAS_CHROMIUM
from tests.browser.test_compile_browser import editor, log_in
from tests.factories import ArticleFactory, IssueFactory, IssueItemFactory

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(not HAS_CHROMIUM, reason="Debian's chromium is not installed"),
]


def message(page) -> str:
    return page.text_content(".messagelist")


def test_the_basic_actions_work_without_javascript(live_server, chromium, artifacts_dir):
    editor("editor", "Eve")
    today = timezone.localdate()
    issue = IssueFactory(period_start=today - timedelta(days=6), period_end=today)
    now = timezone.now()
    first = IssueItemFactory(
        issue=issue,
        section=IssueItem.Section.RADAR,
        order=1,
        article=ArticleFactory(title="Court halts data deal", published_at=now),
        blurb="Old blurb",
    )
    ArticleFactory(title="Senate passes chip subsidies", published_at=now - timedelta(hours=1))
    ArticleFactory(title="Regulator fines app store", published_at=now - timedelta(hours=2))

    context = chromium.new_context(
        java_script_enabled=False, viewport={"width": 1280, "height": 1000}
    )
    context.set_default_timeout(30_000)
    page = log_in(
        context, live_server.url, "editor", f"/admin/newsletters/issue/{issue.pk}/compile/"
    )
    page.wait_for_selector("#compile")
    # Scripting is off: the <noscript> Save buttons are part of the page.
    assert page.locator("#issue-form button", has_text="Save").is_visible()

    # Add from the pool: the form posts, the page comes back with the new card.
    story = page.locator("#pool-results .pool-story", has_text="Senate passes chip subsidies")
    story.get_by_role("button", name="Add “Senate passes chip subsidies” to Radar").click()
    page.wait_for_selector(".messagelist li:has-text('Added “Senate passes chip subsidies”')")
    added = IssueItem.objects.get(issue=issue, article__title="Senate passes chip subsidies")
    assert added.section == IssueItem.Section.RADAR
    assert page.locator(f"#item-{added.pk}").count() == 1
    # The pool keeps the story, marked as taken, with no add button any more.
    taken = page.locator("#pool-results .pool-story", has_text="Senate passes chip subsidies")
    assert "In this issue" in taken.text_content()
    assert taken.get_by_role("button").count() == 0

    # Edit a blurb and save it with the card's own Save button.
    page.fill(f"#blurb-{first.pk}", "A court suspended the data deal.")
    page.locator(f"#item-{first.pk} .card-actions button", has_text="Save").click()
    page.wait_for_selector(".messagelist li:has-text('Saved “Court halts data deal”')")
    assert IssueItem.objects.get(pk=first.pk).blurb == "A court suspended the data deal."
    assert page.input_value(f"#blurb-{first.pk}") == "A court suspended the data deal."

    # Move the new item up: the order is stored (based on the order the page showed).
    page.get_by_role("button", name="Move “Senate passes chip subsidies” up").click()
    page.wait_for_selector(".messagelist li:has-text('Moved “Senate passes chip subsidies”')")
    radar = issue.items.filter(section=IssueItem.Section.RADAR).order_by("order")
    assert list(radar.values_list("pk", flat=True)) == [added.pk, first.pk]
    cards = page.locator("#list-radar > li.card").evaluate_all("cs => cs.map(c => c.dataset.item)")
    assert cards == [str(added.pk), str(first.pk)]

    # The letter and title save with the issue form's Save button.
    page.fill("#id_letter", "Dear readers,\n\nWritten without JavaScript.")
    page.locator("#issue-form button", has_text="Save").click()
    page.wait_for_selector(f".messagelist li:has-text('Issue #{issue.number} saved')")
    assert Issue.objects.get(pk=issue.pk).letter == "Dear readers,\n\nWritten without JavaScript."

    # The pool's filter has its own button.
    page.fill("#pool-q", "app store")
    page.locator(".pool-filters button", has_text="Filter").click()
    page.wait_for_selector("#pool-results .pool-count:has-text('(filtered)')")
    titles = page.locator("#pool-results .pool-title").all_text_contents()
    assert titles == ["Regulator fines app store"]
    page.screenshot(path=artifacts_dir / "compile-nojs-1.png", full_page=True)

    # Remove (no confirmation dialog without JavaScript: the button posts at once).
    page.get_by_role("button", name="Remove").first.click()
    page.wait_for_selector(".messagelist li:has-text('Removed')")
    assert list(issue.items.values_list("pk", flat=True)) == [first.pk]
    assert page.locator(f"#item-{added.pk}").count() == 0
    page.screenshot(path=artifacts_dir / "compile-nojs-2-removed.png", full_page=True)
    context.close()
