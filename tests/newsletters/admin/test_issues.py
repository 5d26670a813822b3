"""The issue page: pool, events, sections, corrections, read-only while sending, queries."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from newsletters.models import Issue
from tests.factories import (
    ArticleFactory,
    EventFactory,
    IssueFactory,
    IssueItemFactory,
    SourceFactory,
    StoryGroupFactory,
    TopicFactory,
)
from tests.newsletters.admin.pages import (
    change_url,
    factory_cycle,
    form_data,
    messages_of,
    parse,
    week_issue,
)

pytestmark = pytest.mark.django_db


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
