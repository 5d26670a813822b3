"""Top-level URLs: the admin, crawler files, subscriptions, and the reader site."""

from django.contrib import admin
from django.urls import include, path

from digest.core.health import healthz, robots_txt

urlpatterns = [
    path("admin/", admin.site.urls),
    path("robots.txt", robots_txt, name="robots_txt"),
    path("healthz", healthz, name="healthz"),
    path("", include("newsletters.subscribers.urls")),
    path("", include("digest.site.urls")),
]
