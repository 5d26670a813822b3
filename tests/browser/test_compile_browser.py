"""An editor's week on the compile screen, in Debian's Chromium, with nothing lost.

The whole flow: create an issue, auto-draft, add from the pool while a blurb is being
typed (the text survives), drag to reorder (persisted), two editors on one item (the
second sees the conflict and keeps both texts), upload an image, insert a story link
in the letter, preview web, email and plain text, send a test, schedule, unschedule,
and send after the confirmation names the audience. Each step leaves a screenshot in
test-artifacts/ (and the overview one in docs/ when COMPILE_DOCS_SCREENSHOT is set).
"""

from __future__ import annotations

import io
import os
import re
from datetime import timedelta
from pathlib import Path

import pytest
from django.contrib.auth.models import User
from django.core import mail
from django.utils import timezone
from PIL import Image
from playwright.sync_api import expect

from newsletters.models import Issue, IssueItem
from tests.browser.conftest import HAS_CHROMIUM
from tests.browser.test_editorial_browser import _editors_group
from tests.factories import ArticleFactory, SourceFactory, StoryGroupFactory, SubscriberFactory

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(not HAS_CHROMIUM, reason="Debian's chromium is not installed"),
]
DOCS = Path(__file__).resolve().parents[2] / "docs"


def editor(username: str, first_name: str) -> User:
    user = User.objects.create_user(
        username,
        email=f"{username}@example.org",
        password="correct-horse-battery",
        is_staff=True,
        first_name=first_name,
    )
    user.groups.add(_editors_group())
    return user


def log_in(context, base: str, username: str, next_url: str):
    page = context.new_page()
    page.goto(f"{base}/admin/login/?next={next_url}")
    page.fill("#id_username", username)
    page.fill("#id_password", "correct-horse-battery")
    page.click("input[type=submit]")
    page.wait_for_load_state()
    return page


def radar_ids(page) -> list[str]:
    return page.locator("#list-radar > li.card").evaluate_all(
        "cards => cards.map(card => card.dataset.item)"
    )


def wait_for_cards(page, count: int) -> None:
    # Locator waits, not wait_for_function: that evaluates a string in the page, which
    # the site's policy (no 'unsafe-eval') refuses, as it should.
    expect(page.locator("#list-radar > li.card")).to_have_count(count)


def wait_for_orders(page) -> None:
    """Wait until the screen has no reorder waiting for the server's answer."""
    page.wait_for_selector("#compile[data-order-pending='0']", state="attached")


def wait_for_issue_saved(page, text: str) -> None:
    """Wait until the issue's fields are saved with ``text`` in the letter: the save
    state says saved and no debounced save of a later keystroke is still due."""
    expect(page.locator("#issue-save-state .state-saved")).to_be_attached()
    expect(page.locator("#issue-form")).not_to_have_class(re.compile(r"\bhtmx-request\b"))
    deadline = 30
    for _ in range(deadline * 10):
        if text in Issue.objects.values_list("letter", flat=True).get():
            return
        page.wait_for_timeout(100)
    raise AssertionError(f"the letter was not saved with {text!r}")


def drag_card_above(page, *, source: int, target: int) -> None:
    """Drag card ``source``'s handle above card ``target`` in small steps, as a hand
    does, so SortableJS sees a drag and not a click."""
    handle = page.locator("#list-radar > li.card .drag-handle").nth(source)
    handle.scroll_into_view_if_needed()
    start = handle.bounding_box()
    goal = page.locator("#list-radar > li.card").nth(target).bounding_box()
    page.mouse.move(start["x"] + 5, start["y"] + start["height"] / 2)
    page.mouse.down()
    page.wait_for_timeout(150)
    page.mouse.move(start["x"] + 5, start["y"] - 10, steps=5)
    page.wait_for_timeout(150)
    page.mouse.move(goal["x"] + 20, goal["y"] + 5, steps=20)
    page.wait_for_timeout(300)
    page.mouse.up()
    page.wait_for_timeout(400)


