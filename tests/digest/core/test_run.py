"""``manage.py run`` (what ``make run`` starts), for real: web, worker and beat as separate
processes on the embedded default (SQLite file, filesystem broker, file cache, all in a
temporary folder), with nothing else running.

A feed served on loopback is added while it runs and gets polled; an issue scheduled a
few seconds ahead is sent to every active subscriber (aiosmtpd on loopback); a worker
killed with SIGKILL is restarted and polls again; Ctrl-C stops everything and leaves no
process behind. Beat ticks every 2 s here (BEAT_TICK_SECONDS) instead of every minute.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import signal
import sqlite3
import subprocess
import sys
import textwrap
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from aiosmtpd.controller import Controller

from tests.articles.conftest import LoopbackServer, _make_handler
from tests.newsletters.conftest import RecordingHandler, SmtpSink, free_port

pytestmark = pytest.mark.slow

PROJECT_DIR = Path(__file__).resolve().parents[3]
# Variables that would turn the embedded default into another shape (CI sets some).
SHAPE_VARIABLES = (
    "DATABASE_URL",
    "REDIS_URL",
    "CELERY_BROKER_URL",
    "CELERY_TASK_ALWAYS_EAGER",
    "CACHE_KEY_PREFIX",
    "EMAIL_URL",
    "SITE_URL",
    "DIGEST_VAR_DIR",
    "FETCH_ALLOW_PRIVATE_NETWORKS",
)

FEED = """<?xml version="1.0" encoding="utf-8"?>
<rss version="2.0"><channel>
  <title>Loopback Wire</title><link>{base}/</link><description>Test feed</description>
  <item>
    <title>{title}</title>
    <link>{base}/news/{slug}.html</link>
    <guid isPermaLink="false">{slug}</guid>
    <pubDate>Mon, 20 Apr 2026 09:00:00 +0000</pubDate>
    <description>Customers should be able to change provider without fees.</description>
  </item>
</channel></rss>
"""

PAGE = """<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">
<title>{title}</title></head><body>
<article><h1>{title}</h1>
<p>The communications regulator has opened a consultation on rules that would let business
customers move their data and applications between cloud providers without exit fees.</p>
<p>Responses are due within eight weeks, after which the regulator will publish a draft
decision. Providers say most customers already switch without difficulty.</p>
</article></body></html>
"""


def wait_for(condition: Callable[[], bool], *, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.3)
    return False


def processes_with_marker(marker: str) -> list[int]:
    """Live (not zombie) processes whose environment carries ``marker``."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        with contextlib.suppress(OSError):
            if marker.encode() not in (entry / "environ").read_bytes():
                continue
            state = (entry / "stat").read_text().rpartition(")")[2].split()[0]
            if state != "Z":
                found.append(int(entry.name))
    return found


