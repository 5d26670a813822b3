"""The issue page's buttons: add from pool, auto-draft, schedule, unschedule, send, test send."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core import mail
from django.urls import reverse
from django.utils import timezone

from newsletters.models import Issue, IssueStatusChange
from tests.factories import (
    ArticleFactory,
    IssueFactory,
    IssueItemFactory,
)
from tests.newsletters.admin.pages import (
    change_url,
    messages_of,
    parse,
    week_issue,
)

pytestmark = pytest.mark.django_db


def test_add_from_pool_creates_a_prefilled_item_at_the_end_of_the_section(editor_client):
    issue = week_issue()
    IssueItemFactory(issue=issue, order=1)
    article = ArticleFactory(
        title="Court halts data deal",
        body_text="A court suspended the deal. Transfers must stop. Hearings follow.",
        image_url="https://img.example.org/a.jpg",
    )

    response = editor_client.post(
        reverse("admin:newsletters_issue_add_article", args=[issue.pk]),
        {"article": article.pk, "section": "radar", "pool_query": "pool_q=court&evil=1"},
    )

    assert response.status_code == 302
    assert response["Location"] == change_url(issue) + "?pool_q=court#pool"
    item = issue.items.get(article=article)
    assert (item.section, item.order, item.headline) == ("radar", 2, "Court halts data deal")
    assert item.blurb == "A court suspended the deal. Transfers must stop."
    assert item.image_url == "https://img.example.org/a.jpg"
    assert not item.edited_by_editor


def test_adding_an_article_used_by_another_issue_is_refused_with_a_message(editor_client):
    issue = week_issue(number=2)
    article = ArticleFactory(title="Used story")
    IssueItemFactory(issue=IssueFactory(number=1), article=article)

    response = editor_client.post(
        reverse("admin:newsletters_issue_add_article", args=[issue.pk]),
        {"article": article.pk, "section": "radar"},
        follow=True,
    )

    assert "“Used story” is already in issue #1." in messages_of(response)
    assert not issue.items.exists()


def test_add_from_pool_needs_post_and_csrf(editor):
    from django.test import Client

    issue = week_issue()
    article = ArticleFactory()
    client = Client(enforce_csrf_checks=True)
    client.force_login(editor)
    url = reverse("admin:newsletters_issue_add_article", args=[issue.pk])

    assert client.get(url, {"article": article.pk}).status_code == 405
    assert client.post(url, {"article": article.pk, "section": "radar"}).status_code == 403
    assert not issue.items.exists()


def test_autodraft_button_fills_the_issue_and_reports(editor_client):
    issue = week_issue(letter="")
    for n in range(3):
        ArticleFactory(title=f"Story {n}")

    response = editor_client.post(
        reverse("admin:newsletters_issue_autodraft", args=[issue.pk]), follow=True
    )

    assert issue.items.filter(section="radar").count() == 3
    assert (
        "Auto-draft added 3 Radar items, 0 Reading corner items, 0 events and a letter outline."
        in messages_of(response)
    )


# ------------------------------------------------------------------- workflow


def test_schedule_button_schedules_and_history_shows_who(editor_client):
    issue = week_issue()
    IssueItemFactory(issue=issue)
    when = (timezone.localtime() + timedelta(days=1)).replace(second=0, microsecond=0)

    response = editor_client.post(
        reverse("admin:newsletters_issue_schedule", args=[issue.pk]),
        {"send_at": when.strftime("%Y-%m-%dT%H:%M")},
        follow=True,
    )

    issue.refresh_from_db()
    assert issue.status == Issue.Status.SCHEDULED
    assert issue.scheduled_at == when
    root = parse(response)
    assert root.get_element_by_id("issue-status").text == "Scheduled"
    history = root.xpath("//*[@id='status-history']//tbody/tr/td")
    assert [cell.text_content() for cell in history[1:3]] == ["Draft → Scheduled", "editor"]
    assert root.xpath("//*[@id='unschedule-button']")
    assert not root.xpath("//*[@id='schedule-button']")


@pytest.mark.parametrize(
    ("title", "with_item", "send_at", "message"),
    [
        ("", True, "tomorrow", "has no title"),
        ("A title", False, "tomorrow", "has no Radar items"),
        ("A title", True, "2020-01-01T08:00", "is in the past"),
        ("A title", True, "not a date", "Give the send time as a date and a time"),
    ],
)
def test_schedule_refusals_show_a_clear_message(editor_client, title, with_item, send_at, message):
    issue = week_issue(title=title)
    if with_item:
        IssueItemFactory(issue=issue)
    if send_at == "tomorrow":
        send_at = (timezone.localtime() + timedelta(days=1)).strftime("%Y-%m-%dT%H:%M")

    response = editor_client.post(
        reverse("admin:newsletters_issue_schedule", args=[issue.pk]),
        {"send_at": send_at},
        follow=True,
    )

    assert any(message in text for text in messages_of(response))
    assert Issue.objects.get(pk=issue.pk).status == Issue.Status.DRAFT


def test_scheduling_twice_shows_a_clear_message(editor_client):
    issue = week_issue(status=Issue.Status.SCHEDULED)
    IssueItemFactory(issue=issue)
    response = editor_client.post(
        reverse("admin:newsletters_issue_schedule", args=[issue.pk]),
        {"send_at": (timezone.localtime() + timedelta(days=2)).strftime("%Y-%m-%dT%H:%M")},
        follow=True,
    )
    assert any("already scheduled" in text for text in messages_of(response))


def test_unschedule_button_returns_to_draft(editor_client):
    issue = week_issue(status=Issue.Status.SCHEDULED)
    response = editor_client.post(
        reverse("admin:newsletters_issue_unschedule", args=[issue.pk]), follow=True
    )
    assert Issue.objects.get(pk=issue.pk).status == Issue.Status.DRAFT
    assert f"Issue #{issue.number} is a draft again." in messages_of(response)


def test_send_now_of_a_sent_issue_is_refused_with_a_message(editor_client):
    issue = week_issue(status=Issue.Status.SENT)
    IssueItemFactory(issue=issue)
    response = editor_client.post(
        reverse("admin:newsletters_issue_send", args=[issue.pk]), follow=True
    )
    assert any("cannot be scheduled or sent again" in text for text in messages_of(response))


def test_without_send_permission_buttons_are_hidden_and_posts_refused(client, junior):
    client.force_login(junior)
    issue = week_issue()
    IssueItemFactory(issue=issue)

    root = parse(client.get(change_url(issue)))
    assert not root.xpath("//*[@id='schedule-button']")
    assert not root.xpath("//*[@id='send-now-button']")
    assert root.xpath("//*[@id='autodraft-button']")  # compiling is still allowed

    tomorrow = (timezone.localtime() + timedelta(days=1)).strftime("%Y-%m-%dT%H:%M")
    for name, data in (("schedule", {"send_at": tomorrow}), ("send", {})):
        response = client.post(
            reverse(f"admin:newsletters_issue_{name}", args=[issue.pk]), data, follow=True
        )
        assert "You do not have permission to schedule or send issues." in messages_of(response)
    assert Issue.objects.get(pk=issue.pk).status == Issue.Status.DRAFT
    assert not IssueStatusChange.objects.exists()


def test_send_a_test_to_me_sends_one_copy_to_the_editor(editor_client):
    issue = week_issue(title="Test send title")
    IssueItemFactory(issue=issue)

    response = editor_client.post(
        reverse("admin:newsletters_issue_test_send", args=[issue.pk]), follow=True
    )

    assert len(mail.outbox) == 1
    assert mail.outbox[0].to == ["editor@example.org"]
    assert "Test send title" in mail.outbox[0].subject
    assert "A test copy is on its way to editor@example.org." in messages_of(response)
    assert Issue.objects.get(pk=issue.pk).status == Issue.Status.DRAFT


def test_send_a_test_without_an_address_says_so(client, junior):
    junior.email = ""
    junior.save()
    client.force_login(junior)
    issue = week_issue()
    response = client.post(
        reverse("admin:newsletters_issue_test_send", args=[issue.pk]), follow=True
    )
    assert not mail.outbox
    assert any("no email address" in text for text in messages_of(response))


@pytest.mark.parametrize(
    "backend",
    ["django.core.mail.backends.console.EmailBackend", "digest.core.mailbox.EmailBackend"],
    ids=["console", "file"],
)
def test_send_a_test_to_me_works_with_the_console_and_file_backends(
    editor_client, settings, tmp_path, capsys, backend
):
    settings.EMAIL_BACKEND = backend
    settings.EMAIL_FILE_PATH = str(tmp_path)
    issue = week_issue(title="Backend – test")
    IssueItemFactory(issue=issue)

    response = editor_client.post(
        reverse("admin:newsletters_issue_test_send", args=[issue.pk]), follow=True
    )

    assert response.status_code == 200
    assert "A test copy is on its way to editor@example.org." in messages_of(response)
    printed = capsys.readouterr().out
    if backend.startswith("django"):
        written = printed
    else:
        (eml,) = tmp_path.iterdir()
        written = eml.read_text()
        assert (
            f"Email to editor@example.org: '[Test] Weekly #{issue.number} – Backend – test'"
            in printed
        )
    assert "To: editor@example.org" in written
    assert "Content-Type: multipart/alternative" in written


def sent_issue_with_failures(failed: int = 2, sent: int = 3) -> Issue:
    from tests.factories import DeliveryFactory

    issue = IssueFactory(status=Issue.Status.SENT, sent_at=timezone.now())
    for status, count in (("failed", failed), ("sent", sent)):
        for _ in range(count):
            DeliveryFactory(
                issue=issue, status=status, error="550 no" if status == "failed" else ""
            )
    return issue


def test_sent_issue_with_failures_says_so_and_retries_once(editor_client):
    issue = sent_issue_with_failures()

    page = parse(editor_client.get(change_url(issue)))
    assert page.get_element_by_id("sent-with-failed").text_content() == "Sent with 2 failed."
    assert page.get_element_by_id("retry-failed-button") is not None
    url = reverse("admin:newsletters_issue_retry_failed", args=[issue.pk])

    first = editor_client.post(url, follow=True)
    second = editor_client.post(url, follow=True)

    assert f"Retrying 2 failed deliveries of issue #{issue.number}." in messages_of(first)
    assert f"Issue #{issue.number} has no failed deliveries to retry." in messages_of(second)
    # (Sent again at once with eager tasks; queued for the workers otherwise.)
    assert not issue.deliveries.filter(status="failed").exists()
    assert issue.status_changes.filter(note="Retrying 2 failed deliveries").count() == 1


def test_retry_failed_needs_the_send_permission(client, junior):
    client.force_login(junior)
    issue = sent_issue_with_failures()

    response = client.post(
        reverse("admin:newsletters_issue_retry_failed", args=[issue.pk]), follow=True
    )

    assert "You do not have permission to schedule or send issues." in messages_of(response)
    assert issue.deliveries.filter(status="failed").count() == 2
