"""Top-level URLs: the reader site, the newsletter pages, the admin."""

from django.contrib import admin
from django.contrib.sitemaps import views as sitemap_views
from django.urls import include, path

from articles.caching import cached_page
from articles.sitemaps import SITEMAPS
from articles.views import healthz, robots_txt

urlpatterns = [
    path("admin/", admin.site.urls),
    # Reader site: crawler files and a liveness check.
    path("robots.txt", robots_txt, name="robots_txt"),
    path("healthz", healthz, name="healthz"),
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
    path("", include("newsletters.subscription_urls")),
    path("", include("newsletters.urls")),
    path("", include("articles.urls")),
]
