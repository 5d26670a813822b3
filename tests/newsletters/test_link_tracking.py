"""Wrapping an issue's links: once per rendering, per-recipient /r/ links spliced in,
items and sections recorded, the pixel only when asked for, nothing when tracking is off."""

from __future__ import annotations

import re

import pytest

from newsletters.clicks import follow_click
from newsletters.link_tracking import track_links
from newsletters.models import Delivery, IssueItem, IssueLink
from newsletters.rendering import personalise, render_issue_email
from newsletters.sending import mime
from tests.factories import (
    ArticleFactory,
    DeliveryFactory,
    IssueFactory,
    IssueItemFactory,
)

pytestmark = pytest.mark.django_db

R_LINK = re.compile(r"https://news\.example\.org/r/(\d+\.\d+\.[A-Za-z0-9_-]+)")


@pytest.fixture
def issue(settings):
    settings.SITE_URL = "https://news.example.org"
    issue = IssueFactory(
        number=12,
        letter="Dear readers,\n\nSee [the ruling](https://court.example.org/ruling?a=1&b=2).",
    )
    IssueItemFactory(issue=issue, order=1, article=ArticleFactory(), headline="Radar story")
    IssueItemFactory(
        issue=issue,
        order=1,
        section=IssueItem.Section.READING,
        article=None,
        link_url="https://blog.example.org/analysis",
        headline="An analysis",
    )
    return issue


def test_links_become_per_delivery_redirects_in_html_and_text(issue):
    rendered = track_links(rendered=render_issue_email(issue=issue), issue=issue)
    one, two = DeliveryFactory(issue=issue), DeliveryFactory(issue=issue)
    first = personalise(rendered=rendered, subscriber=one.subscriber, delivery_id=one.pk)
    second = personalise(rendered=rendered, subscriber=two.subscriber, delivery_id=two.pk)
    assert 'href="https://blog.example.org/analysis"' not in first.html
    assert "https://blog.example.org/analysis" not in first.text
    tokens = R_LINK.findall(first.html)
    assert tokens and all(t.startswith(f"{one.pk}.") for t in tokens)
    assert set(R_LINK.findall(first.text)) <= set(tokens)
    assert all(t.startswith(f"{two.pk}.") for t in R_LINK.findall(second.html))
    # The unsubscribe and preferences links stay direct.
    assert first.unsubscribe_url in first.text and "/r/" not in first.unsubscribe_url
    # Every wrapped link leads back to where it pointed.
    targets = {follow_click(token=t, user_agent="Mozilla/5.0") for t in tokens}
    assert "https://blog.example.org/analysis" in targets
    assert "https://court.example.org/ruling?a=1&b=2" in targets  # &amp; unescaped


def test_links_know_their_item_and_section(issue):
    track_links(rendered=render_issue_email(issue=issue), issue=issue)
    by_url = {link.url: link for link in IssueLink.objects.filter(issue=issue)}
    analysis = by_url["https://blog.example.org/analysis"]
    assert analysis.section == "reading" and analysis.item.headline == "An analysis"
    assert by_url["https://court.example.org/ruling?a=1&b=2"].section == "letter"
    radar = [link for link in by_url.values() if link.section == "radar"]
    assert radar and radar[0].item.headline == "Radar story"
    # Rendering again (another topic selection, another worker) adds no duplicate.
    count = IssueLink.objects.count()
    track_links(rendered=render_issue_email(issue=issue), issue=issue)
    assert IssueLink.objects.count() == count


def test_without_a_delivery_links_go_straight_to_their_targets(issue):
    rendered = track_links(rendered=render_issue_email(issue=issue), issue=issue)
    delivery = DeliveryFactory(issue=issue)
    message = personalise(rendered=rendered, subscriber=delivery.subscriber)
    assert "/r/" not in message.html
    assert 'href="https://blog.example.org/analysis"' in message.html


def test_personalising_costs_no_query(issue, django_assert_num_queries):
    mime._render_cache.clear()
    delivery = DeliveryFactory(issue=issue)
    rendered = mime.rendered_issue(issue=issue, topic_ids=frozenset())
    subscriber = delivery.subscriber
    with django_assert_num_queries(0):
        for _ in range(3):
            assert mime.rendered_issue(issue=issue, topic_ids=frozenset()) is rendered
            personalise(rendered=rendered, subscriber=subscriber, delivery_id=delivery.pk)


def test_tracking_off_sends_links_straight(issue, settings):
    settings.NEWSLETTER_CLICK_TRACKING = False
    mime._render_cache.clear()
    delivery = DeliveryFactory(issue=issue)
    rendered = mime.rendered_issue(issue=issue, topic_ids=frozenset())
    message = personalise(
        rendered=rendered, subscriber=delivery.subscriber, delivery_id=delivery.pk
    )
    assert "/r/" not in message.html and "/r/" not in message.text
    assert not IssueLink.objects.exists()
    mime._render_cache.clear()


def test_no_pixel_by_default_and_one_when_open_tracking_is_on(issue, settings):
    delivery = DeliveryFactory(issue=issue, status=Delivery.Status.SENT)
    rendered = track_links(rendered=render_issue_email(issue=issue), issue=issue)
    plain = personalise(rendered=rendered, subscriber=delivery.subscriber, delivery_id=delivery.pk)
    assert "/o/" not in plain.html
    settings.NEWSLETTER_OPEN_TRACKING = True
    rendered = track_links(rendered=render_issue_email(issue=issue), issue=issue)
    tracked = personalise(
        rendered=rendered, subscriber=delivery.subscriber, delivery_id=delivery.pk
    )
    assert re.search(r'<img src="https://news\.example\.org/o/[^"]+\.gif" width="1"', tracked.html)
    assert tracked.html.index("/o/") < tracked.html.index("</body>")
    assert "/o/" not in tracked.text
