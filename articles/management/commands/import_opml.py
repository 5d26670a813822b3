"""``manage.py import_opml FILE``: add the feeds listed in an OPML file as sources."""

from __future__ import annotations

import sys
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from articles.ingestion.opml import OpmlError, import_opml
from digest.core.progress import ProgressBar


class Command(BaseCommand):
    help = (
        "Create a source for each feed in an OPML file ('-' reads stdin). Sources that "
        "exist already are kept as they are (a missing site URL is filled in)."
    )

    def add_arguments(self, parser):
        parser.add_argument("file", help="Path to the OPML file, or - for standard input.")

    def handle(self, *args, file: str, **options):
        if file == "-":
            content = sys.stdin.buffer.read()
        else:
            path = Path(file)
            if not path.is_file():
                raise CommandError(f"No such file: {file}")
            content = path.read_bytes()
        bar: ProgressBar | None = None

        def progress(total: int, url: str) -> None:
            nonlocal bar
            bar = bar or ProgressBar(self.stdout, total)
            bar.advance(url)

        try:
            report = import_opml(content=content, progress=progress)
        except OpmlError as error:
            raise CommandError(str(error)) from None
        if bar is not None:
            bar.finish()
        if options["verbosity"] >= 2:
            for url in report.created:
                self.stdout.write(f"created  {url}")
            for url in report.updated:
                self.stdout.write(f"updated  {url}")
            for url in report.unchanged:
                self.stdout.write(f"present  {url}")
        for what, why in report.rejected:
            self.stderr.write(f"Rejected {what}: {why}")
        style = self.style.WARNING if report.rejected else self.style.SUCCESS
        self.stdout.write(style(f"Imported {file}: {report}"))
