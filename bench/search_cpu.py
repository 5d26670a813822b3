"""CPU per computed search on the server itself: gunicorn, one sync worker, no load generator.

    .venv/bin/python bench/search_cpu.py [--database digest_bench_web] [--rounds 3]
        [--root /path/to/another/checkout]

Uses the world ``bench/web.py`` built (run that first). Sends every search URL of
``bench/web.py`` (the five kinds of query, relevance and newest, pages 1 and 2) one at a
time, ``--rounds`` times, each with a parameter the view ignores, new on every request,
so that nothing comes from the page cache. Prints the CPU the gunicorn worker and its
PostgreSQL backend used per search (from ``/proc``: the server runs on this machine) and
the wall time per search. Unlike wrk's figures these barely move with other load, and
``--root`` serves another checkout (the code before a change, from a worktree) with this
one's virtualenv, so two versions can be measured by turns.
"""

from __future__ import annotations

import argparse
import os
import secrets
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "bench"))

from web import fetch, free_port, search_urls, server_environment, wait_for  # noqa: E402


def process_cpu_seconds(pid: int) -> float:
    with open(f"/proc/{pid}/stat") as stat:
        fields = stat.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def backend_pids(args: argparse.Namespace) -> list[int]:
    """The PostgreSQL backends serving the database (the worker's, once it has searched)."""
    import psycopg

    with psycopg.connect(f"{args.pg}/{args.database}", autocommit=True) as connection:
        rows = connection.execute(
            "SELECT pid FROM pg_stat_activity "
            "WHERE datname = current_database() AND pid <> pg_backend_pid()"
        ).fetchall()
    return [pid for (pid,) in rows]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database", default="digest_bench_web")
    parser.add_argument("--pg", default="postgres://postgres@127.0.0.1:5432")
    parser.add_argument("--redis", default="redis://127.0.0.1:6379/5")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--root", type=Path, default=ROOT, help="the checkout to serve")
    args = parser.parse_args()
    args.version_check_seconds = 0.0

    import psycopg

    with psycopg.connect(f"{args.pg}/{args.database}") as connection:
        slugs = [slug for (slug,) in connection.execute("SELECT slug FROM articles_topic")]
    if not slugs:
        raise SystemExit(f"{args.database} holds no world: run bench/web.py first")
    paths = [path for urls in search_urls(slugs).values() for path in urls]

    port = free_port()
    gunicorn = ROOT / ".venv" / "bin" / "gunicorn"
    server = subprocess.Popen(
        [gunicorn, "digest.wsgi:application", "--workers", "1",
         "--bind", f"127.0.0.1:{port}", "--log-level", "warning"],
        cwd=args.root, env=server_environment(args),
    )  # fmt: skip
    try:
        wait_for(port)
        token = secrets.token_hex(4)
        for n, path in enumerate(paths):  # warm: imports, templates, the connection
            fetch(port, f"{path}&fresh={token}w{n}")
        workers = [
            int(pid)
            for pid in subprocess.run(
                ["pgrep", "-P", str(server.pid)], capture_output=True, text=True, check=True
            ).stdout.split()
        ]
        backends = backend_pids(args)
        worker_before = sum(process_cpu_seconds(pid) for pid in workers)
        backend_before = sum(process_cpu_seconds(pid) for pid in backends)
        started = time.perf_counter()
        sent = 0
        for round_number in range(args.rounds):
            for n, path in enumerate(paths):
                status = fetch(port, f"{path}&fresh={token}r{round_number}-{n}")
                if status != 200:
                    raise SystemExit(f"{path} answered {status}")
                sent += 1
        wall = time.perf_counter() - started
        worker = sum(process_cpu_seconds(pid) for pid in workers) - worker_before
        backend = sum(process_cpu_seconds(pid) for pid in backends) - backend_before
    finally:
        server.terminate()
        server.wait(timeout=10)
    print(
        f"{args.root}: {sent} computed searches, per search: worker CPU "
        f"{1000 * worker / sent:.2f} ms, PostgreSQL CPU {1000 * backend / sent:.2f} ms, "
        f"wall {1000 * wall / sent:.2f} ms"
    )


if __name__ == "__main__":
    main()
