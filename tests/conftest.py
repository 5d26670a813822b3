"""Test-wide settings overrides and fixtures, in one place."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path
from urllib.parse import quote

import pytest
from django.db import connection

ARTIFACTS_DIR = Path(__file__).resolve().parent.parent / "test-artifacts"


def pytest_collection_modifyitems(config, items):
    on_postgres = os.environ.get("DATABASE_URL", "").startswith(("postgres", "pgsql"))
    has_redis = bool(os.environ.get("REDIS_URL"))
    skip_pg = pytest.mark.skip(reason="needs PostgreSQL (set DATABASE_URL)")
    skip_redis = pytest.mark.skip(reason="needs Redis (set REDIS_URL)")
    for item in items:
        if "postgres" in item.keywords and not on_postgres:
            item.add_marker(skip_pg)
        if "redis" in item.keywords and not has_redis:
            item.add_marker(skip_redis)


@pytest.fixture(autouse=True)
def _test_settings(settings):
    """Overrides every test starts from; a test may change them further."""
    from digest.celery import app

    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    if settings.CACHES["default"]["BACKEND"].endswith("FileBasedCache"):
        # The embedded default's cache is files under var/, shared with a `make run` of this
        # checkout: tests keep theirs in memory (Redis in CI stays Redis).
        settings.CACHES = {
            "default": {
                "BACKEND": "django.core.cache.backends.locmem.LocMemCache",
                "LOCATION": "tests",
                "TIMEOUT": 300,
            }
        }
    settings.FETCH_ALLOW_PRIVATE_NETWORKS = False
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }
    # In-process tests run tasks eagerly; tests that need a real worker switch this off.
    previous = app.conf.task_always_eager
    app.conf.task_always_eager = True
    yield
    app.conf.task_always_eager = previous


@pytest.fixture(autouse=True)
def _close_lanes():
    """Sending lanes keep their threads and database connections between batches; a
    test's must be closed before its database is flushed or dropped."""
    yield
    from newsletters.sending.lanes import close_lanes

    close_lanes()


@pytest.fixture(autouse=True)
def _clear_cache(_test_settings):
    # After _test_settings, so the cache cleared is the one the test uses.
    from django.core.cache import cache

    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def artifacts_dir() -> Path:
    """Where tests save screenshots and other files worth looking at after a run."""
    ARTIFACTS_DIR.mkdir(exist_ok=True)
    return ARTIFACTS_DIR


@pytest.fixture
def is_postgres() -> bool:
    return connection.vendor == "postgresql"


# ------------------------------------------------------------- Celery worker

PROJECT_DIR = Path(__file__).resolve().parent.parent


def worker_database_url() -> str:
    """A DATABASE_URL that reaches the database this test run uses (test_<name>)."""
    db = connection.settings_dict
    if connection.vendor != "postgresql":
        raise RuntimeError("a worker process can share only a PostgreSQL test database")
    credentials = quote(db["USER"] or "", safe="")
    if db["PASSWORD"]:
        credentials += ":" + quote(db["PASSWORD"], safe="")
    host = db["HOST"] or "127.0.0.1"
    port = f":{db['PORT']}" if db["PORT"] else ""
    return f"postgresql://{credentials}@{host}{port}/{quote(db['NAME'], safe='')}"


class CeleryWorkerProcess:
    """A real ``celery worker`` (prefork, one child) in its own process group.

    ``start()`` waits until the worker reports ready; ``kill()`` SIGKILLs the
    whole group (main process and pool child, as a crash would); ``stop()``
    asks for a warm shutdown; ``restart()`` starts a fresh worker after either.
    The log of every worker started goes to ``log_path`` (appended).
    """

    def __init__(self, *, env: dict[str, str], log_path: Path) -> None:
        self.env = env
        self.log_path = log_path
        self.process: subprocess.Popen | None = None
        self._log_offset = 0

    @property
    def is_running(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def start(self, *, extra_env: dict[str, str] | None = None, timeout: float = 90) -> None:
        if self.is_running:
            raise RuntimeError("the worker is already running")
        env = {**self.env, **(extra_env or {})}
        self._log_offset = self.log_path.stat().st_size if self.log_path.exists() else 0
        log = self.log_path.open("ab")
        command = [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "digest",
            "worker",
            "--pool=prefork",
            "--concurrency=1",
            "-Q",
            "celery",
            "--loglevel=INFO",
            "--without-gossip",
            "--without-mingle",
            "--without-heartbeat",
            f"--hostname=pytest-{uuid.uuid4().hex[:8]}@%h",
        ]
        self.process = subprocess.Popen(
            command,
            cwd=PROJECT_DIR,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
        )
        log.close()
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if " ready." in self.log_text():
                return
            if self.process.poll() is not None:
                break
            time.sleep(0.2)
        output = self.log_text()
        self.kill()
        raise RuntimeError(f"the Celery worker did not become ready:\n{output[-4000:]}")

    def log_text(self) -> str:
        """What the current worker has logged so far."""
        if not self.log_path.exists():
            return ""
        with self.log_path.open("rb") as log:
            log.seek(self._log_offset)
            return log.read().decode("utf-8", "replace")

    def kill(self) -> None:
        """SIGKILL the worker and its pool children at once, like a crash."""
        if self.process is None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(timeout=30)

    def stop(self, *, timeout: float = 30) -> None:
        """Warm shutdown (SIGTERM: finish the running task); SIGKILL if it hangs."""
        if not self.is_running:
            self.kill()  # reap pool children that may outlive a dead main process
            return
        os.killpg(self.process.pid, signal.SIGTERM)
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.process.wait(timeout=timeout)
        self.kill()

    def restart(self, *, extra_env: dict[str, str] | None = None) -> None:
        self.stop()
        self.start(extra_env=extra_env)


def _empty_broker(broker_url: str) -> None:
    """Drop queued and unacknowledged messages that an earlier run left behind."""
    import redis

    client = redis.Redis.from_url(broker_url)
    try:
        client.delete("celery", "unacked", "unacked_index", "unacked_mutex")
    finally:
        client.close()


@pytest.fixture
def celery_worker_env() -> dict[str, str]:
    """Extra environment for the worker; override this fixture to change it."""
    return {}


@pytest.fixture
def celery_worker_process(transactional_db, settings, tmp_path, celery_worker_env):
    """A real Celery worker on the Redis broker, sharing the test database.

    Use with ``@pytest.mark.redis`` and ``@pytest.mark.django_db(transaction=True)``:
    the worker sees only committed rows. Tasks sent with ``.delay()`` go through
    the broker while this fixture is active (eager mode is off).
    """
    from digest.celery import app

    if connection.vendor != "postgresql":
        pytest.skip("a worker process needs the PostgreSQL test database (set DATABASE_URL)")
    broker_url = settings.CELERY_BROKER_URL
    if not broker_url:
        pytest.skip("needs a broker (set REDIS_URL)")
    _empty_broker(broker_url)
    env = {
        **os.environ,
        "DATABASE_URL": worker_database_url(),
        "CELERY_BROKER_URL": broker_url,
        "PYTHONUNBUFFERED": "1",
        **celery_worker_env,
    }
    worker = CeleryWorkerProcess(env=env, log_path=tmp_path / "celery-worker.log")
    app.conf.task_always_eager = False
    try:
        worker.start()
        yield worker
    finally:
        worker.stop()
        app.conf.task_always_eager = True