@dataclass
class Embedded:
    """A running ``manage.py run`` and what it talks to."""

    process: subprocess.Popen
    env: dict[str, str]
    log_path: Path
    db_path: Path
    port: int
    feeds: LoopbackServer
    smtp: SmtpSink
    marker: str

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def manage(self, code: str) -> str:
        """Run Python in a ``manage.py shell`` of this installation; its stdout."""
        result = subprocess.run(
            [sys.executable, "manage.py", "shell", "-c", textwrap.dedent(code)],
            cwd=PROJECT_DIR,
            env=self.env,
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert result.returncode == 0, result.stderr
        return result.stdout

    def query(self, sql: str, *params) -> list[tuple]:
        with contextlib.closing(sqlite3.connect(f"file:{self.db_path}?mode=ro", uri=True)) as db:
            db.execute("PRAGMA busy_timeout = 5000")
            return db.execute(sql, params).fetchall()

    def serve_feed(self, slug: str, title: str) -> str:
        base = self.feeds.url("")
        self.feeds.serve(f"/news/{slug}.html", PAGE.format(title=title))
        return self.feeds.serve(
            f"/{slug}.xml",
            FEED.format(base=base, slug=slug, title=title),
            content_type="application/rss+xml",
        )

    def add_source(self, url: str) -> int:
        """Add a feed source, due at once, the way the admin does (a model save)."""
        out = self.manage(
            f"""
            from articles.models import Source
            source = Source.objects.create(name="Loopback", url={url!r})
            print(source.pk)
            """
        )
        return int(out.strip().splitlines()[-1])

    def article_titles(self, source_id: int) -> list[str]:
        rows = self.query("SELECT title FROM articles_article WHERE source_id = ?", source_id)
        return [title for (title,) in rows]

    def worker_pid(self) -> int | None:
        """The worker's main process: a child of the supervisor running celery worker."""
        for pid in processes_with_marker(self.marker):
            with contextlib.suppress(OSError):
                stat = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
                cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
                if int(stat[1]) == self.process.pid and b"worker" in cmdline:
                    return pid
        return None

    def interrupt(self, *, timeout: float = 60) -> int:
        """Ctrl-C, as a terminal sends it; the exit status."""
        self.process.send_signal(signal.SIGINT)
        return self.process.wait(timeout=timeout)


@pytest.fixture(scope="module")
def embedded(tmp_path_factory) -> Iterator[Embedded]:
    folder = tmp_path_factory.mktemp("embedded")
    db_path = folder / "db.sqlite3"
    marker = f"DIGEST_RUN_TEST={uuid.uuid4().hex}"
    feeds = LoopbackServer()
    from http.server import ThreadingHTTPServer

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), _make_handler(feeds))
    httpd.daemon_threads = True
    feeds.port = httpd.server_address[1]
    import threading

    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    handler = RecordingHandler()
    smtp_port = free_port()
    controller = Controller(handler, hostname="127.0.0.1", port=smtp_port)
    controller.start()
    smtp = SmtpSink(handler, smtp_port)

    env = {key: value for key, value in os.environ.items() if key not in SHAPE_VARIABLES}
    env.update(
        {
            "DATABASE_URL": f"sqlite:///{db_path}",
            "DIGEST_VAR_DIR": str(folder / "var"),
            "EMAIL_URL": smtp.url,
            "FETCH_ALLOWED_NETWORKS": "127.0.0.0/8",
            "BEAT_TICK_SECONDS": "2",
            marker.split("=")[0]: marker.split("=")[1],
        }
    )
    subprocess.run(
        [sys.executable, "manage.py", "migrate", "--no-input"],
        cwd=PROJECT_DIR,
        env=env,
        check=True,
        capture_output=True,
        timeout=180,
    )
    port = free_port()
    log_path = folder / "run.log"
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            [sys.executable, "manage.py", "run", "--port", str(port)],
            cwd=PROJECT_DIR,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
        )
    running = Embedded(process, env, log_path, db_path, port, feeds, smtp, marker)
    try:
        ready = wait_for(
            lambda: (
                "Starting development server" in running.log()
                and " ready." in running.log()
                and "beat: Starting" in running.log()
            ),
            timeout=90,
        )
        assert ready, running.log()[-4000:]
        yield running
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGINT)
            try:
                process.wait(timeout=60)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
        for pid in processes_with_marker(marker):
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        controller.stop()
        httpd.shutdown()
        httpd.server_close()


def test_run_serves_the_site_and_prints_where_first(embedded):
    import urllib.request

    with urllib.request.urlopen(f"http://127.0.0.1:{embedded.port}/healthz", timeout=10) as r:
        assert r.status == 200
    first_line = embedded.log().splitlines()[0]
    served = f"Serving http://127.0.0.1:{embedded.port}/"
    assert first_line.startswith(f"{served} with web, worker, beat")
    # Each process's lines carry its name.
    assert re.search(r"^web +\| ", embedded.log(), re.M)
    assert re.search(r"^worker +\| .*embedded@\S+ ready\.", embedded.log(), re.M)
    assert re.search(r"^beat +\| .*beat: Starting", embedded.log(), re.M)


def test_source_added_while_running_is_polled_by_beat_and_worker(embedded):
    source_id = embedded.add_source(embedded.serve_feed("cloud", "Cloud switching consultation"))

    polled = wait_for(lambda: embedded.article_titles(source_id), timeout=60)

    assert polled, embedded.log()[-4000:]
    assert embedded.article_titles(source_id) == ["Cloud switching consultation"]
    assert "articles.tasks.source_poll_task" in embedded.log()
    (error,) = embedded.query("SELECT last_error FROM articles_source WHERE id = ?", source_id)
    assert error == ("",)


