"""Send progress in the admin: counts on a sending issue's page, a column on the issue
list, and failed deliveries showing their error."""

from __future__ import annotations

import re

import lxml.html
import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from newsletters.admin.progress import PROGRESS_REFRESH_SECONDS
from newsletters.models import Delivery, Issue
from tests.factories import DeliveryFactory, IssueFactory, SubscriberFactory

pytestmark = pytest.mark.django_db


def deliveries(issue: Issue, **by_status: int) -> None:
    """Give ``issue`` deliveries: ``sent=3, failed=1`` makes three sent and one failed."""
    for status, count in by_status.items():
        for _ in range(count):
            DeliveryFactory(
                issue=issue,
                status=status,
                error="550 5.1.1 Mailbox unknown" if status == Delivery.Status.FAILED else "",
                sent_at=timezone.now() if status == Delivery.Status.SENT else None,
            )


def sending_issue(**counts: int) -> Issue:
    issue = IssueFactory(status=Issue.Status.SENDING, send_started_at=timezone.now())
    deliveries(issue, **counts)
    return issue


def change_page(client, issue: Issue):
    response = client.get(reverse("admin:newsletters_issue_change", args=[issue.pk]))
    assert response.status_code == 200
    return response


def test_sending_issue_page_shows_sent_failed_and_pending_counts(admin_client):
    issue = sending_issue(sent=7, failed=2, pending=4, sending=1)
    DeliveryFactory(issue=IssueFactory(), status=Delivery.Status.SENT)  # another issue's

    page = lxml.html.fromstring(change_page(admin_client, issue).content.decode())

    def count(name: str) -> str:
        return page.get_element_by_id(f"count-{name}").text_content().strip()

    assert (count("sent"), count("failed"), count("pending"), count("total")) == (
        "7",
        "2",
        "5",
        "14",
    )
    bar = page.get_element_by_id("delivery-progress-bar")
    assert (bar.get("value"), bar.get("max")) == ("9", "14")
    assert "64 % done" in page.get_element_by_id("delivery-progress").text_content()


def test_sending_issue_page_refreshes_itself(admin_client):
    issue = sending_issue(sent=1, pending=1)
    html = change_page(admin_client, issue).content.decode()
    assert re.search(rf'<meta http-equiv="refresh" content="{PROGRESS_REFRESH_SECONDS}">', html), (
        "a sending issue's page reloads itself"
    )


def test_sent_issue_shows_final_counts_without_refreshing(admin_client):
    issue = IssueFactory(status=Issue.Status.SENT)
    deliveries(issue, sent=3, failed=1)
    response = change_page(admin_client, issue)
    page = lxml.html.fromstring(response.content.decode())
    assert page.get_element_by_id("count-sent").text_content() == "3"
    assert page.get_element_by_id("count-failed").text_content() == "1"
    assert b'http-equiv="refresh"' not in response.content


def test_draft_issue_has_no_progress_panel_and_no_refresh(admin_client):
    issue = IssueFactory(status=Issue.Status.DRAFT)
    response = change_page(admin_client, issue)
    assert b'id="delivery-progress"' not in response.content
    assert b'http-equiv="refresh"' not in response.content


def test_progress_panel_costs_one_query(admin_client):
    issue = sending_issue(sent=2, pending=2)
    url = reverse("admin:newsletters_issue_change", args=[issue.pk])
    admin_client.get(url)  # warm up session and content types
    with CaptureQueriesContext(connection) as queries:
        admin_client.get(url)
    delivery_queries = [q["sql"] for q in queries if "newsletters_delivery" in q["sql"]]
    assert len(delivery_queries) == 1, delivery_queries


def test_issue_list_shows_delivery_counts_per_issue(admin_client):
    busy = sending_issue(sent=5, failed=1, pending=2)
    quiet = IssueFactory()
    response = admin_client.get(reverse("admin:newsletters_issue_changelist"))
    page = lxml.html.fromstring(response.content.decode())
    rows = {
        row.xpath('.//th[contains(@class, "field-number")]')[0].text_content().strip(): row
        for row in page.xpath('//table[@id="result_list"]/tbody/tr')
    }
    busy_cell = rows[str(busy.number)].xpath('.//td[contains(@class, "field-deliveries")]')[0]
    assert " ".join(busy_cell.text_content().split()) == "5 sent · 1 failed · 2 pending of 8"
    quiet_cell = rows[str(quiet.number)].xpath('.//td[contains(@class, "field-deliveries")]')[0]
    assert quiet_cell.text_content().strip() == "—"


def test_issue_list_query_count_does_not_grow_with_issues(
    admin_client, django_assert_max_num_queries
):
    subscribers = [SubscriberFactory(active=True) for _ in range(3)]
    for _ in range(40):
        issue = IssueFactory(status=Issue.Status.SENT)
        for subscriber, status in zip(subscribers, ["sent", "failed", "sent"], strict=True):
            Delivery.objects.create(issue=issue, subscriber=subscriber, status=status)
    url = reverse("admin:newsletters_issue_changelist")
    admin_client.get(url)
    with django_assert_max_num_queries(5):
        response = admin_client.get(url)
    assert response.content.decode().count("2 sent · 1 failed · 0 pending of 3") == 40


def test_paused_send_says_the_mail_server_is_unreachable_since_when(admin_client):
    since = timezone.make_aware(timezone.datetime(2026, 3, 2, 10, 42))
    issue = sending_issue(sent=1, pending=3)
    Issue.objects.filter(pk=issue.pk).update(
        relay_paused_since=since,
        relay_retry_at=since + timezone.timedelta(minutes=8),
        relay_error="ConnectionRefusedError: [Errno 111] Connection refused",
    )

    page = lxml.html.fromstring(change_page(admin_client, issue).content.decode())

    line = page.get_element_by_id("relay-pause").text_content()
    assert line.startswith("paused: mail server unreachable since 10:42, retrying at 10:50:00")
    assert "Connection refused" in line


def test_running_send_shows_no_pause_line(admin_client):
    page = lxml.html.fromstring(change_page(admin_client, sending_issue(pending=2)).content)

    assert not page.xpath('//*[@id="relay-pause"]')