# Recorded in every page before its own scripts run: policy violations and htmx's refusals
# to evaluate (it would need 'unsafe-eval', which the policy does not allow).
WATCH_POLICY = """
window.__policyProblems = [];
document.addEventListener("securitypolicyviolation", (event) => {
  window.__policyProblems.push(
    `${event.violatedDirective} ${event.blockedURI} ${event.sourceFile}:${event.lineNumber}`
  );
});
document.addEventListener("htmx:evalDisallowedError", (event) => {
  window.__policyProblems.push(
    `htmx refused to evaluate on ${event.target.outerHTML.slice(0, 120)}`
  );
});
"""


def watch_policy(context) -> list[str]:
    """Console errors and CSP violations of every page of ``context``, as they happen.

    HTTP answers the flow expects (the favicon's 404, a conflict's 409) are logged by
    Chromium as "Failed to load resource" and are not counted."""
    problems: list[str] = []
    context.add_init_script(WATCH_POLICY)

    def on_console(message) -> None:
        if message.type == "error" and not message.text.startswith("Failed to load resource"):
            problems.append(f"console: {message.text}")

    context.on("console", on_console)
    context.on("weberror", lambda error: problems.append(f"page error: {error.error}"))
    return problems


def policy_problems(page, seen: list[str]) -> list[str]:
    return seen + page.evaluate("window.__policyProblems || []")


def png(width: int, height: int) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (width, height), (30, 90, 160)).save(buffer, format="PNG")
    return buffer.getvalue()


