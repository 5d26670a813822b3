"""The reader site's URLs. Namespaces stay as they were when the site lived in the apps
(``articles:``, ``newsletters:``), so every stored link and template keeps working."""

from django.contrib.sitemaps import views as sitemap_views
from django.urls import include, path

from digest.core.page_cache import cached_page
from digest.site import feeds
from digest.site.sitemaps import SITEMAPS
from digest.site.views import articles, email_images, events, home, issues, search, topics

reader_patterns = [
    path("", home.home, name="home"),
    path("topics/", topics.topic_list, name="topic_list"),
    path("topics/<slug:slug>/", topics.topic_detail, name="topic_detail"),
    path("articles/<int:pk>-<slug:slug>/", articles.article_detail, name="article_detail"),
    path("events/", events.event_list, name="event_list"),
    path("events/<int:pk>/", events.event_detail, name="event_detail"),
    path("events/<int:pk>/event.ics", events.event_ics, name="event_ics"),
    path("search/", search.search, name="search"),
    path("feeds/articles.rss", cached_page(feeds.LatestArticlesFeed()), name="feed_rss"),
    path("feeds/articles.atom", cached_page(feeds.LatestArticlesAtomFeed()), name="feed_atom"),
    path(
        "feeds/topics/<slug:slug>.rss",
        cached_page(feeds.TopicArticlesFeed()),
        name="topic_feed_rss",
    ),
    path(
        "feeds/topics/<slug:slug>.atom",
        cached_page(feeds.TopicArticlesAtomFeed()),
        name="topic_feed_atom",
    ),
    path("feeds/events.ics", events.events_ics, name="events_ics"),
    path("email-images/<str:token>.jpg", email_images.email_image, name="email_image"),
]

issue_patterns = [
    path("issues/", issues.issue_list, name="issue_list"),
    path("issues/<int:number>/", issues.issue_detail, name="issue_detail"),
    path("feeds/issues.rss", cached_page(feeds.IssuesFeed()), name="feed_rss"),
    path("feeds/issues.atom", cached_page(feeds.IssuesAtomFeed()), name="feed_atom"),
]

urlpatterns = [
    path(
        "sitemap.xml",
        cached_page(sitemap_views.index),
        {"sitemaps": SITEMAPS, "sitemap_url_name": "sitemap_section"},
        name="sitemap_index",
    ),
    path(
        "sitemap-<section>.xml",
        cached_page(sitemap_views.sitemap),
        {"sitemaps": SITEMAPS},
        name="sitemap_section",
    ),
    path("", include((issue_patterns, "newsletters"))),
    path("", include((reader_patterns, "articles"))),
]
