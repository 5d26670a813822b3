"""sitemap.xml: topics, articles, issues and the fixed pages, on the public address."""

from __future__ import annotations

from urllib.parse import urlsplit

from django.conf import settings
from django.contrib.sitemaps import Sitemap
from django.urls import reverse

from articles.models import Article, Topic
from newsletters.models import Issue


class SiteSitemap(Sitemap):
    """URLs on SITE_URL's scheme and host, whatever host the request came in on."""

    limit = 5000

    def get_protocol(self, protocol: str | None = None) -> str:
        return urlsplit(settings.SITE_URL).scheme or "https"

    def get_domain(self, site=None) -> str:
        parts = urlsplit(settings.SITE_URL)
        return parts.netloc + parts.path.rstrip("/")


class StaticPagesSitemap(SiteSitemap):
    changefreq = "daily"

    def items(self) -> list[str]:
        return [
            "articles:home",
            "articles:topic_list",
            "newsletters:issue_list",
            "articles:event_list",
        ]

    def location(self, item: str) -> str:
        return reverse(item)


class TopicSitemap(SiteSitemap):
    changefreq = "daily"

    def items(self):
        return Topic.objects.order_by("position", "name").only("slug", "updated_at")

    def lastmod(self, item: Topic):
        return item.updated_at


class ArticleSitemap(SiteSitemap):
    changefreq = "monthly"

    def items(self):
        return (
            Article.objects.published()
            .order_by("-published_at", "-id")
            .only("pk", "slug", "updated_at")
        )

    def lastmod(self, item: Article):
        return item.updated_at


class IssueSitemap(SiteSitemap):
    changefreq = "yearly"

    def items(self):
        return Issue.objects.published().order_by("-number").only("number", "updated_at", "status")

    def lastmod(self, item: Issue):
        return item.updated_at


SITEMAPS = {
    "pages": StaticPagesSitemap,
    "topics": TopicSitemap,
    "articles": ArticleSitemap,
    "issues": IssueSitemap,
}
