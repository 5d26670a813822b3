"""Subscriber import speed and memory: a generated Mailchimp export of N rows, imported
into a throwaway test database (the one DATABASE_URL names, with test_ in front).

Prints rows per second for a dry run and for the real import, and, with --memory, the
tracemalloc peak of each (slower: tracemalloc traces every allocation).

    .venv/bin/python bench/import_subscribers.py --rows 100000
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/h_me \
        .venv/bin/python bench/import_subscribers.py --rows 20000 --memory
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "digest.settings")


def write_export(path: Path, rows: int) -> None:
    with path.open("w", encoding="utf-8", newline="") as handle:
        handle.write(
            "Email Address,First Name,Last Name,OPTIN_TIME,OPTIN_IP,CONFIRM_TIME,LEID,TAGS\n"
        )
        for n in range(rows):
            handle.write(f"reader{n}@example.org,Reader,{n},2024-01-02 03:04:05,,,{n},\n")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--memory", action="store_true", help="also measure the tracemalloc peak")
    args = parser.parse_args()

    import django

    django.setup()
    from django.conf import settings
    from django.db import connection

    from newsletters.subscribers.importing import import_subscribers

    settings.DEBUG = False  # no query log kept in memory
    connection.creation.create_test_db(verbosity=0, autoclobber=True, keepdb=False)
    try:
        with tempfile.TemporaryDirectory() as folder:
            path = Path(folder) / "export.csv"
            write_export(path, args.rows)
            size = path.stat().st_size / 1e6
            print(f"{args.rows:,} rows, {size:.1f} MB, {connection.vendor}")
            for dry_run in (True, False):
                if args.memory:
                    tracemalloc.start()
                started = time.perf_counter()
                with path.open("rb") as stream:
                    report = import_subscribers(stream=stream, dry_run=dry_run)
                took = time.perf_counter() - started
                peak = tracemalloc.get_traced_memory()[1] if args.memory else None
                if args.memory:
                    tracemalloc.stop()
                label = "dry run" if dry_run else "import "
                extra = f", peak {peak / 1e6:.1f} MB" if peak is not None else ""
                print(f"{label}: {took:6.1f} s, {args.rows / took:8,.0f} rows/s{extra}")
                print(f"         {report.summary()}")
    finally:
        connection.creation.destroy_test_db(connection.settings_dict["NAME"], verbosity=0)


if __name__ == "__main__":
    main()
