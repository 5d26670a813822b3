"""``manage.py demo``: load the demo world (offline), then print the admin login."""

from __future__ import annotations

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from digest.demo.world import STEP_COUNT, build_demo_world

BAR_WIDTH = 30


class Command(BaseCommand):
    help = (
        "Build a small demo world without the network: topics, sources whose sample feeds "
        "ship in digest/demo/demo_data/ (ingested through the real pipeline), a sent issue #1, "
        "a draft issue #2, subscribers and an 'editor' admin account. Safe to run again."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--password",
            help="Password for the 'editor' account (default: 'digest-demo' when DEBUG is "
            "on, a random one otherwise). Reset on every run.",
        )

    def handle(self, *args, password: str | None = None, **options):
        on_terminal = self.stdout.isatty()
        done = 0

        def step(label: str) -> None:
            nonlocal done
            done += 1
            if on_terminal:
                filled = BAR_WIDTH * min(done, STEP_COUNT) // STEP_COUNT
                bar = "#" * filled + "-" * (BAR_WIDTH - filled)
                self.stdout.write(f"\r[{bar}] {done}/{STEP_COUNT} {label:<40}", ending="")
                self.stdout.flush()

        summary = build_demo_world(password=password, step=step)
        if on_terminal:
            self.stdout.write("")
        for problem in summary.problems:
            self.stderr.write(f"Source failed: {problem}")
        base = settings.SITE_URL
        self.stdout.write(
            f"Admin login: {base}/admin/  user: {summary.admin_username}  "
            f"password: {summary.admin_password}"
        )
        self.stdout.write(self.style.SUCCESS(str(summary)))
        if summary.problems:
            raise CommandError(f"{len(summary.problems)} demo source(s) failed to ingest.")
