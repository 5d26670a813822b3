"""The issue email as real clients get it: raster images with sizes and alt text, the
sender's address, under Gmail's clipping size, and a plain-text part that stands alone."""

from __future__ import annotations

import re
from datetime import timedelta

import lxml.html
import pytest
from django.utils import timezone

from newsletters.models import IssueItem
from newsletters.rendering import personalise, render_issue_email, unsaved_recipient
from tests.factories import (
    ArticleFactory,
    EventFactory,
    IssueFactory,
    IssueItemFactory,
    SourceFactory,
    TopicFactory,
)

pytestmark = pytest.mark.django_db

# Gmail clips a message whose HTML is larger than this and hides the rest.
GMAIL_CLIP_BYTES = 102 * 1024
LONG_BLURB = (
    "The regulator's decision follows a two-year investigation into how the company "
    "trained its models on scraped forum posts, and sets a precedent for the sector."
)


@pytest.fixture
def full_issue(settings):
    """A DW-Weekly-sized issue: a letter with links, 12 Radar items, 4 reading, 3 events."""
    settings.SITE_URL = "https://news.example.org"
    settings.NEWSLETTER_POSTAL_ADDRESS = "Policy Weekly, 12 Rue du Rhône, 1204 Geneva"
    settings.NEWSLETTER_REASON = "You get this because you subscribed at news.example.org."
    topic = TopicFactory(name="AI")
    wire = SourceFactory(name="Policy Wire")
    articles = [
        ArticleFactory(
            source=wire,
            topics=[topic],
            title=f"Regulators across the region agree on a common approach, part {n}",
            image_url=f"https://img.example.org/lead-{n}.{'svg' if n % 2 else 'png'}",
        )
        for n in range(16)
    ]
    issue = IssueFactory(
        number=210,
        title="Big Tech on global trial: lawsuits, data leaks and cryptocurrency",
        period_start=timezone.localdate() - timedelta(days=7),
        period_end=timezone.localdate(),
        letter=(
            "Dear readers,\n\n"
            + " ".join(
                f"This week [story {n}]({articles[n].get_absolute_url()}) moved on."
                for n in range(6)
            )
            + "\n\nAnd [the agency](https://agency.example.eu/press?id=4) spoke too.[^1]\n\n"
            "[^1]: On Friday."
        ),
    )
    for order, article in enumerate(articles[:12]):
        IssueItemFactory(
            issue=issue,
            order=order,
            article=article,
            headline=article.title,
            blurb=LONG_BLURB,
            # Editors' own picks, in formats email clients do not show.
            image_url="https://img.example.org/pick.webp" if order % 4 == 1 else "",
        )
    for order, article in enumerate(articles[12:16]):
        IssueItemFactory(
            issue=issue,
            section=IssueItem.Section.READING,
            order=order,
            article=article,
            headline=article.title,
            blurb=LONG_BLURB,
        )
    for order in range(3):
        event = EventFactory(
            title=f"Forum on AI governance {order}",
            starts_at=timezone.now() + timedelta(days=order + 2),
        )
        IssueItemFactory(
            issue=issue,
            section=IssueItem.Section.EVENTS,
            order=order,
            article=None,
            event=event,
            headline=event.title,
            blurb="Diplomats and experts discuss the next steps.",
        )
    return issue


def _message(issue):
    rendered = render_issue_email(issue=issue)
    return personalise(rendered=rendered, subscriber=unsaved_recipient(email="a@example.org"))


def test_twelve_item_issue_stays_under_gmails_clipping_size(full_issue):
    message = _message(full_issue)

    size = len(message.html.encode("utf-8"))
    print(f"12-item issue: HTML {size} bytes, text {len(message.text.encode())} bytes")

    assert size < GMAIL_CLIP_BYTES, f"{size} bytes"
    assert message.html.count('class="headline"') == 12 + 4 + 3


def test_every_image_is_raster_with_size_and_alt_text(full_issue):
    root = lxml.html.fromstring(_message(full_issue).html)
    images = root.xpath("//img")

    # Every article image and every editor's pick went through the converter.
    assert len(images) == 12 + 4
    for image in images:
        src = image.get("src")
        assert ".svg" not in src.lower() and ".webp" not in src.lower()
        assert src.startswith("https://news.example.org/email-images/") and src.endswith(".jpg")
        assert image.get("width") == "144" and image.get("height") == "96"
        assert image.get("alt")
    assert "<svg" not in _message(full_issue).html.lower()


def test_each_item_has_one_link_and_alt_text_that_is_not_its_headline(full_issue):
    root = lxml.html.fromstring(_message(full_issue).html)

    for cell in root.xpath('//td[contains(@class, "item")]'):
        links = {a.get("href") for a in cell.xpath(".//a")}
        assert len(links) == 1
        headline = cell.xpath('.//*[contains(@class, "headline")]')[0].text_content().strip()
        for image in cell.xpath(".//img"):
            assert image.getparent().tag != "a"
            assert image.get("alt") != headline


def test_footer_names_the_postal_address_and_the_reason(full_issue):
    message = _message(full_issue)
    footer = lxml.html.fromstring(message.html).xpath('//td[contains(@class, "footer")]')[0]

    assert "12 Rue du Rhône, 1204 Geneva" in footer.text_content()
    assert "subscribed at news.example.org" in footer.text_content()
    assert "12 Rue du Rhône, 1204 Geneva" in message.text


def test_masthead_shows_wordmark_issue_number_and_period(full_issue, settings):
    brand = lxml.html.fromstring(_message(full_issue).html).xpath(
        '//td[contains(@class, "brand")]'
    )
    text = " ".join(brand[0].text_content().split())

    assert settings.SITE_NAME in text
    assert "Issue #210" in text
    assert str(full_issue.period_end.year) in text


def test_dark_mode_is_declared_and_styled(full_issue):
    html = _message(full_issue).html

    assert '<meta name="color-scheme" content="light dark">' in html
    assert "prefers-color-scheme: dark" in html


def test_plain_text_part_has_every_link_of_the_html_part(full_issue):
    message = _message(full_issue)
    hrefs = set(lxml.html.fromstring(message.html).xpath("//a/@href"))
    web_links = {href for href in hrefs if href.startswith(("http://", "https://"))}

    assert len(web_links) >= 6 + 1 + 12 + 4 + 3
    for href in web_links:
        assert href in message.text, href


def test_plain_text_is_wrapped_and_lists_links_as_numbered_references(full_issue):
    text = _message(full_issue).text

    for line in text.splitlines():
        if "://" not in line:
            assert len(line) <= 72, line
    story = full_issue.items.get(order=0, section=IssueItem.Section.RADAR).article
    # Letter links come first: [1] is the letter's first link, "story 0".
    assert f"[1] https://news.example.org{story.get_absolute_url()}" in text
    letter = text.split("RADAR\n=====")[0]
    assert re.search(r"This week story 0 \[1\] moved on", " ".join(letter.split()))
    assert "[7] https://agency.example.eu/press?id=4" in text
    # Each section lists the references its items use, right under it.
    radar = text.split("RADAR\n=====")[1].split("READING CORNER")[0]
    assert len(re.findall(r"^\[\d+\] ", radar, flags=re.MULTILINE)) == 12
    # Stories name their source; events link to the site's page and give zoned times.
    assert "  Policy Wire" in radar
    events = text.split("UPCOMING EVENTS")[1]
    assert re.search(r"^\[\d+\] https://news\.example\.org/events/\d+/$", events, re.MULTILINE)
    assert "UTC" in events and "|" in events
