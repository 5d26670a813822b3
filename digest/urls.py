"""Top-level URLs: the admin, crawler files, subscriptions, ESP webhooks, the reader site."""

from django.conf import settings
from django.contrib import admin
from django.http import HttpRequest, HttpResponse
from django.urls import include, path, re_path
from django.views.static import serve

from digest.core.csp_reports import csp_report
from digest.core.health import healthz, robots_txt
from newsletters.sending.esp_events import esp_webhook_urlpatterns

urlpatterns = [
    path("admin/", admin.site.urls),
    path("robots.txt", robots_txt, name="robots_txt"),
    path("healthz", healthz, name="healthz"),
    path("csp-report/", csp_report, name="csp_report"),
    path("", include("newsletters.subscribers.urls")),
    # django-anymail's per-ESP tracking webhooks: /webhooks/anymail/<esp>/tracking/
    path("webhooks/anymail/", include((esp_webhook_urlpatterns(), "anymail"))),
    path("", include("newsletters.click_urls")),
    path("", include("digest.site.urls")),
]


def media(request: HttpRequest, path: str) -> HttpResponse:
    """An uploaded file from MEDIA_ROOT (read per request, so tests may move it)."""
    return serve(request, path, document_root=settings.MEDIA_ROOT)


if settings.MEDIA_SERVE:
    # The embedded default serves editors' uploaded images itself; production points
    # MEDIA_URL at the storage's own address (or a proxy) and turns this off.
    urlpatterns.insert(
        0,
        re_path(rf"^{settings.MEDIA_URL.strip('/')}/(?P<path>.+)$", media, name="media"),
    )
