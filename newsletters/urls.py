from django.urls import path

from articles.caching import cached_page
from newsletters import syndication, views

app_name = "newsletters"

urlpatterns = [
    path("issues/", views.issue_list, name="issue_list"),
    path("issues/<int:number>/", views.issue_detail, name="issue_detail"),
    path("feeds/issues.rss", cached_page(syndication.IssuesFeed()), name="feed_rss"),
    path("feeds/issues.atom", cached_page(syndication.IssuesAtomFeed()), name="feed_atom"),
]
