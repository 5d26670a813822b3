"""An issue's click report: deliveries, unique clickers, per link/item/section, scanners
apart, and its CSV with formula cells neutralised."""

from __future__ import annotations

import pytest
from django.utils import timezone

from newsletters.click_report import issue_click_report, report_csv_rows
from newsletters.models import Click, Delivery, IssueItem, IssueLink
from tests.factories import DeliveryFactory, IssueFactory, IssueItemFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def clicked():
    issue = IssueFactory()
    item = IssueItemFactory(issue=issue, headline='=HYPERLINK("x")')
    story = IssueLink.objects.create(
        issue=issue, url="https://a.example/", item=item, section="radar"
    )
    read = IssueLink.objects.create(
        issue=issue, url="https://b.example/", section=IssueItem.Section.READING, position=1
    )
    deliveries = [
        DeliveryFactory(issue=issue, status=Delivery.Status.SENT, sent_at=timezone.now())
        for _ in range(4)
    ]
    Click.objects.create(delivery=deliveries[0], link=story)
    Click.objects.create(delivery=deliveries[0], link=read)
    Click.objects.create(delivery=deliveries[1], link=story)
    Click.objects.create(delivery=deliveries[2], link=story, is_scanner=True)
    return issue


def test_report_counts_readers_once_and_scanners_apart(clicked, django_assert_max_num_queries):
    with django_assert_max_num_queries(4):
        report = issue_click_report(issue=clicked)
    assert (report.deliveries, report.unique_clickers, report.clicks) == (4, 2, 3)
    assert report.scanner_clicks == 1
    assert [(row.url, row.clicks, row.scanner_clicks) for row in report.links] == [
        ("https://a.example/", 2, 1),
        ("https://b.example/", 1, 0),
    ]
    assert report.links[0].share == 1.0 and report.links[1].share == 0.5
    assert [(row.label, row.clicks) for row in report.sections] == [
        ("Radar", 2),
        ("Reading corner", 1),
    ]


def test_report_csv_neutralises_headlines(clicked):
    rows = list(report_csv_rows(issue_click_report(issue=clicked)))
    assert rows[0] == ["section", "item", "url", "reader_clicks", "scanner_clicks"]
    assert rows[1] == ["Radar", '\'=HYPERLINK("x")', "https://a.example/", "2", "1"]
