"""RSS 2.0 and Atom feeds of the latest articles, site-wide and per topic.

Every link in a feed is absolute on ``SITE_URL``. Descriptions are the stored
summaries, sanitised again on the way out like everything shown to readers. The
feed writers drop characters XML 1.0 forbids from every value they are given, so
a row stored before such characters were stripped at ingestion (or typed into the
admin) cannot make a feed answer 500.
"""

from __future__ import annotations

from datetime import datetime

from django.conf import settings
from django.contrib.syndication.views import Feed
from django.shortcuts import get_object_or_404
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils.feedgenerator import Atom1Feed, Rss201rev2Feed
from django.utils.html import escape
from django.utils.safestring import mark_safe

from articles.cleaning.sanitising import sanitize_html, xml_safe
from articles.models import Article, Topic
from digest.site import queries as reader_queries
from newsletters.compiling.letter import render_letter
from newsletters.compiling.sections import issue_sections
from newsletters.models import Issue

FEED_ITEMS = 30


def _xml_safe_value(value):
    if isinstance(value, str):
        return xml_safe(value)
    if isinstance(value, list | tuple):
        return type(value)(_xml_safe_value(part) for part in value)
    return value


class XmlSafeFeedMixin:
    """A feed generator that removes XML-forbidden characters from everything it is given
    (Django's writer raises UnserializableContentError on them instead)."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(
            *[_xml_safe_value(value) for value in args],
            **{name: _xml_safe_value(value) for name, value in kwargs.items()},
        )

    def add_item(self, *args, **kwargs) -> None:
        super().add_item(
            *[_xml_safe_value(value) for value in args],
            **{name: _xml_safe_value(value) for name, value in kwargs.items()},
        )


class SafeRssFeed(XmlSafeFeedMixin, Rss201rev2Feed):
    pass


class SafeAtomFeed(XmlSafeFeedMixin, Atom1Feed):
    pass


def feed_articles(topic: Topic | None = None) -> list[Article]:
    """The newest published stories for a feed, each story group once, with its other
    reports as ``also_reported``; topics prefetched (three queries)."""
    articles = reader_queries.articles_for_topic(topic) if topic else reader_queries.article_list()
    newest = (
        reader_queries.one_per_story(articles)
        .prefetch_related("topics")
        .order_by("-published_at", "-id")[:FEED_ITEMS]
    )
    return reader_queries.attach_also_reported(list(newest))


class ArticleItemsMixin:
    """How one article appears as a feed entry."""

    def item_title(self, item: Article) -> str:
        return item.title

    def item_description(self, item: Article) -> str:
        description = sanitize_html(item.summary, base_url=item.canonical_url)
        also = getattr(item, "also_reported", [])
        if also:
            links = ", ".join(
                f'<a href="{escape(settings.SITE_URL + other.get_absolute_url())}">'
                f"{escape(other.source.name)}</a>"
                for other in also
            )
            description += f"<p>Also reported by {links}.</p>"
        return description

    def item_link(self, item: Article) -> str:
        return settings.SITE_URL + item.get_absolute_url()

    def item_guid(self, item: Article) -> str:
        return settings.SITE_URL + item.get_absolute_url()

    def item_pubdate(self, item: Article) -> datetime | None:
        return item.published_at

    def item_updateddate(self, item: Article) -> datetime | None:
        return item.updated_at

    def item_author_name(self, item: Article) -> str:
        return item.author or item.source.name

    def item_categories(self, item: Article) -> list[str]:
        return [topic.name for topic in item.topics.all()]


class LatestArticlesFeed(ArticleItemsMixin, Feed):
    feed_type = SafeRssFeed

    def title(self) -> str:
        return f"{settings.SITE_NAME}: latest stories"

    def link(self) -> str:
        return settings.SITE_URL + reverse("articles:home")

    def feed_url(self) -> str:
        return settings.SITE_URL + reverse("articles:feed_rss")

    def description(self) -> str:
        return "The latest stories in digital policy, as they are filed."

    def items(self) -> list[Article]:
        return feed_articles()


class LatestArticlesAtomFeed(LatestArticlesFeed):
    feed_type = SafeAtomFeed

    def feed_url(self) -> str:
        return settings.SITE_URL + reverse("articles:feed_atom")

    def subtitle(self) -> str:
        return self.description()


class TopicArticlesFeed(ArticleItemsMixin, Feed):
    feed_type = SafeRssFeed
    url_name = "articles:topic_feed_rss"

    def get_object(self, request, slug: str) -> Topic:
        return get_object_or_404(Topic, slug=slug)

    def title(self, topic: Topic) -> str:
        return f"{settings.SITE_NAME}: {topic.name}"

    def link(self, topic: Topic) -> str:
        return settings.SITE_URL + topic.get_absolute_url()

    def feed_url(self, topic: Topic) -> str:
        return settings.SITE_URL + reverse(self.url_name, kwargs={"slug": topic.slug})

    def description(self, topic: Topic) -> str:
        return topic.description or f"The latest stories on {topic.name}."

    def items(self, topic: Topic) -> list[Article]:
        return feed_articles(topic)


class TopicArticlesAtomFeed(TopicArticlesFeed):
    feed_type = SafeAtomFeed
    url_name = "articles:topic_feed_atom"

    def subtitle(self, topic: Topic) -> str:
        return self.description(topic)


# Each entry carries a whole issue (one query for its items), so the feed stays short.
FEED_ISSUES = 10


def issue_feed_content(issue: Issue) -> str:
    """The issue's letter and sections as HTML, with absolute links (one query)."""
    return render_to_string(
        "includes/issue_body.html",
        {
            "issue": issue,
            "sections": issue_sections(issue=issue),
            "letter_html": mark_safe(render_letter(issue.letter or "")),  # noqa: S308
            "sign_off": issue.sign_off or settings.NEWSLETTER_SIGN_OFF,
            "absolute_links": True,
            "SITE_URL": settings.SITE_URL,
        },
    )


class IssuesFeed(Feed):
    feed_type = SafeRssFeed
    url_name = "newsletters:feed_rss"

    def title(self) -> str:
        return f"{settings.SITE_NAME}: issues"

    def link(self) -> str:
        return settings.SITE_URL + reverse("newsletters:issue_list")

    def feed_url(self) -> str:
        return settings.SITE_URL + reverse(self.url_name)

    def description(self) -> str:
        return f"Every issue of {settings.SITE_NAME}, in full."

    def items(self):
        return Issue.objects.published().order_by("-number")[:FEED_ISSUES]

    def item_title(self, item: Issue) -> str:
        return str(item)

    def item_description(self, item: Issue) -> str:
        return issue_feed_content(item)

    def item_link(self, item: Issue) -> str:
        return settings.SITE_URL + item.get_absolute_url()

    def item_pubdate(self, item: Issue) -> datetime | None:
        return item.sent_at

    def item_updateddate(self, item: Issue) -> datetime | None:
        return item.updated_at


class IssuesAtomFeed(IssuesFeed):
    feed_type = SafeAtomFeed
    url_name = "newsletters:feed_atom"

    def subtitle(self) -> str:
        return self.description()
