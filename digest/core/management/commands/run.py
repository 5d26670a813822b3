"""``manage.py run``: serve the site and run a Celery worker and beat beside it (``make run``).

Web, worker and beat are separate processes, exactly as in production, under one small
supervisor (digest/core/supervisor.py): their lines are prefixed ``web |``, ``worker |``
and ``beat |``, a process that dies is restarted, Ctrl-C stops all three.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from digest.core.broker import FILESYSTEM_BROKER_URL, BrokerFolderError, prepare_broker_folders
from digest.core.ports import port_problem
from digest.core.supervisor import Program, Supervisor


def programs(*, host: str, port: int, concurrency: int, schedule: Path) -> list[Program]:
    """The three commands ``make run`` keeps running, with this interpreter."""
    python = sys.executable
    celery = [python, "-m", "celery", "-A", "digest"]
    address = f"[{host}]:{port}" if ":" in host else f"{host}:{port}"
    return [
        # No autoreloader: it would fork a second server the supervisor does not know.
        Program("web", [python, "manage.py", "runserver", address, "--noreload"]),
        Program(
            "worker",
            [
                *celery,
                "worker",
                # trafilatura is not thread-safe: processes, as in production.
                "--pool=prefork",
                f"--concurrency={concurrency}",
                "--loglevel=INFO",
                # One worker: nobody to synchronise with or gossip to.
                "--without-mingle",
                "--without-gossip",
                "--hostname=embedded@%h",
            ],
        ),
        Program("beat", [*celery, "beat", "--loglevel=INFO", f"--schedule={schedule}"]),
    ]


def mail_destination() -> str:
    """Where email goes, in a few words, for the start-up line."""
    backend = settings.EMAIL_BACKEND
    if getattr(settings, "EMAIL_FILE_PATH", None) and not backend.endswith("smtp.EmailBackend"):
        return f"email is written to {settings.EMAIL_FILE_PATH}/"
    if backend.endswith("console.EmailBackend"):
        return "email is printed here"
    if backend.endswith("smtp.EmailBackend"):
        return f"email goes to {settings.EMAIL_HOST}:{settings.EMAIL_PORT}"
    return f"email goes through {backend}"


class Command(BaseCommand):
    help = (
        "Serve the site and run a Celery worker and beat beside it, with prefixed output; "
        "Ctrl-C stops all of them."
    )
    requires_system_checks = []  # the web server runs them itself

    def add_arguments(self, parser) -> None:
        parser.add_argument("--host", default="127.0.0.1", help="Address to serve on.")
        parser.add_argument("--port", type=int, default=8000, help="Port to serve on.")
        parser.add_argument(
            "--concurrency", type=int, default=2, help="Worker processes (default 2)."
        )

    def handle(self, *args, host: str, port: int, concurrency: int, **options) -> None:
        problem = port_problem(host, port)
        if problem:
            raise CommandError(problem)
        if settings.CELERY_BROKER_URL == FILESYSTEM_BROKER_URL:
            try:
                prepare_broker_folders(settings.CELERY_BROKER_TRANSPORT_OPTIONS)
            except BrokerFolderError as error:
                raise CommandError(str(error)) from None
        schedule = Path(
            getattr(settings, "CELERY_BEAT_SCHEDULE_FILENAME", "")
            or settings.VAR_DIR / "celery" / "beat-schedule"
        )
        try:
            schedule.parent.mkdir(parents=True, exist_ok=True)
        except OSError as error:
            raise CommandError(f"Cannot create {schedule.parent}: {error.strerror}.") from None

        shown_host = f"[{host}]" if ":" in host else host
        env = {**os.environ, "PYTHONUNBUFFERED": "1"}
        # Links in emails and feeds point at the port actually served, unless set.
        env.setdefault("SITE_URL", f"http://{shown_host}:{port}")
        every = programs(host=host, port=port, concurrency=concurrency, schedule=schedule)
        if settings.CELERY_TASK_ALWAYS_EAGER:
            self.stdout.write(
                "CELERY_TASK_ALWAYS_EAGER is set: tasks run in the web process and no worker "
                "or beat starts, so nothing is polled or sent on schedule."
            )
            every = every[:1]
        self.stdout.write(
            f"Serving http://{shown_host}:{port}/ with "
            + ", ".join(p.name for p in every)
            + f"; {mail_destination()}. Ctrl-C stops everything."
        )
        self.stdout.flush()
        status = Supervisor(every, env=env, cwd=str(settings.BASE_DIR)).run()
        if status:
            raise SystemExit(status)
