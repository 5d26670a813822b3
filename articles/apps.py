"""The articles app: sources, articles, topics, events and the ingestion pipeline."""

from importlib import import_module

from django.apps import AppConfig


class ArticlesConfig(AppConfig):
    name = "articles"
    verbose_name = "Sources and articles"

    def ready(self) -> None:
        # Registers the app's tasks, so services can enqueue them by name.
        import_module(f"{self.name}.tasks")
