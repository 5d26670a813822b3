from django.urls import path

from articles import syndication, views
from articles.caching import cached_page

app_name = "articles"

urlpatterns = [
    path("", views.home, name="home"),
    path("topics/", views.topic_list, name="topic_list"),
    path("topics/<slug:slug>/", views.topic_detail, name="topic_detail"),
    path("articles/<int:pk>-<slug:slug>/", views.article_detail, name="article_detail"),
    path("events/", views.event_list, name="event_list"),
    path("events/<int:pk>/", views.event_detail, name="event_detail"),
    path("events/<int:pk>/event.ics", views.event_ics, name="event_ics"),
    path("search/", views.search, name="search"),
    path("feeds/articles.rss", cached_page(syndication.LatestArticlesFeed()), name="feed_rss"),
    path(
        "feeds/articles.atom", cached_page(syndication.LatestArticlesAtomFeed()), name="feed_atom"
    ),
    path(
        "feeds/topics/<slug:slug>.rss",
        cached_page(syndication.TopicArticlesFeed()),
        name="topic_feed_rss",
    ),
    path(
        "feeds/topics/<slug:slug>.atom",
        cached_page(syndication.TopicArticlesAtomFeed()),
        name="topic_feed_atom",
    ),
    path("feeds/events.ics", views.events_ics, name="events_ics"),
]