def test_an_editors_week_on_the_compile_screen(
    live_server, chromium, artifacts_dir, settings, tmp_path
):
    settings.SITE_URL = live_server.url
    settings.MEDIA_ROOT = tmp_path
    shots = artifacts_dir
    editor("editor", "Eve")
    editor("ana", "Ana")
    now = timezone.now()
    for hours, title in enumerate(
        [
            "Court halts transatlantic data deal",
            "Senate passes chip subsidies",
            "Regulator fines app store",
            "Ministers agree on AI code",
        ],
        start=1,
    ):
        ArticleFactory(
            title=title,
            body_text=f"{title} today. The decision follows a long review. More to come.",
            published_at=now - timedelta(hours=hours),
        )
    group = StoryGroupFactory()
    for n in range(2):
        ArticleFactory(
            title=f"Cyber agency warns of attacks ({n})",
            group=group,
            source=SourceFactory(name=f"Outlet {n}"),
            published_at=now - timedelta(days=2, hours=n),
        )
    for _ in range(3):
        SubscriberFactory(active=True)

    context = chromium.new_context(viewport={"width": 1280, "height": 1000})
    context.set_default_timeout(30_000)
    problems = watch_policy(context)
    page = log_in(context, live_server.url, "editor", "/admin/newsletters/issue/add/")

    # Create the issue: saving the new issue lands on its compile screen.
    page.fill("#id_title", "Courts, chips and app stores")
    with page.expect_response(re.compile(r"/compile/$")) as compile_response:
        page.click("input[name=_save]")
    page.wait_for_selector("#compile")
    issue = Issue.objects.get()
    assert page.url.endswith(f"/admin/newsletters/issue/{issue.pk}/compile/")
    # The strict policy as served, and htmx configured never to evaluate code.
    script_src = compile_response.value.headers["content-security-policy"]
    assert "script-src 'self'" in script_src
    assert "unsafe-eval" not in script_src
    assert "unsafe-inline" not in script_src.split("script-src")[1].split(";")[0]
    assert page.evaluate("htmx.config.allowEval") is False
    assert page.evaluate("document.documentElement.scrollWidth") <= 1280
    assert "reported by 2 sources" in page.text_content("#pool")
    page.screenshot(path=shots / "compile-1-empty.png", full_page=True)

    # Auto-draft fills Radar from the pool.
    page.click("#autodraft-button")
    page.wait_for_selector("#list-radar > li.card")
    drafted = issue.items.filter(section=IssueItem.Section.RADAR).count()
    assert drafted >= 3
    assert page.locator("#list-radar > li.card").count() == drafted
    # The drafted stories stay in the pool, marked as taken and without add buttons.
    in_issue = page.locator("#pool-results .pool-story.used:has-text('In this issue')")
    assert in_issue.count() >= 1
    assert in_issue.first.get_by_role("button").count() == 0

    # Remove one drafted item (no reload), so the pool has a story to add back.
    removed_headline = page.locator("#list-radar > li.card input.headline").last.input_value()
    page.once("dialog", lambda dialog: dialog.accept())
    page.locator("#list-radar > li.card .remove-button").last.click()
    wait_for_cards(page, drafted - 1)
    page.fill("#pool-q", removed_headline[:20])
    # The filtered list has replaced the full one (the story is in both).
    page.wait_for_selector("#pool-results .pool-count:has-text('(filtered)')")
    page.wait_for_selector(f"#pool-results .pool-story:has-text('{removed_headline[:20]}')")

    # Type a blurb and, before it is saved, add a story from the pool: the text stays.
    blurb = page.locator("#list-radar > li.card textarea.blurb").first
    typed = "Typed while adding a story: this must survive."
    blurb.fill(typed)
    add_button = page.locator("#pool-results .pool-story:not(.used)").first.get_by_role(
        "button", name=re.compile("Radar")
    )
    add_button.click()
    page.wait_for_selector("#pool-results .pool-story.used:has-text('Added to Radar')")
    wait_for_cards(page, drafted)
    assert blurb.input_value() == typed
    page.wait_for_selector("#list-radar > li.card >> nth=0 >> .state-saved")
    first_id = radar_ids(page)[0]
    assert IssueItem.objects.get(pk=first_id).blurb == typed
    page.screenshot(path=shots / "compile-2-added-while-typing.png", full_page=True)

    # Drag the third card above the first; the order is stored.
    before = radar_ids(page)
    expected = [before[2], before[0], before[1], *before[3:]]
    for _attempt in range(3):  # a drag can be lost to a busy CPU; a person would try again
        drag_card_above(page, source=radar_ids(page).index(expected[0]), target=0)
        if radar_ids(page) == expected:
            break
    assert radar_ids(page) == expected
    # Every reorder the drags made is answered (they go one at a time, in order), and
    # the last one said so; only then is the stored order looked at.
    wait_for_orders(page)
    assert page.text_content("#compile-messages") == "Order saved."
    stored = list(
        issue.items.filter(section=IssueItem.Section.RADAR)
        .order_by("order")
        .values_list("id", flat=True)
    )
    assert [str(pk) for pk in stored] == expected
    # The keyboard moves a card too (Alt+↓ on its headline).
    page.locator(f"#item-{expected[0]} input.headline").focus()
    page.keyboard.press("Alt+ArrowDown")
    expect(page.locator("#list-radar > li.card").nth(1)).to_have_attribute(
        "data-item", expected[0]
    )
    wait_for_orders(page)
    stored = issue.items.filter(section=IssueItem.Section.RADAR).order_by("order")
    assert [str(pk) for pk in stored.values_list("id", flat=True)][:2] == [
        expected[1],
        expected[0],
    ]
    page.screenshot(path=shots / "compile-3-reordered.png", full_page=True)

    # Two editors on one item: Ana saves first; Eve's next save is refused, both shown.
    ana_context = chromium.new_context(viewport={"width": 1280, "height": 1000})
    ana_context.set_default_timeout(30_000)
    ana_problems = watch_policy(ana_context)
    compile_path = f"/admin/newsletters/issue/{issue.pk}/compile/"
    ana = log_in(ana_context, live_server.url, "ana", compile_path)
    ana.wait_for_selector("#compile")
    assert "Eve is editing this issue too." in ana.text_content("#presence")
    target = expected[1]
    ana.fill(f"#blurb-{target}", "Ana's blurb, saved first.")
    ana.wait_for_selector(f"#item-{target} .state-saved")
    page.fill(f"#blurb-{target}", "Eve's blurb, typed on an old copy.")
    page.wait_for_selector(f"#item-{target} .conflict")
    conflict = page.text_content(f"#item-{target} .conflict")
    assert "Ana saved this in the meantime" in conflict
    assert "Ana's blurb, saved first." in conflict
    assert IssueItem.objects.get(pk=target).blurb == "Ana's blurb, saved first."
    page.screenshot(path=shots / "compile-4-conflict.png", full_page=True)
    page.click(f"#item-{target} button[data-conflict=merge]")
    assert page.input_value(f"#blurb-{target}") == (
        "Eve's blurb, typed on an old copy.\n\nAna's blurb, saved first."
    )
    page.fill(f"#blurb-{target}", "Merged: Eve and Ana agree.")
    page.wait_for_selector(f"#item-{target} .state-saved")
    assert IssueItem.objects.get(pk=target).blurb == "Merged: Eve and Ana agree."
    assert policy_problems(ana, ana_problems) == []
    ana_context.close()

    # Upload an image for the first card: stored resized, shown at once.
    card = f"#item-{expected[0]}"
    page.click(f"{card} .image-tools summary")
    page.set_input_files(
        f"{card} input[name=upload]",
        files=[{"name": "photo.png", "mimeType": "image/png", "buffer": png(1600, 800)}],
    )
    page.click(f"{card} .image-submit")
    page.wait_for_selector(f"{card} img.thumb[src*='/media/issues/']")
    expect(page.locator(f"{card} img.thumb")).to_have_js_property("naturalWidth", 1200)
    assert "/media/issues/" in IssueItem.objects.get(pk=expected[0]).image_url

    # Insert a story link into the letter: previewed live, stored as a reference.
    page.fill("#id_letter", "Dear readers,\n\nThis week: ")
    page.select_option("#story-picker", index=0)
    page.click("#insert-story")
    page.wait_for_selector("#letter-preview a[href*='/articles/']")
    # The picker offers the pool's stories too (as filtered), not only the issue's items.
    page.fill("#pool-q", "")
    page.wait_for_selector("#pool-results .pool-count:not(:has-text('(filtered)'))")
    pool_choice = page.locator("#story-picker optgroup.pool-choices option").first
    pool_article = pool_choice.get_attribute("value")
    assert not issue.items.filter(article_id=pool_article).exists()
    page.select_option("#story-picker", value=pool_article)
    page.click("#insert-story")
    expect(page.locator("#id_letter")).to_have_value(
        re.compile(re.escape(f"(article:{pool_article})"))
    )
    wait_for_issue_saved(page, f"(article:{pool_article})")
    issue.refresh_from_db()
    assert len(re.findall(r"\]\(article:\d+\)", issue.letter)) == 2
    assert f"(article:{pool_article})" in issue.letter
    page.screenshot(path=shots / "compile-5-letter-image.png", full_page=True)
    # Everything so far (htmx saves, swaps, polling, drag, upload) ran under the policy.
    assert policy_problems(page, problems) == []
    if os.environ.get("COMPILE_DOCS_SCREENSHOT"):
        page.screenshot(path=DOCS / "compile-screen.png")

    # Previews: web, email and plain text, each one click away.
    previews = (("#preview-web", "web"), ("#preview-email", "email"), ("#preview-text", "text"))
    for link, name in previews:
        with context.expect_page() as opened:
            page.click(link)
        preview = opened.value
        preview.wait_for_load_state()
        body = preview.text_content("body")
        assert "Merged: Eve and Ana agree." in body
        preview.screenshot(path=shots / f"compile-6-preview-{name}.png", full_page=True)
        preview.close()

    # A test copy, then schedule and unschedule.
    page.click("#test-send-button")
    page.wait_for_selector(".messagelist li:has-text('A test copy is on its way')")
    assert len(mail.outbox) == 1
    page.fill("#send-at", (timezone.localtime() + timedelta(days=1)).strftime("%Y-%m-%dT08:00"))
    page.click("#schedule-button")
    page.wait_for_selector("#issue-status:has-text('Scheduled')")
    page.click("#unschedule-button")
    page.wait_for_selector("#issue-status:has-text('Draft')")

    # Send: the confirmation names the audience and shows the checklist.
    page.click("#send-link")
    page.wait_for_selector("#audience")
    assert page.text_content("#audience") == (
        f"Send #{issue.number} to 3 subscribers: 3 full issue, 0 topic digests"
    )
    assert "Test sent" in page.text_content("#checklist")
    page.screenshot(path=shots / "compile-7-confirm-send.png", full_page=True)
    page.click("#confirm-send-button")
    page.wait_for_selector(".messagelist li:has-text('is being sent')")
    issue.refresh_from_db()
    assert issue.status in (Issue.Status.SENDING, Issue.Status.SENT)
    assert issue.deliveries.count() == 3
    page.screenshot(path=shots / "compile-8-sent.png", full_page=True)
    assert policy_problems(page, problems) == []
    context.close()
