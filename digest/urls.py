"""Top-level URLs: the reader site, the newsletter pages, the admin."""

from django.contrib import admin
from django.urls import include, path

urlpatterns = [
    path("admin/", admin.site.urls),
    path("", include("newsletters.subscription_urls")),
    path("", include("newsletters.urls")),
    path("", include("articles.urls")),
]
