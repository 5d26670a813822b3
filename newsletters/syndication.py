"""RSS 2.0 and Atom feeds of the published issues, each entry the issue's full content."""

from __future__ import annotations

from datetime import datetime

from django.conf import settings
from django.contrib.syndication.views import Feed
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils.feedgenerator import Atom1Feed, Rss201rev2Feed
from django.utils.safestring import mark_safe

from newsletters.letter import render_letter
from newsletters.models import Issue
from newsletters.sections import issue_sections

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
    feed_type = Rss201rev2Feed
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
    feed_type = Atom1Feed
    url_name = "newsletters:feed_atom"

    def subtitle(self) -> str:
        return self.description()
