"""RSS and Atom feeds for stories, topics and issues, read back with feedparser."""

from __future__ import annotations

from datetime import timedelta

import feedparser
import pytest
from django.utils import timezone

from newsletters.models import Issue, IssueItem
from tests.factories import ArticleFactory, IssueFactory, IssueItemFactory, TopicFactory

pytestmark = pytest.mark.django_db

ARTICLE_FEED_QUERIES = 3
ISSUE_FEED_QUERIES = 11


@pytest.fixture
def site(settings):
    settings.SITE_URL = "https://digest.example.org"


def parse(client, url: str):
    response = client.get(url)
    assert response.status_code == 200, url
    return response, feedparser.parse(response.content)


def test_latest_stories_rss_has_absolute_links_and_topics(client, site):
    topic = TopicFactory(name="Privacy")
    article = ArticleFactory(title="Regulator fines app", topics=[topic])
    response, feed = parse(client, "/feeds/articles.rss")
    assert response["Content-Type"].startswith("application/rss+xml")
    assert feed.version == "rss20"
    (entry,) = feed.entries
    assert entry.title == "Regulator fines app"
    assert entry.link == f"https://digest.example.org{article.get_absolute_url()}"
    assert [tag.term for tag in entry.tags] == ["Privacy"]
    assert feed.feed.link == "https://digest.example.org/"


def test_latest_stories_atom_is_atom(client, site):
    ArticleFactory(title="Atom story")
    response, feed = parse(client, "/feeds/articles.atom")
    assert response["Content-Type"].startswith("application/atom+xml")
    assert feed.version == "atom10"
    assert feed.entries[0].title == "Atom story"


def test_feeds_leave_out_unpublished_and_are_newest_first(client, site):
    now = timezone.now()
    ArticleFactory(title="Older", published_at=now - timedelta(days=2))
    ArticleFactory(title="Newer", published_at=now - timedelta(hours=1))
    ArticleFactory(title="Future", published_at=now + timedelta(days=1))
    _, feed = parse(client, "/feeds/articles.rss")
    assert [entry.title for entry in feed.entries] == ["Newer", "Older"]


def test_feed_descriptions_are_sanitised(client, site):
    ArticleFactory(summary='<p>Good</p><script>alert(1)</script><a href="javascript:x">l</a>')
    response, feed = parse(client, "/feeds/articles.rss")
    body = response.content.decode()
    assert "alert(1)" not in body
    assert "javascript:" not in body
    assert "Good" in feed.entries[0].summary


def test_topic_feeds_hold_only_that_topic(client, site):
    ai = TopicFactory(slug="ai", name="AI")
    ArticleFactory(title="AI story", topics=[ai])
    ArticleFactory(title="Other story", topics=[TopicFactory()])
    for url in ("/feeds/topics/ai.rss", "/feeds/topics/ai.atom"):
        _, feed = parse(client, url)
        assert [entry.title for entry in feed.entries] == ["AI story"]
        assert feed.feed.title.endswith("AI")


def test_unknown_topic_feed_is_404(client):
    assert client.get("/feeds/topics/nope.rss").status_code == 404


def test_issue_feed_carries_full_issue_in_order(client, site):
    issue = IssueFactory(number=12, title="Chips and rules", status=Issue.Status.SENT)
    IssueItemFactory(issue=issue, order=2, headline="Second radar")
    IssueItemFactory(issue=issue, order=1, headline="First radar")
    IssueItemFactory(issue=issue, section=IssueItem.Section.READING, order=0, headline="A reading")
    IssueFactory(number=13, status=Issue.Status.DRAFT, title="Draft")
    for url in ("/feeds/issues.rss", "/feeds/issues.atom"):
        _, feed = parse(client, url)
        (entry,) = feed.entries
        assert entry.title == "#12 – Chips and rules"
        assert entry.link == "https://digest.example.org/issues/12/"
        content = entry.content[0].value if "content" in entry else entry.summary
        positions = [content.index(name) for name in ("First radar", "Second radar", "A reading")]
        assert positions == sorted(positions)
        assert 'href="https://digest.example.org/articles/' in content


def test_article_feed_query_count_is_fixed(client, django_assert_max_num_queries):
    topic = TopicFactory()
    for _ in range(40):
        ArticleFactory(topics=[topic])
    with django_assert_max_num_queries(ARTICLE_FEED_QUERIES):
        client.get(f"/feeds/topics/{topic.slug}.rss")


def test_issue_feed_query_count_is_bounded(client, django_assert_max_num_queries):
    for number in range(1, 25):
        issue = IssueFactory(number=number, status=Issue.Status.SENT)
        IssueItemFactory(issue=issue)
    with django_assert_max_num_queries(ISSUE_FEED_QUERIES):
        response = client.get("/feeds/issues.rss")
    assert response.status_code == 200


def test_pages_link_the_feeds_they_mirror(client):
    home = client.get("/").content.decode()
    assert 'type="application/rss+xml"' in home and 'href="/feeds/articles.rss"' in home
    assert 'type="application/atom+xml"' in home and 'href="/feeds/articles.atom"' in home
    issues = client.get("/issues/").content.decode()
    assert '<link rel="alternate" type="application/rss+xml"' in issues
    assert 'href="/feeds/issues.rss"' in issues


@pytest.mark.parametrize(
    "url",
    [
        "/feeds/articles.rss",
        "/feeds/articles.atom",
        "/feeds/topics/law.rss",
        "/feeds/topics/law.atom",
    ],
)
def test_stored_control_characters_never_make_a_feed_fail(client, site, url):
    """Rows written before ingestion stripped them (or typed in the admin) still serialise."""
    topic = TopicFactory(name="Law\x0b", slug="law")
    ArticleFactory(
        title="alpha\x1aomega",
        summary="<p>bad\x01byte</p>",
        author="Ann\x08",
        topics=[topic],
    )
    response, feed = parse(client, url)
    assert b"\x1a" not in response.content and b"\x01" not in response.content
    assert feed.entries[0].title == "alphaomega"
