"""``manage.py export_opml``: write every source as OPML to standard output."""

from __future__ import annotations

from django.conf import settings
from django.core.management.base import BaseCommand

from articles.ingestion.opml import export_opml
from articles.models import Source


class Command(BaseCommand):
    help = "Write all sources as an OPML 2.0 file to standard output."

    def add_arguments(self, parser):
        parser.add_argument(
            "--active-only", action="store_true", help="Leave out inactive sources."
        )

    def handle(self, *args, active_only: bool = False, **options):
        sources = Source.objects.order_by("category", "name")
        if active_only:
            sources = sources.active()
        sources = list(sources)
        self.stdout.write(
            export_opml(sources=sources, title=f"{settings.SITE_NAME} sources"), ending=""
        )
        self.stderr.write(f"Exported {len(sources)} sources.")
