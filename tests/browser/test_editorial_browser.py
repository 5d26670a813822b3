"""An editor compiles and schedules an issue in a real browser (Debian's Chromium).

Creates an issue, adds three articles from the pool, reorders them by dragging,
edits a blurb, opens the web and email previews and schedules the issue; each step
asserts what the page shows and leaves a screenshot in test-artifacts/.
"""

from __future__ import annotations

import importlib
from datetime import timedelta
from pathlib import Path

import pytest
from django.apps import apps as django_apps
from django.contrib.auth.models import Group, User
from django.utils import timezone

from newsletters.models import Issue, IssueItem
from tests.browser.conftest import HAS_CHROMIUM
from tests.factories import ArticleFactory, SourceFactory, StoryGroupFactory

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(not HAS_CHROMIUM, reason="Debian's chromium is not installed"),
]


def _editors_group() -> Group:
    """The Editors group exactly as the data migration makes it (a transactional test
    may start after another one flushed the migration's rows)."""
    migrations = Path(__file__).resolve().parents[2] / "newsletters" / "migrations"
    module_name = next(migrations.glob("*_editors_group.py")).stem
    migration = importlib.import_module(f"newsletters.migrations.{module_name}")
    migration.create_editors_group(django_apps, None)
    return Group.objects.get(name=migration.GROUP_NAME)


@pytest.fixture
def browser_page(chromium):
    context = chromium.new_context(viewport={"width": 1400, "height": 1000})
    context.set_default_timeout(15_000)
    page = context.new_page()
    yield page
    context.close()


def drag_row_above(page, rows: str, *, source: int, target: int) -> None:
    """Drag row ``source`` by its handle (the row's title cell) above row ``target``,
    moving in small steps with pauses, as a hand does, so SortableJS sees a real drag
    (on a busy machine a drag that is too quick is taken for a click)."""
    handle = page.locator(f"{rows} td.original p").nth(source)
    handle.scroll_into_view_if_needed()
    start = handle.bounding_box()
    goal = page.locator(rows).nth(target).bounding_box()
    page.mouse.move(start["x"] + 10, start["y"] + start["height"] / 2)
    page.mouse.down()
    page.wait_for_timeout(150)
    page.mouse.move(start["x"] + 10, start["y"] - 10, steps=5)
    page.wait_for_timeout(150)
    page.mouse.move(goal["x"] + 20, goal["y"] + 5, steps=20)
    page.wait_for_timeout(300)
    page.mouse.up()
    page.wait_for_timeout(300)  # SortableJS animates for 150 ms, then renumbers


def radar_headlines(page) -> list[str]:
    return page.locator("#items-group tr.has_original input[name$='-headline']").evaluate_all(
        "inputs => inputs.map(input => input.value)"
    )


