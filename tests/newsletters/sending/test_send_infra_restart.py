"""The database and the broker restarted in the middle of a send, against a real Celery
worker and beat, a PostgreSQL cluster and a Redis server of the test's own (never the
shared ones) and an aiosmtpd server on loopback.

- PostgreSQL stopped as in a crash (``pg_ctl -m immediate``) and started again: batch
  tasks retry on database errors, the "sent" of an accepted message is retried until it
  is stored, so nobody is skipped and (no pool child died) nobody gets two copies.
- Redis killed and started again empty (every queued and unacknowledged task message
  lost): the sweeper finds the deliveries whose queued lease ran out and queues them
  again, so the send completes, with nobody skipped and nobody sent twice.

Lease and sweep timings are shortened through the environment of the worker and beat
so each test takes well under a minute; the README says what the defaults give.
"""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
import time
import uuid

import psycopg
import pytest

from tests.conftest import PROJECT_DIR, CeleryWorkerProcess
from tests.own_servers import PostgresCluster, RedisServer

pytestmark = pytest.mark.slow

RECIPIENTS = 800
BATCH_SIZE = 50
# Messages per second for the worker: the send takes about 8 s, so a restart lands in it.
RATE = 100
TIMINGS = {
    "NEWSLETTER_LEASE_SECONDS": "6",  # default 30
    "NEWSLETTER_QUEUED_LEASE_SECONDS": "10",  # default 120
    "BEAT_TICK_SECONDS": "1",  # the sweeper runs every 5 ticks: every 5 s (default 30 s)
}


@pytest.fixture(scope="module")
def own_postgres():
    """A cluster of this module's own with a migrated template database."""
    try:
        cluster = PostgresCluster()
    except RuntimeError as error:
        pytest.skip(str(error))
    try:
        cluster.init()
        cluster.start()
        cluster.execute("CREATE DATABASE digest_template")
        subprocess.run(
            [sys.executable, "manage.py", "migrate", "--noinput", "-v", "0"],
            cwd=PROJECT_DIR,
            env={**os.environ, "DATABASE_URL": cluster.url("digest_template")},
            check=True,
            timeout=300,
        )
        yield cluster
    finally:
        cluster.destroy()


@pytest.fixture
def own_redis():
    try:
        server = RedisServer()
    except RuntimeError as error:
        pytest.skip(str(error))
    try:
        server.start()
        yield server
    finally:
        server.destroy()


class SendStack:
    """A worker and beat on the own servers, and what the test reads from them."""

    def __init__(self, *, postgres: PostgresCluster, redis: RedisServer, sink, tmp_path):
        self.postgres = postgres
        self.redis = redis
        self.sink = sink
        name = f"send_{uuid.uuid4().hex[:8]}"
        postgres.execute(f"CREATE DATABASE {name} TEMPLATE digest_template")
        self.database_url = postgres.url(name)
        self.env = {
            **os.environ,
            "DATABASE_URL": self.database_url,
            "REDIS_URL": redis.url,
            "CELERY_BROKER_URL": redis.url,
            "CELERY_TASK_ALWAYS_EAGER": "0",
            "EMAIL_URL": sink.url,
            "NEWSLETTER_BATCH_SIZE": str(BATCH_SIZE),
            "NEWSLETTER_RATE_LIMIT": str(RATE),
            "PYTHONUNBUFFERED": "1",
            **TIMINGS,
        }
        self.tmp_path = tmp_path
        self.worker = CeleryWorkerProcess(env=self.env, log_path=tmp_path / "worker.log")
        self.beat: subprocess.Popen | None = None
        self.issue_id: int | None = None

    def start(self) -> None:
        self.worker.start()
        with (self.tmp_path / "beat.log").open("ab") as log:
            self.beat = subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "celery",
                    "-A",
                    "digest",
                    "beat",
                    "--loglevel=INFO",
                    "-s",
                    str(self.tmp_path / "beat-schedule"),
                ],
                cwd=PROJECT_DIR,
                env=self.env,
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                start_new_session=True,
            )

    def stop(self) -> None:
        if self.beat is not None and self.beat.poll() is None:
            self.beat.terminate()
            with contextlib.suppress(subprocess.TimeoutExpired):
                self.beat.wait(timeout=10)
            self.beat.kill()
            self.beat.wait()
        self.worker.stop()

    def begin_send(self, prefix: str) -> None:
        """Subscribers and an issue in the own database, and its send begun (batch tasks
        queued on the own Redis), from a process of their own, as the admin would."""
        code = (
            "from django.utils import timezone\n"
            "from newsletters.models import Subscriber\n"
            "from newsletters.sending.start import begin_issue_send\n"
            "from tests.factories import IssueFactory, IssueItemFactory\n"
            "now = timezone.now()\n"
            "Subscriber.objects.bulk_create(Subscriber(email=f'"
            + prefix
            + "{n}@example.org', status=Subscriber.Status.ACTIVE, confirmed_at=now,"
            f" consent_at=now) for n in range({RECIPIENTS}))\n"
            "issue = IssueFactory()\n"
            "IssueItemFactory(issue=issue)\n"
            "begin_issue_send(issue=issue)\n"
            "print('ISSUE', issue.pk)\n"
        )
        done = subprocess.run(
            [sys.executable, "manage.py", "shell", "-c", code],
            cwd=PROJECT_DIR,
            env=self.env,
            check=True,
            capture_output=True,
            text=True,
            timeout=120,
        )
        self.issue_id = int(done.stdout.split("ISSUE", 1)[1].split()[0])

    def state(self) -> tuple[str, dict[str, int]] | None:
        """(issue status, deliveries per status), or None while the database is away."""
        try:
            with psycopg.connect(self.database_url, connect_timeout=2) as conn:
                status = conn.execute(
                    "SELECT status FROM newsletters_issue WHERE id = %s", [self.issue_id]
                ).fetchone()[0]
                rows = conn.execute(
                    "SELECT status, count(*) FROM newsletters_delivery WHERE issue_id = %s"
                    " GROUP BY status",
                    [self.issue_id],
                ).fetchall()
        except psycopg.OperationalError:
            return None
        return status, dict(rows)

    def wait_for(self, predicate, *, timeout: float, what: str):
        deadline = time.monotonic() + timeout
        state = None
        while time.monotonic() < deadline:
            state = self.state()
            if state is not None and predicate(*state):
                return state
            time.sleep(0.2)
        raise AssertionError(
            f"{what} not within {timeout} s: {state}\n{self.worker.log_text()[-3000:]}"
        )

    def check_everyone_once(self, prefix: str) -> None:
        counts = self.sink.recipient_counts()
        expected = {f"{prefix}{n}@example.org" for n in range(RECIPIENTS)}
        missing = expected - set(counts)
        duplicates = {address: count for address, count in counts.items() if count > 1}
        print(f"recipients: {len(counts)} of {RECIPIENTS}, missing {len(missing)}")
        assert not missing
        assert set(counts) == expected
        # No pool child died and every "sent" was stored in time: the stated bound is 0.
        assert duplicates == {}
        assert self.state() == ("sent", {"sent": RECIPIENTS})


