"""The reader site app: template tags and page-cache invalidation."""

from django.apps import AppConfig


class SiteConfig(AppConfig):
    """The public reader site: it reads both apps and owns no models."""

    name = "digest.site"
    label = "site"
    verbose_name = "Reader site"

    def ready(self) -> None:
        from digest.site.invalidation import connect_invalidation_signals

        connect_invalidation_signals()
