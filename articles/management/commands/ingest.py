"""``manage.py ingest``: poll sources now, in this process."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError
from django.db.models import QuerySet

from articles.ingestion.poll import PollStatus, poll_source
from articles.models import Source
from digest.core.progress import ProgressBar


class Command(BaseCommand):
    help = (
        "Poll sources now and store new articles and events. By default every active "
        "source that is due; --all polls every active source; --source ID polls those."
    )

    def add_arguments(self, parser):
        group = parser.add_mutually_exclusive_group()
        group.add_argument("--all", action="store_true", help="Poll every active source.")
        group.add_argument(
            "--source",
            action="append",
            type=int,
            metavar="ID",
            help="Poll this source (even if inactive or not due); repeat for several.",
        )

    def _sources(self, *, poll_all: bool, source_ids: list[int] | None) -> QuerySet[Source]:
        if source_ids:
            sources = Source.objects.filter(pk__in=source_ids).order_by("pk")
            missing = set(source_ids) - set(sources.values_list("pk", flat=True))
            if missing:
                listed = ", ".join(str(pk) for pk in sorted(missing))
                raise CommandError(f"No source with id {listed}.")
            return sources
        if poll_all:
            return Source.objects.active().order_by("pk")
        return Source.objects.due().order_by("pk")

    def handle(self, *args, all: bool = False, source: list[int] | None = None, **options):  # noqa: A002
        sources = list(self._sources(poll_all=all, source_ids=source))
        bar = ProgressBar(self.stdout, len(sources))
        polled = unchanged = new_articles = new_events = failures = busy = 0
        problems: list[str] = []
        for item in sources:
            result = poll_source(source=item)
            bar.advance(item.name)
            if result.status == PollStatus.BUSY:
                busy += 1
                continue
            polled += 1
            new_articles += result.new_articles
            new_events += result.new_events
            if result.status == PollStatus.UNCHANGED:
                unchanged += 1
            elif result.status == PollStatus.FAILED:
                failures += 1
                problems.append(f"{item.name} (#{item.pk}): {result.error}")
        bar.finish()
        for problem in problems:
            self.stderr.write(f"Failed: {problem}")
        summary = (
            f"{polled} sources polled, {unchanged} unchanged, {new_articles} new articles, "
            f"{failures} failures"
        )
        if new_events:
            summary += f", {new_events} new events"
        if busy:
            summary += f", {busy} skipped (already being polled)"
        style = self.style.WARNING if failures else self.style.SUCCESS
        self.stdout.write(style(summary))