@pytest.fixture
def send_stack(own_postgres, own_redis, smtp_sink, tmp_path):
    stack = SendStack(postgres=own_postgres, redis=own_redis, sink=smtp_sink, tmp_path=tmp_path)
    stack.start()
    try:
        yield stack
    finally:
        stack.stop()


def test_postgresql_restarted_mid_send_skips_nobody_and_doubles_nobody(send_stack):
    send_stack.begin_send("pgdown")
    send_stack.wait_for(
        lambda status, counts: counts.get("sent", 0) >= RECIPIENTS // 4,
        timeout=60,
        what="a quarter sent",
    )
    started = time.monotonic()
    send_stack.postgres.stop(mode="immediate")  # as in a crash: connections cut
    sent_while_down = len(send_stack.sink.messages)
    time.sleep(3)
    send_stack.postgres.start()
    print(f"\nPostgreSQL down for {time.monotonic() - started:.1f} s")
    assert send_stack.state()[1].get("sent", 0) < RECIPIENTS, "the restart came too late"

    send_stack.wait_for(lambda status, counts: status == "sent", timeout=60, what="sent")
    print(f"finished {time.monotonic() - started:.0f} s after the stop")
    assert len(send_stack.sink.messages) > sent_while_down
    assert "OperationalError" in send_stack.worker.log_text()  # the outage was seen
    send_stack.check_everyone_once("pgdown")


def test_redis_restarted_empty_mid_send_is_completed_by_the_sweeper(send_stack):
    send_stack.begin_send("redisdown")
    send_stack.wait_for(
        lambda status, counts: counts.get("sent", 0) >= RECIPIENTS // 4,
        timeout=60,
        what="a quarter sent",
    )
    started = time.monotonic()
    send_stack.redis.restart_empty()
    import redis

    client = redis.Redis.from_url(send_stack.redis.url)
    try:
        # Every queued and unacknowledged batch task is gone (the worker and beat
        # reconnect at once, and beat queues its periodic tasks, but no batch comes back).
        messages = client.lrange("celery", 0, -1) + client.hvals("unacked")
        assert not [m for m in messages if b"deliveries_send_batch_task" in m]
    finally:
        client.close()
    assert send_stack.state()[1].get("sent", 0) < RECIPIENTS, "the restart came too late"

    send_stack.wait_for(lambda status, counts: status == "sent", timeout=60, what="sent")
    print(f"\nfinished {time.monotonic() - started:.0f} s after the restart")
    assert "re-enqueued" in send_stack.worker.log_text()  # the sweeper queued the lost ones
    send_stack.check_everyone_once("redisdown")