def test_editor_compiles_previews_and_schedules_an_issue(live_server, browser_page, artifacts_dir):
    page = browser_page
    editor = User.objects.create_user(
        "editor", email="editor@example.org", password="correct-horse-battery", is_staff=True
    )
    editor.groups.add(_editors_group())
    now = timezone.now()
    stories = {
        "Court halts transatlantic data deal": "A court suspended the data deal on Monday. "
        "Companies must stop transfers at once. Hearings follow in June.",
        "Senate passes chip subsidies": "Lawmakers approved the subsidies late on Tuesday. "
        "The House votes next week.",
        "Regulator fines app store": "The competition authority fined the app store. "
        "It has ninety days to change its rules.",
    }
    for hours, (title, body) in enumerate(stories.items(), start=1):
        ArticleFactory(title=title, body_text=body, published_at=now - timedelta(hours=hours))
    group = StoryGroupFactory()
    for n in range(2):
        ArticleFactory(
            title=f"Cyber agency warns of attacks ({n})",
            group=group,
            source=SourceFactory(name=f"Outlet {n}"),
            published_at=now - timedelta(days=2, hours=n),
        )

    # Log in.
    page.goto(f"{live_server.url}/admin/login/?next=/admin/newsletters/issue/add/")
    page.fill("#id_username", "editor")
    page.fill("#id_password", "correct-horse-battery")
    page.click("input[type=submit]")

    # New issue: number and period proposed.
    page.wait_for_url("**/admin/newsletters/issue/add/")
    assert page.input_value("#id_number") == "1"
    assert page.input_value("#id_period_end") == timezone.localdate().strftime("%d/%m/%Y")
    page.fill("#id_title", "Courts, chips and app stores")
    page.fill("#id_letter", "Dear readers,\n\nA week of *rulings*.")
    page.screenshot(path=artifacts_dir / "editorial-1-new-issue.png", full_page=True)
    page.click("input[name=_save]")

    # A new issue opens on its compile screen; this test walks the classic page.
    page.wait_for_selector("#compile")
    issue = Issue.objects.get(number=1)
    page.click("a:has-text('Classic form')")
    # The issue's page, with its pool; the duplicate story is folded.
    page.wait_for_selector("#pool")
    assert page.text_content("#issue-status") == "Draft"
    assert page.locator("#pool tr.pool-story").count() == 4
    assert "reported by 2 sources" in page.text_content("#pool")

    # Add three articles to Radar, in pool order.
    for title in stories:
        row = page.locator("#pool tr.pool-story", has_text=title)
        row.get_by_role("button", name="Add to Radar").click()
        page.wait_for_selector(f".messagelist li:has-text('Added “{title}” to Radar')")
    assert radar_headlines(page) == list(stories)
    assert page.locator("#pool tr.pool-story").count() == 1  # only the folded story is left
    prefilled = page.locator("#items-group tr.has_original textarea[name$='-blurb']").first
    assert prefilled.input_value() == (
        "A court suspended the data deal on Monday. Companies must stop transfers at once."
    )
    page.screenshot(path=artifacts_dir / "editorial-2-three-added.png", full_page=True)

    # Drag the third item above the first.
    expected = [
        "Regulator fines app store",
        "Court halts transatlantic data deal",
        "Senate passes chip subsidies",
    ]
    for _attempt in range(3):  # a drag can be lost to a busy CPU; a person would try again
        current = radar_headlines(page)
        source = current.index(expected[0])
        drag_row_above(page, "#items-group tr.has_original", source=source, target=0)
        if radar_headlines(page) == expected:
            break
    assert radar_headlines(page) == expected
    orders = page.locator("#items-group tr.has_original input._reorder_").evaluate_all(
        "inputs => inputs.map(input => input.value)"
    )
    assert orders == ["1", "2", "3"]

    # Edit a blurb, save.
    edited = "The authority fined the app store a record sum; the rules must change."
    page.locator("#items-group tr.has_original textarea[name$='-blurb']").first.fill(edited)
    page.screenshot(path=artifacts_dir / "editorial-3-reordered-edited.png", full_page=True)
    page.click("input[name=_continue]")
    page.wait_for_selector(".messagelist li.success")
    assert radar_headlines(page) == expected
    saved = list(
        issue.items.filter(section=IssueItem.Section.RADAR)
        .order_by("order")
        .values_list("headline", "blurb", "edited_by_editor")
    )
    assert [headline for headline, _, _ in saved] == expected
    assert saved[0][1:] == (edited, True)
    assert saved[1][2] is False

    # Web preview: the reader's page of the draft, items in the new order.
    with page.context.expect_page() as opened:
        page.click("#preview-web")
    web = opened.value
    web.wait_for_load_state()
    web_text = web.text_content("body")
    assert "Courts, chips and app stores" in web_text
    assert "{#" not in web_text and "{%" not in web_text
    assert edited in web_text
    positions = [web_text.index(headline) for headline in expected]
    assert positions == sorted(positions)
    web.screenshot(path=artifacts_dir / "editorial-4-web-preview.png", full_page=True)
    web.close()

    # Email preview: the message as it arrives, CSS inlined, same order.
    with page.context.expect_page() as opened:
        page.click("#preview-email")
    email = opened.value
    email.wait_for_load_state()
    email_text = email.text_content("body")
    assert edited in email_text
    positions = [email_text.index(headline) for headline in expected]
    assert positions == sorted(positions)
    assert email.locator("[style]").count() > 10
    email.screenshot(path=artifacts_dir / "editorial-5-email-preview.png", full_page=True)
    email.close()

    # Schedule for tomorrow morning (the proposed time).
    page.click("#schedule-button")
    page.wait_for_selector(".messagelist li.success:has-text('is scheduled for')")
    assert page.text_content("#issue-status") == "Scheduled"
    assert "Draft → Scheduled" in page.text_content("#status-history")
    assert "editor" in page.text_content("#status-history")
    assert page.locator("#unschedule-button").count() == 1
    page.screenshot(path=artifacts_dir / "editorial-6-scheduled.png", full_page=True)
    issue.refresh_from_db()
    assert issue.status == Issue.Status.SCHEDULED
    assert issue.scheduled_at > timezone.now()
