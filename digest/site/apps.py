"""The reader site app: template tags, page-cache invalidation, search-engine sync."""

from importlib import import_module

from django.apps import AppConfig


class SiteConfig(AppConfig):
    """The public reader site: it reads both apps and owns no models."""

    name = "digest.site"
    label = "site"
    verbose_name = "Reader site"

    def ready(self) -> None:
        from digest.site.invalidation import connect_invalidation_signals

        connect_invalidation_signals()
        from digest.site.search_engine_sync import connect_search_engine_signals

        connect_search_engine_signals()
        # Registers the site's tasks, so services can enqueue them by name.
        import_module(f"{self.name}.tasks")
