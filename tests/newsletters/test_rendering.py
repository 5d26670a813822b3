import re
from urllib.parse import quote, urlsplit

import lxml.html
import pytest
from django.utils import timezone

from newsletters.models import Issue, IssueItem
from newsletters.rendering import personalise, render_issue_email
from newsletters.subscribers.tokens import Purpose, read_token
from tests.factories import (
    ArticleFactory,
    EventFactory,
    IssueFactory,
    IssueItemFactory,
    SubscriberFactory,
    TopicFactory,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def world(settings):
    settings.SITE_URL = "https://news.example.org"
    settings.SITE_NAME = "Policy Weekly"
    settings.NEWSLETTER_SUBJECT_PREFIX = "Weekly"
    ai, privacy = TopicFactory(name="AI"), TopicFactory(name="Privacy")
    issue = IssueFactory(
        number=209,
        title="Big Tech on global trial",
        letter="Dear readers,\n\nThis week [a court ruled](/articles/1-ruling/) on data.\n\n"
        "More below.",
    )
    radar_ai = IssueItemFactory(
        issue=issue,
        order=1,
        article=ArticleFactory(topics=[ai], image_url="https://img.example.org/ai.jpg"),
        headline="AI act <script>alert(1)</script> enters force",
        blurb="Rules now apply.",
    )
    radar_privacy = IssueItemFactory(
        issue=issue, order=2, article=ArticleFactory(topics=[privacy]), headline="Privacy fine"
    )
    reading = IssueItemFactory(
        issue=issue,
        section=IssueItem.Section.READING,
        order=1,
        article=ArticleFactory(topics=[ai]),
        headline="An essay on AI",
    )
    event = IssueItemFactory(
        issue=issue,
        section=IssueItem.Section.EVENTS,
        order=1,
        article=None,
        event=EventFactory(title="Forum on AI"),
        headline="Forum on AI",
    )
    return {
        "issue": issue,
        "ai": ai,
        "privacy": privacy,
        "items": [radar_ai, radar_privacy, reading, event],
    }


def test_subject_has_prefix_number_and_title(world):
    rendered = render_issue_email(issue=world["issue"])
    assert rendered.subject == "Weekly #209 – Big Tech on global trial"


def test_subject_is_one_line_even_if_title_has_line_breaks(world):
    issue = world["issue"]
    issue.title = "Line one\r\nBcc: x@y.z"
    assert "\n" not in render_issue_email(issue=issue).subject


def test_whole_issue_has_every_section_in_order_in_both_parts(world):
    rendered = render_issue_email(issue=world["issue"])
    headlines = ["AI act", "Privacy fine", "An essay on AI", "Forum on AI"]
    for part in (rendered.html, rendered.text):
        positions = [part.index(h) for h in headlines]
        assert positions == sorted(positions)
    assert "Radar" in rendered.html and "Reading corner" in rendered.html


def test_html_is_escaped_inlined_and_absolute(world):
    html = render_issue_email(issue=world["issue"]).html
    # The headline comes out as plain text, escaped: no markup of its own survives.
    assert "<script" not in html
    assert "AI act" in html and "enters force" in html
    # CSS is inlined into style attributes.
    assert re.search(r'<td[^>]+style="[^"]*padding', html)
    # Every link and image is absolute.
    for url in re.findall(r'(?:href|src)="([^"]+)"', html):
        assert url.startswith(("https://", "http://", "mailto:", "x-digest-")), url
    assert 'href="https://news.example.org/articles/1-ruling/"' in html
    # The image is no link of its own, and its alt text does not repeat the headline.
    (image,) = re.findall(r"<img [^>]+>", html)
    assert 'alt="Picture from ' in image and "AI act" not in image
    assert "/email-images/" in image and 'width="144"' in image and 'height="96"' in image
    assert "https://img.example.org/ai.jpg" not in html  # converted, served by the site


def test_preheader_is_in_html_and_comes_from_the_letter(world):
    rendered = render_issue_email(issue=world["issue"])
    assert rendered.preheader.startswith("This week a court ruled")
    assert rendered.preheader in rendered.html


def test_event_shows_times_in_several_zones(world):
    rendered = render_issue_email(issue=world["issue"])
    assert " UTC | " in rendered.text or "| UTC" in rendered.text
    assert "Online" in rendered.text


def test_topic_digest_has_letter_and_only_matching_radar_items(world):
    rendered = render_issue_email(issue=world["issue"], topics=[world["privacy"]])
    for part in (rendered.html, rendered.text):
        assert "Privacy fine" in part
        assert "AI act" not in part
        assert "An essay on AI" not in part  # Reading corner is not part of a topic digest
        assert "Forum on AI" not in part
        assert "a court ruled" in part
        assert "topic digest" in part


def test_rendered_email_holds_no_personal_link_and_personalise_fills_them(world):
    rendered = render_issue_email(issue=world["issue"])
    assert "/unsubscribe/" not in rendered.html
    subscriber = SubscriberFactory(active=True)
    message = personalise(rendered=rendered, subscriber=subscriber)
    assert message.unsubscribe_url in message.html
    assert message.unsubscribe_url in message.text
    assert message.preferences_url in message.html
    assert "x-digest-" not in message.html and "x-digest-" not in message.text
    token = message.unsubscribe_url.rstrip("/").rsplit("/", 1)[1]
    assert read_token(token=token, purpose=Purpose.UNSUBSCRIBE).subscriber == subscriber
    assert message.headers["List-Unsubscribe"] == (
        f"<{message.unsubscribe_url}>, "
        f"<mailto:unsubscribe@localhost?subject={quote('unsubscribe-' + token)}>"
    )
    assert message.headers["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert message.headers["List-Id"] == "Policy Weekly <weekly.news.example.org>"


def test_text_in_the_issue_cannot_impersonate_a_placeholder(world):
    item = world["items"][0]
    item.headline = "x-digest-0000000000000000-unsubscribe-url"
    item.save()
    rendered = render_issue_email(issue=world["issue"])
    message = personalise(rendered=rendered, subscriber=SubscriberFactory(active=True))
    assert "x-digest-0000000000000000-unsubscribe-url" in message.html


def test_two_recipients_get_only_their_own_links(world):
    rendered = render_issue_email(issue=world["issue"])
    one, two = SubscriberFactory(active=True), SubscriberFactory(active=True)
    first = personalise(rendered=rendered, subscriber=one)
    second = personalise(rendered=rendered, subscriber=two)
    assert first.unsubscribe_url != second.unsubscribe_url
    assert second.unsubscribe_url not in first.html


def test_render_is_a_few_queries_and_personalise_none(
    world, django_assert_max_num_queries, django_assert_num_queries
):
    with django_assert_max_num_queries(3):
        rendered = render_issue_email(issue=world["issue"], topics=[world["ai"].pk])
    subscriber = SubscriberFactory(active=True)
    with django_assert_num_queries(0):
        personalise(rendered=rendered, subscriber=subscriber)


def _letter_parts(root) -> tuple[list[str], list[str]]:
    """The letter's paragraph/list/table texts and its link targets (path and fragment)."""
    texts = [
        " ".join(node.text_content().split())
        for node in root.iterdescendants("p", "li", "td", "th", "h3", "h4", "blockquote")
        if node.text_content().strip()
    ]
    links = []
    for href in root.xpath(".//a/@href"):
        parts = urlsplit(href)
        links.append(parts.path + ("#" + parts.fragment if parts.fragment else ""))
    return texts, links


def test_letter_is_the_same_on_the_web_page_and_in_the_email(world, client):
    issue = world["issue"]
    # Markdown features the letter's one renderer knows (tables, footnotes, lists):
    # a second converter would drop or mangle some of them.
    issue.letter = (
        "Dear readers,\n\n"
        "This week [a court ruled](/articles/1-ruling/) and "
        "[the agency spoke](https://agency.example.eu/press?id=4).[^1]\n\n"
        "1. First point\n2. Second point\n\n"
        "| Country | Fine |\n|---|---|\n| France | 5m |\n\n"
        "<script>alert(1)</script>\n\n"
        "[^1]: The statement was published on Friday."
    )
    issue.status = Issue.Status.SENT
    issue.sent_at = timezone.now()
    issue.save()

    page = lxml.html.fromstring(client.get(issue.get_absolute_url()).content)
    (web_letter,) = page.xpath(
        '//section[contains(@class, "issue-letter")]//div[contains(@class, "prose")]'
    )
    email = lxml.html.fromstring(render_issue_email(issue=issue).html)
    email_block = next(
        td
        for td in email.xpath('//td[contains(@class, "block")]')
        if "Dear readers" in td.text_content()
    )
    # The email's block ends with the sign-off paragraph, which the web page shows apart.
    email_texts, email_links = _letter_parts(email_block)
    web_texts, web_links = _letter_parts(web_letter)
    assert email_texts[:-1] == web_texts
    assert email_links == web_links
    assert "France" in " ".join(web_texts) and "Second point" in " ".join(web_texts)
    assert any(text.startswith("The statement was published") for text in web_texts)
    assert "/articles/1-ruling/" in web_links
    assert "alert(1)" not in lxml.html.tostring(email_block, encoding="unicode")
    # In the email, every link of the letter is absolute.
    for href in email_block.xpath(".//a/@href"):
        assert href.startswith(("https://", "http://", "#")), href
