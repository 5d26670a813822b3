"""The articles app: sources, articles, topics, events and the ingestion pipeline."""

from importlib import import_module

from django.apps import AppConfig
from django.db.models.signals import post_migrate


def _restore_search_triggers(sender, using: str = "default", **kwargs) -> None:
    """SQLite drops a table's triggers when a migration rebuilds it: put the FTS5 ones back."""
    from django.db import connections

    from articles.search_index import ensure_sqlite_triggers

    ensure_sqlite_triggers(connections[using])


class ArticlesConfig(AppConfig):
    name = "articles"
    verbose_name = "Sources and articles"

    def ready(self) -> None:
        # Registers the app's tasks, so services can enqueue them by name.
        import_module(f"{self.name}.tasks")
        post_migrate.connect(_restore_search_triggers, sender=self)
