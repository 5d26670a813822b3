"""export_subscribers [--output FILE] [--status STATUS]: every subscriber as CSV."""

from __future__ import annotations

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from digest.core.progress import ProgressBar
from newsletters.models import Subscriber
from newsletters.subscribers.exporting import COLUMNS, export_rows, write_csv


class Command(BaseCommand):
    help = (
        "Write every subscriber (all fields, status, topics, consent record) as CSV to "
        "stdout or --output FILE. Cells that a spreadsheet would run as a formula are "
        "written with a leading apostrophe."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument("--output", type=Path, help="Write to FILE instead of stdout.")
        parser.add_argument(
            "--status", choices=Subscriber.Status.values, help="Only subscribers in STATUS."
        )

    def handle(self, *args, output: Path | None, status: str | None, **options) -> None:
        queryset = Subscriber.objects.all()
        if status:
            queryset = queryset.filter(status=status)
        if output is None:
            # The CSV is the output: no bar, no summary mixed into it.
            # Django's OutputWrapper would add its own line endings: write to its stream.
            write_csv(export_rows(queryset), self.stdout._out)
            return
        try:
            handle = output.open("w", encoding="utf-8", newline="")
        except OSError as error:
            raise CommandError(f"Cannot write {output}: {error.strerror}.") from None
        bar = ProgressBar(self.stdout, total=queryset.count(), unit="subscriber")
        with handle:
            rows = export_rows(queryset)
            count = write_csv(_advancing(rows, bar), handle)
        bar.finish()
        self.stdout.write(f"Wrote {count} subscribers ({len(COLUMNS)} columns) to {output}.")


def _advancing(rows, bar: ProgressBar):
    for index, row in enumerate(rows):
        if index:
            bar.advance()
        yield row
