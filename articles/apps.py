from django.apps import AppConfig


class ArticlesConfig(AppConfig):
    name = "articles"
    verbose_name = "Sources and articles"

    def ready(self) -> None:
        # Cache invalidation only: a page cache must hear of every change to what it shows.
        from articles.caching import connect_invalidation_signals

        connect_invalidation_signals()