def test_issue_scheduled_ahead_is_sent_to_every_active_subscriber_at_its_time(embedded):
    out = embedded.manage(
        """
        import json
        from datetime import timedelta
        from django.contrib.auth.models import User
        from django.utils import timezone
        from newsletters.workflow import schedule_issue
        from tests.factories import IssueFactory, IssueItemFactory, SubscriberFactory

        editor = User.objects.create_superuser("sched-editor", "editor@example.org", "pw")
        issue = IssueFactory(number=77, title="Scheduled from the test")
        IssueItemFactory(issue=issue)
        for n in range(3):
            SubscriberFactory(active=True, email=f"active{n}@example.org")
        SubscriberFactory(email="pending@example.org")
        send_at = timezone.now() + timedelta(seconds=4)
        schedule_issue(issue=issue, send_at=send_at, user=editor)
        print(json.dumps({"id": issue.pk, "send_at": send_at.timestamp()}))
        """
    )
    scheduled = json.loads(out.strip().splitlines()[-1])

    def status() -> list[tuple]:
        return embedded.query("SELECT status FROM newsletters_issue WHERE id = ?", scheduled["id"])

    sent = wait_for(lambda: status() == [("sent",)], timeout=60)

    assert sent, embedded.log()[-4000:]
    (sent_at,) = embedded.query(
        "SELECT sent_at FROM newsletters_issue WHERE id = ?", scheduled["id"]
    )[0]
    assert sent_at is not None
    recipients = embedded.smtp.recipient_counts()
    assert recipients == {f"active{n}@example.org": 1 for n in range(3)}
    assert "Scheduled from the test" in embedded.smtp.messages[0].parsed()["Subject"]


def test_worker_writes_its_heartbeat(embedded):
    def seen() -> list[tuple]:
        return embedded.query("SELECT worker, seen_at FROM core_workerheartbeat")

    assert wait_for(lambda: bool(seen()), timeout=30), embedded.log()[-3000:]
    assert seen()[0][0].startswith("embedded@")
    # Beat's heartbeat task keeps it fresh (every tick, 2 s here).
    first = seen()[0][1]
    assert wait_for(lambda: seen()[0][1] != first, timeout=30), embedded.log()[-3000:]
    assert "digest.core.tasks.worker_heartbeat_task" in embedded.log()


def test_killed_worker_is_restarted_and_polls_again(embedded):
    old_pid = embedded.worker_pid()
    assert old_pid is not None, embedded.log()[-3000:]
    os.killpg(old_pid, signal.SIGKILL)  # the worker and its pool, as a crash would

    restarted = wait_for(
        lambda: (
            "worker exited (signal SIGKILL); restarting it" in embedded.log()
            and len(re.findall(r"embedded@\S+ ready\.", embedded.log())) >= 2
            and embedded.worker_pid() not in (None, old_pid)
        ),
        timeout=60,
    )
    assert restarted, embedded.log()[-4000:]
    source_id = embedded.add_source(embedded.serve_feed("after-kill", "Polled after a restart"))

    assert wait_for(lambda: embedded.article_titles(source_id), timeout=60), embedded.log()[-4000:]
    assert embedded.article_titles(source_id) == ["Polled after a restart"]


def test_ctrl_c_stops_web_worker_and_beat_and_leaves_no_process(embedded):
    assert len(processes_with_marker(embedded.marker)) >= 5  # run, web, worker + pool, beat

    status = embedded.interrupt()

    assert status == 0, embedded.log()[-3000:]
    assert wait_for(lambda: not processes_with_marker(embedded.marker), timeout=10), [
        Path(f"/proc/{pid}/cmdline").read_bytes() for pid in processes_with_marker(embedded.marker)
    ]
    log = embedded.log()
    assert "stopping web, worker, beat" in log
    assert "Warm shutdown" in log
    assert log.rstrip().endswith("all stopped.")


def test_start_up_line_names_where_email_goes(settings, tmp_path):
    from digest.core.management.commands.run import mail_destination

    settings.EMAIL_BACKEND = "digest.core.mailbox.EmailBackend"
    settings.EMAIL_FILE_PATH = str(tmp_path / "mail")
    assert mail_destination() == f"email is written to {tmp_path / 'mail'}/"
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", 2525
    assert mail_destination() == "email goes to 127.0.0.1:2525"
