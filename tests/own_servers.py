"""A PostgreSQL cluster and a Redis server of a test's own, for tests that restart them.

The shared servers (127.0.0.1:5432 and :6379) are never touched: ``PostgresCluster``
runs ``initdb`` into a temporary directory and serves it on a free loopback port (as the
``postgres`` user when the tests run as root, which PostgreSQL refuses to run as);
``RedisServer`` runs ``redis-server`` on a free port without persistence, so a restart
comes back empty. Both clean up after themselves in ``stop()``.
"""

from __future__ import annotations

import contextlib
import glob
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def postgres_bin_dir() -> Path | None:
    """Where initdb and pg_ctl are (Debian keeps them out of PATH), or None."""
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
    if found:
        return Path(found[-1]).parent
    initdb = shutil.which("initdb")
    return Path(initdb).parent if initdb else None


def _wait_for_port(port: int, *, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), 0.5):
            return
        time.sleep(0.1)
    raise RuntimeError(f"nothing answers on 127.0.0.1:{port}")


class PostgresCluster:
    """A throw-away PostgreSQL cluster on 127.0.0.1:``port`` (trust auth, user postgres)."""

    def __init__(self) -> None:
        bin_dir = postgres_bin_dir()
        if bin_dir is None:
            raise RuntimeError("PostgreSQL's initdb is not installed")
        self.bin_dir = bin_dir
        self.port = free_port()
        self.base = Path(tempfile.mkdtemp(prefix="digest-pg-", dir="/tmp"))
        self.data = self.base / "data"
        # Root cannot run PostgreSQL: the cluster then belongs to the postgres user.
        self._as = []
        if os.geteuid() == 0:
            user = pwd.getpwnam("postgres")
            os.chown(self.base, user.pw_uid, user.pw_gid)
            self._as = ["runuser", "-u", "postgres", "--"]

    def _run(self, *command: str) -> None:
        subprocess.run(
            [*self._as, *command],
            check=True,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            timeout=120,
        )

    def init(self) -> None:
        self._run(
            str(self.bin_dir / "initdb"),
            "-D",
            str(self.data),
            "-U",
            "postgres",
            "--auth=trust",
            "--encoding=UTF8",
            "--no-sync",
        )

    def start(self) -> None:
        # fsync off: the machine never crashes under these tests, only the server stops,
        # and what it committed is still in the page cache when it starts again.
        options = (
            f"-p {self.port} -k {self.base} -c listen_addresses=127.0.0.1 -c fsync=off "
            "-c max_connections=60"
        )
        self._run(
            str(self.bin_dir / "pg_ctl"),
            "-D",
            str(self.data),
            "-l",
            str(self.base / "server.log"),
            "-o",
            options,
            "-w",
            "start",
        )
        _wait_for_port(self.port, timeout=30)

    def stop(self, *, mode: str = "fast") -> None:
        """Stop the server; ``mode="immediate"`` is a crash (no shutdown checkpoint, every
        connection cut at once)."""
        self._run(str(self.bin_dir / "pg_ctl"), "-D", str(self.data), "-m", mode, "-w", "stop")

    def url(self, database: str) -> str:
        return f"postgres://postgres@127.0.0.1:{self.port}/{database}"

    def execute(self, sql: str, *, database: str = "postgres") -> None:
        import psycopg

        with psycopg.connect(self.url(database), autocommit=True) as conn:
            conn.execute(sql)

    def destroy(self) -> None:
        with contextlib.suppress(subprocess.CalledProcessError, subprocess.TimeoutExpired):
            self.stop(mode="immediate")
        shutil.rmtree(self.base, ignore_errors=True)


class RedisServer:
    """A ``redis-server`` of its own on 127.0.0.1:``port``, keeping nothing on disk."""

    def __init__(self) -> None:
        self.executable = shutil.which("redis-server")
        if self.executable is None:
            raise RuntimeError("redis-server is not installed")
        self.port = free_port()
        self.base = Path(tempfile.mkdtemp(prefix="digest-redis-"))
        self.process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        log = (self.base / "redis.log").open("ab")
        self.process = subprocess.Popen(
            [
                self.executable,
                "--port",
                str(self.port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
                "--dir",
                str(self.base),
            ],
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
        )
        log.close()
        _wait_for_port(self.port, timeout=30)

    def kill(self) -> None:
        """SIGKILL: everything it held (queued and unacknowledged messages) is gone."""
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait(timeout=30)

    def restart_empty(self) -> None:
        self.kill()
        self.start()

    def destroy(self) -> None:
        self.kill()
        shutil.rmtree(self.base, ignore_errors=True)
