"""import_subscribers FILE [--dry-run] [--as-pending]: subscribers from another tool's CSV."""

from __future__ import annotations

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from digest.core.progress import ProgressBar
from newsletters.subscribers.importing import ImportRefused, import_subscribers


class Command(BaseCommand):
    help = (
        "Import subscribers from a CSV export of Mailchimp, Substack, Ghost, Buttondown or "
        "listmonk, or a plain email,name,topics file (the format is detected). Rows come in "
        "active only with a consent date from the file; suppressed rows stay suppressed."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument("file", type=Path, help="The CSV file.")
        parser.add_argument(
            "--dry-run", action="store_true", help="Report what would happen; store nothing."
        )
        parser.add_argument(
            "--as-pending",
            action="store_true",
            help="Import new addresses as pending and send each a confirmation email.",
        )

    def handle(self, *args, file: Path, dry_run: bool, as_pending: bool, **options) -> None:
        if not file.is_file():
            raise CommandError(f"{file} is not a file.")
        with file.open("rb") as stream:
            bar = ProgressBar(self.stdout, total=file.stat().st_size, unit="B")
            try:
                report = import_subscribers(
                    stream=stream,
                    dry_run=dry_run,
                    as_pending=as_pending,
                    progress=lambda done: bar.update_to(done),
                )
            except ImportRefused as error:
                raise CommandError(f"{file.name}: {error}") from None
            finally:
                bar.finish()
        for line in report.lines():
            self.stdout.write(line)
        self.stdout.write(report.summary())
