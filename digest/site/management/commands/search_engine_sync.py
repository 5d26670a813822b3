"""``manage.py search_engine_sync``: send every article to the optional search engine."""

from __future__ import annotations

import contextlib

from django.core.management.base import BaseCommand, CommandError

from articles.models import Article
from digest.core.progress import ProgressBar
from digest.site.search_engine import SearchEngineError, configured_engine
from digest.site.search_engine_sync import SYNC_BATCH, sync_articles


class Command(BaseCommand):
    help = "Index every dated article in the search engine named by SEARCH_ENGINE_URL."

    def add_arguments(self, parser):
        parser.add_argument(
            "--recreate", action="store_true", help="Drop and create the index first."
        )

    def handle(self, *args, recreate: bool = False, **options):
        engine = configured_engine()
        if engine is None:
            raise CommandError("SEARCH_ENGINE_URL is not set: the database does the searching.")
        ids = list(
            Article.objects.filter(published_at__isnull=False)
            .order_by("pk")
            .values_list("pk", flat=True)
        )
        bar = ProgressBar(self.stdout, len(ids), unit="article")
        indexed = 0
        try:
            if recreate:
                with contextlib.suppress(SearchEngineError):  # no index yet
                    engine.drop_index()
                engine.create_index()
            for start in range(0, len(ids), SYNC_BATCH):
                done, _ = sync_articles(ids[start : start + SYNC_BATCH])
                indexed += done
                bar.update_to(min(start + SYNC_BATCH, len(ids)))
        except SearchEngineError as error:
            raise CommandError(f"The search engine refused: {error}") from error
        finally:
            bar.finish()
        self.stdout.write(f"Indexed {indexed} articles in {engine.index_name}.")
