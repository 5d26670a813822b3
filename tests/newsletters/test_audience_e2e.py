"""End to end: import 1,000 subscribers from a Mailchimp export, send an issue through a
real SMTP server (aiosmtpd on loopback), follow three links from three recipients'
messages, and see the issue's click report count them."""

from __future__ import annotations

import io
import re
import time
from io import StringIO

import pytest
from django.core.management import call_command
from django.urls import reverse

from newsletters.click_report import issue_click_report
from newsletters.models import Issue, IssueItem, Subscriber
from newsletters.subscribers.importing import import_subscribers
from tests.factories import ArticleFactory, IssueFactory, IssueItemFactory

pytestmark = [pytest.mark.django_db, pytest.mark.slow]

RECIPIENTS = 1000
BROWSER = "Mozilla/5.0 (X11; Linux x86_64; rv:125.0) Gecko/20100101 Firefox/125.0"
TRACKED = re.compile(r'href="(https?://[^"]+/r/[^"]+)"')


def mailchimp_export(rows: int) -> bytes:
    lines = ["Email Address,First Name,Last Name,OPTIN_TIME,OPTIN_IP,CONFIRM_TIME,LEID,TAGS"]
    lines += [
        f"reader{n}@example.org,Reader,{n},2024-01-02 03:04:05,,2024-01-02 03:06:00,{n},"
        for n in range(rows)
    ]
    return ("\n".join(lines) + "\n").encode()


def test_import_send_click_report(smtp_sink, settings, admin_client):
    settings.NEWSLETTER_SCANNER_WINDOW_SECONDS = 1
    report = import_subscribers(stream=io.BytesIO(mailchimp_export(RECIPIENTS)))
    assert report.new == RECIPIENTS and Subscriber.objects.receiving().count() == RECIPIENTS

    issue = IssueFactory(number=300, title="Three links")
    for order in range(3):
        IssueItemFactory(issue=issue, order=order, article=ArticleFactory())
    IssueItemFactory(
        issue=issue,
        section=IssueItem.Section.READING,
        article=None,
        link_url="https://blog.example.org/analysis",
        headline="An analysis",
    )
    call_command("send_issue", str(issue.number), stdout=StringIO())
    issue.refresh_from_db()
    assert issue.status == Issue.Status.SENT
    messages = smtp_sink.messages
    assert len(messages) == RECIPIENTS

    # Three recipients, a different link each, taken from the HTML they received.
    followed = []
    for index, message in enumerate(messages[:3]):
        html = message.parsed().get_body(preferencelist=("html",)).get_content()
        links = list(dict.fromkeys(TRACKED.findall(html)))
        assert len(links) >= 4, "every story link is wrapped"
        followed.append(links[index].replace("&amp;", "&"))
    time.sleep(1.2)  # past the scanner window: these are readers
    targets = []
    for url in followed:
        path = url.split("://", 1)[1].split("/", 1)[1]
        response = admin_client.get("/" + path, HTTP_USER_AGENT=BROWSER)
        assert response.status_code == 302
        targets.append(response["Location"])
    assert "/r/" not in "".join(targets)
    # A repeat click and a mail scanner's HEAD change no reader count.
    admin_client.get(
        "/" + followed[0].split("://", 1)[1].split("/", 1)[1], HTTP_USER_AGENT=BROWSER
    )
    admin_client.head("/" + followed[1].split("://", 1)[1].split("/", 1)[1])

    clicks = issue_click_report(issue=issue)
    assert clicks.deliveries == RECIPIENTS
    assert (clicks.unique_clickers, clicks.clicks, clicks.scanner_clicks) == (3, 3, 1)
    assert sorted(row.clicks for row in clicks.links if row.clicks) == [1, 1, 1]
    page = admin_client.get(reverse("admin:newsletters_issue_clicks", args=[issue.pk]))
    assert "<strong>3</strong>unique clickers" in page.content.decode()
    assert f"<strong>{RECIPIENTS}</strong>deliveries" in page.content.decode()
