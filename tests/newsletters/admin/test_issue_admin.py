"""The issue's admin page: compiling from the pool, previews, test send, workflow buttons."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from itertools import cycle

import factory
import lxml.html
import pytest
from django.contrib.auth.models import Group, Permission, User
from django.core import mail
from django.urls import reverse
from django.utils import timezone

from newsletters.models import Issue, IssueStatusChange
from tests.factories import (
    ArticleFactory,
    EventFactory,
    IssueFactory,
    IssueItemFactory,
    SourceFactory,
    StoryGroupFactory,
    TopicFactory,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def editor(db) -> User:
    user = User.objects.create_user(
        "editor", email="editor@example.org", password="pw-editor-1", is_staff=True
    )
    user.groups.add(Group.objects.get(name="Editors"))
    return user


@pytest.fixture
def junior(db) -> User:
    """Staff who may compile issues but not schedule or send them."""
    user = User.objects.create_user(
        "junior", email="junior@example.org", password="pw-junior-1", is_staff=True
    )
    user.user_permissions.add(
        *Permission.objects.filter(
            content_type__app_label="newsletters",
            codename__in=[
                "view_issue",
                "change_issue",
                "add_issue",
                "change_issueitem",
                "view_issueitem",
                "add_issueitem",
                "delete_issueitem",
            ],
        )
    )
    return user


@pytest.fixture
def editor_client(client, editor):
    client.force_login(editor)
    return client


def change_url(issue: Issue) -> str:
    return reverse("admin:newsletters_issue_change", args=[issue.pk])


def week_issue(**kwargs) -> Issue:
    today = timezone.localdate()
    kwargs.setdefault("period_start", today - timedelta(days=6))
    kwargs.setdefault("period_end", today)
    return IssueFactory(**kwargs)


def form_data(response, form_id: str = "issue_form") -> dict:
    """The fields of a rendered form, as the browser would post them unchanged."""
    root = parse(response)
    form = root.get_element_by_id(form_id)
    data: dict[str, str] = {}
    for element in form.inputs:
        name = element.name
        if not name or (element.tag == "input" and element.type in ("submit", "button")):
            continue
        if element.tag == "input" and element.type == "checkbox":
            if element.checked:
                data[name] = "on"
            continue
        value = element.value or ""
        # Browsers drop the newline that follows <textarea>; lxml keeps it.
        data[name] = value.removeprefix("\n") if element.tag == "textarea" else value
    return data


def parse(response) -> lxml.html.HtmlElement:
    return lxml.html.fromstring(response.content.decode())


def factory_cycle(values):
    return factory.Iterator(cycle(values))


def messages_of(response) -> list[str]:
    return [str(message) for message in response.context["messages"]]


# ------------------------------------------------------------------ new issue


def test_new_issue_form_proposes_next_number_week_ending_today_and_sign_off(
    editor_client, settings
):
    settings.NEWSLETTER_SIGN_OFF = "DW Team"
    IssueFactory(number=208)
    IssueFactory(number=209)

    response = editor_client.get(reverse("admin:newsletters_issue_add"))

    data = form_data(response)
    today = timezone.localdate()
    assert data["number"] == "210"
    assert data["period_end"] == today.strftime("%d/%m/%Y")
    assert data["period_start"] == (today - timedelta(days=6)).strftime("%d/%m/%Y")
    assert data["sign_off"] == "DW Team"


def test_creating_an_issue_with_a_taken_number_says_so(editor_client):
    IssueFactory(number=209)
    response = editor_client.get(reverse("admin:newsletters_issue_add"))
    data = form_data(response) | {"number": "209", "title": "Duplicate"}

    response = editor_client.post(reverse("admin:newsletters_issue_add"), data)

    assert response.status_code == 200
    assert "Issue #209 already exists; the next free number is 210." in response.content.decode()
    assert Issue.objects.count() == 1


def test_creating_an_issue_saves_it_as_a_draft(editor_client):
    response = editor_client.get(reverse("admin:newsletters_issue_add"))
    data = form_data(response) | {"title": "Big Tech on trial", "letter": "Dear readers,"}

    response = editor_client.post(reverse("admin:newsletters_issue_add"), data)

    issue = Issue.objects.get()
    assert (issue.number, issue.title, issue.status) == (1, "Big Tech on trial", "draft")
    # Straight to its page, where it is compiled.
    assert response.status_code == 302
    assert response["Location"] == change_url(issue)


def test_period_ending_before_it_starts_is_refused(editor_client):
    response = editor_client.get(reverse("admin:newsletters_issue_add"))
    data = form_data(response) | {"period_start": "25/04/2025", "period_end": "18/04/2025"}
    response = editor_client.post(reverse("admin:newsletters_issue_add"), data)
    assert "The period cannot end before it starts." in response.content.decode()
    assert not Issue.objects.exists()


# ----------------------------------------------------------------------- pool


def test_change_page_shows_the_pool_with_folded_duplicates(editor_client):
    issue = week_issue()
    group = StoryGroupFactory()
    for n in range(3):
        ArticleFactory(title="Same story", group=group, source=SourceFactory(name=f"Outlet {n}"))
    ArticleFactory(title="Another story")

    response = editor_client.get(change_url(issue))

    page = response.content.decode()
    root = parse(response)
    rows = root.xpath("//*[@id='pool']//tr[contains(@class, 'pool-story')]")
    assert len(rows) == 2
    assert "reported by 3 sources" in page


def test_pool_filters_come_from_the_query_string(editor_client):
    issue = week_issue()
    ai = TopicFactory(name="AI")
    ArticleFactory(title="Chatbot rules", topics=[ai])
    ArticleFactory(title="Cookie fines")

    response = editor_client.get(change_url(issue), {"pool_topic": ai.pk})

    titles = [a.text for a in parse(response).xpath("//a[contains(@class, 'pool-title')]")]
    assert titles == ["Chatbot rules"]


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


def test_events_show_times_in_several_zones_duration_and_place(editor_client, settings):
    settings.EVENT_DISPLAY_TIME_ZONES = ["America/New_York", "UTC", "Europe/Zurich"]
    issue = IssueFactory(
        period_start=datetime(2025, 4, 11).date(), period_end=datetime(2025, 4, 18).date()
    )
    online = EventFactory(
        title="AI governance webinar",
        starts_at=datetime(2025, 4, 22, 14, 0, tzinfo=UTC),
        ends_at=datetime(2025, 4, 22, 15, 30, tzinfo=UTC),
        time_zone="Europe/Zurich",
        is_online=True,
    )
    EventFactory(
        title="Geneva dialogue",
        starts_at=datetime(2025, 4, 24, 7, 0, tzinfo=UTC),
        ends_at=datetime(2025, 4, 24, 9, 0, tzinfo=UTC),
        is_online=False,
        place="Palais des Nations, Geneva",
    )

    page = editor_client.get(change_url(issue)).content.decode()
    assert "Tue 22 April 2025 · 10.00 EDT | 14.00 UTC | 16.00 CEST · 1 h 30 min · Online" in page
    assert "03.00 EDT | 07.00 UTC | 09.00 CEST · 2 h · Palais des Nations, Geneva" in page

    editor_client.post(
        reverse("admin:newsletters_issue_add_event", args=[issue.pk]), {"event": online.pk}
    )
    item = issue.items.get(event=online)
    assert (item.section, item.headline) == ("events", "AI governance webinar")
    # Once in the issue, the event shows in its section with the same schedule.
    root = parse(editor_client.get(change_url(issue)))
    schedule = root.xpath("//*[@id='items-3-group']//*[contains(@class, 'event-schedule')]")
    assert [s.text_content() for s in schedule] == [
        "Tue 22 April 2025 · 10.00 EDT | 14.00 UTC | 16.00 CEST · 1 h 30 min · Online"
    ]


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


def test_autodraft_action_on_the_issue_list(editor_client):
    draft = week_issue(number=3, letter="")
    sent = week_issue(number=2, status=Issue.Status.SENT)
    ArticleFactory(title="Only story")

    response = editor_client.post(
        reverse("admin:newsletters_issue_changelist"),
        {"action": "auto_draft_action", "_selected_action": [draft.pk, sent.pk]},
        follow=True,
    )

    assert list(draft.items.values_list("headline", flat=True)) == ["Only story"]
    assert not sent.items.exists()
    texts = messages_of(response)
    assert any(text.startswith("Issue #2 is sent") for text in texts)
    assert any(text.startswith("Issue #3: Auto-draft added 1 Radar item,") for text in texts)


# --------------------------------------------------------------- the sections


def test_editing_a_blurb_marks_the_item_edited_and_reordering_alone_does_not(editor_client):
    issue = week_issue()
    first = IssueItemFactory(issue=issue, order=1, headline="First")
    second = IssueItemFactory(issue=issue, order=2, headline="Second")
    data = form_data(editor_client.get(change_url(issue)))
    # The rows are in order; swap their positions as a drag would, and edit one blurb.
    assert (data["items-0-id"], data["items-1-id"]) == (str(first.pk), str(second.pk))
    data["items-0-order"], data["items-1-order"] = "2", "1"
    data["items-1-blurb"] = "Rewritten by the editor."

    response = editor_client.post(change_url(issue), data)

    assert response.status_code == 302
    first.refresh_from_db()
    second.refresh_from_db()
    assert (first.order, first.edited_by_editor) == (2, False)
    assert (second.order, second.blurb, second.edited_by_editor) == (
        1,
        "Rewritten by the editor.",
        True,
    )


def test_free_link_added_in_a_section_goes_into_that_section(editor_client):
    issue = week_issue()
    data = form_data(editor_client.get(change_url(issue)))
    data.update(
        {
            "items-2-TOTAL_FORMS": "1",
            "items-2-0-headline": "A report worth reading",
            "items-2-0-link_url": "https://think.example.org/report",
            "items-2-0-blurb": "",
            "items-2-0-image_url": "",
            "items-2-0-order": "",
        }
    )

    response = editor_client.post(change_url(issue), data)

    assert response.status_code == 302
    item = issue.items.get()
    assert (item.section, item.link_url, item.edited_by_editor) == (
        "reading",
        "https://think.example.org/report",
        True,
    )


def test_editing_a_sent_issue_keeps_it_sent_and_logs_a_correction(editor_client, editor):
    issue = week_issue(status=Issue.Status.SENT, title="Tpyo in title")
    IssueItemFactory(issue=issue)
    data = form_data(editor_client.get(change_url(issue))) | {"title": "Typo in title"}

    response = editor_client.post(change_url(issue), data, follow=True)

    issue.refresh_from_db()
    assert (issue.title, issue.status) == ("Typo in title", Issue.Status.SENT)
    change = issue.status_changes.get()
    assert (change.from_status, change.to_status, change.changed_by) == ("sent", "sent", editor)
    assert change.note == "Correction: title"
    assert any("logged in its history" in message for message in messages_of(response))


def test_sending_issue_is_read_only(editor_client):
    issue = week_issue(status=Issue.Status.SENDING, title="Frozen")
    data = {"title": "Changed", "number": issue.number}
    editor_client.post(change_url(issue), data)
    issue.refresh_from_db()
    assert issue.title == "Frozen"


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


# ------------------------------------------------------------------- previews


def test_web_preview_renders_the_readers_template_for_a_draft(editor_client):
    issue = week_issue(title="Draft title for preview")
    IssueItemFactory(issue=issue, headline="Radar headline one")

    response = editor_client.get(reverse("admin:newsletters_issue_preview_web", args=[issue.pk]))

    assert response.status_code == 200
    assert [t.name for t in response.templates][0] == "newsletters/issue_detail.html"
    page = response.content.decode()
    assert "Draft title for preview" in page
    assert "Radar headline one" in page
    # The public page of the same draft does not exist yet, and is not linked.
    assert editor_client.get(issue.get_absolute_url()).status_code == 404
    assert "View on site" not in editor_client.get(change_url(issue)).content.decode()


def test_previews_are_for_staff_only(client):
    issue = week_issue()
    for name in ("preview_web", "preview_email"):
        response = client.get(reverse(f"admin:newsletters_issue_{name}", args=[issue.pk]))
        assert response.status_code == 302
        assert "/admin/login/" in response["Location"]


def test_email_preview_is_the_email_as_it_will_arrive(editor_client):
    from newsletters.rendering import render_issue_email

    issue = week_issue(title="Email preview title")
    IssueItemFactory(issue=issue, headline="Radar headline in email")

    response = editor_client.get(reverse("admin:newsletters_issue_preview_email", args=[issue.pk]))

    html = response.content.decode()
    rendered = render_issue_email(issue=issue)
    assert "Email preview title" in rendered.subject
    assert "Radar headline in email" in html
    assert 'style="' in html  # CSS inlined
    # The recipient's links are filled in, as in a message that goes out.
    assert "x-digest-" not in html
    text = editor_client.get(
        reverse("admin:newsletters_issue_preview_email", args=[issue.pk]), {"format": "text"}
    ).content.decode()
    assert text.startswith(f"Subject: {rendered.subject}")
    assert "Radar headline in email" in text


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


# -------------------------------------------------------------- query counts


def test_change_page_with_50_items_and_1000_pool_articles_has_a_fixed_query_count(
    admin_client, django_assert_max_num_queries
):
    issue = week_issue()
    topics = [TopicFactory() for _ in range(5)]
    sources = [SourceFactory() for _ in range(10)]
    now = timezone.now()
    for n in range(50):
        section = ("radar", "reading", "events")[n % 3]
        if section == "events":
            IssueItemFactory(
                issue=issue,
                section=section,
                order=n,
                article=None,
                event=EventFactory(
                    starts_at=now + timedelta(days=3 + n),
                    ends_at=now + timedelta(days=3 + n, hours=1),
                ),
            )
        else:
            IssueItemFactory(issue=issue, section=section, order=n)
    groups = [StoryGroupFactory() for _ in range(100)]
    articles = ArticleFactory.create_batch(
        1000,
        source=factory_cycle(sources),
        group=factory_cycle(groups + [None] * 200),
        published_at=now - timedelta(hours=1),
    )
    for n, article in enumerate(articles[:300]):
        article.topics.add(topics[n % 5])

    admin_client.get(change_url(IssueFactory(number=998)))  # warm per-process caches
    with django_assert_max_num_queries(18) as captured:
        response = admin_client.get(change_url(issue))
    assert response.status_code == 200
    assert len(parse(response).xpath("//*[@id='pool']//tr[contains(@class, 'pool-story')]")) == 50
    large = len(captured)

    # The same page for a small issue with a small pool costs the same queries.
    small = week_issue(number=999, period_start=date(2000, 1, 3), period_end=date(2000, 1, 9))
    IssueItemFactory(issue=small)
    IssueItemFactory(
        issue=small,
        section="events",
        article=None,
        event=EventFactory(
            starts_at=datetime(2000, 1, 12, 9, tzinfo=UTC),
            ends_at=datetime(2000, 1, 12, 10, tzinfo=UTC),
        ),
    )
    ArticleFactory(published_at=datetime(2000, 1, 5, 9, tzinfo=UTC), topics=[topics[0]])
    with django_assert_max_num_queries(large) as captured_small:
        admin_client.get(change_url(small))
    assert len(captured_small) == large


def test_correcting_a_sent_issue_changes_its_public_page(
    editor_client, django_capture_on_commit_callbacks
):
    from django.test import Client

    client = Client()  # an anonymous reader, served from the page cache
    issue = week_issue(status=Issue.Status.SENT, title="Sent issue")
    IssueItemFactory(issue=issue, headline="Story", blurb="The fine was 5 million.")
    assert "The fine was 5 million." in client.get(issue.get_absolute_url()).content.decode()

    page = editor_client.get(change_url(issue)).content.decode()
    assert "View on site" in page  # a sent issue has a public page
    data = form_data(editor_client.get(change_url(issue)))
    data["items-0-blurb"] = "The fine was 500 million."
    with django_capture_on_commit_callbacks(execute=True):
        editor_client.post(change_url(issue), data)

    page = client.get(issue.get_absolute_url()).content.decode()
    assert "The fine was 500 million." in page
    assert Issue.objects.get(pk=issue.pk).status == Issue.Status.SENT
    assert issue.status_changes.get().note == "Correction: 1 item"
