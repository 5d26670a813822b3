"""The addresses an import has met so far, and the line of each, kept on disk.

A private SQLite file (the standard library's ``sqlite3``, not the project database)
holds them, so finding duplicates in a 100,000-row file costs no memory and nothing is
written to the project database, not even in a dry run.
"""

from __future__ import annotations

import sqlite3
import tempfile


class SeenAddresses:
    """Addresses already met in this file and the line of each, kept on disk (a private
    SQLite file) so a 100,000-row file costs no memory for them."""

    def __init__(self) -> None:
        self._file = tempfile.NamedTemporaryFile(suffix=".sqlite3")  # noqa: SIM115 - closed in close()
        self._db = sqlite3.connect(self._file.name)
        self._db.execute("PRAGMA journal_mode=OFF")
        self._db.execute("PRAGMA synchronous=OFF")
        self._db.execute(
            "CREATE TABLE seen (address TEXT PRIMARY KEY, line INTEGER) WITHOUT ROWID"
        )

    def first_lines(self, keys: list[str]) -> dict[str, int]:
        found: dict[str, int] = {}
        for start in range(0, len(keys), 500):
            part = keys[start : start + 500]
            marks = ",".join("?" * len(part))
            query = f"SELECT address, line FROM seen WHERE address IN ({marks})"  # noqa: S608 - placeholders only
            found.update(self._db.execute(query, part))
        return found

    def add(self, entries: list[tuple[str, int]]) -> None:
        self._db.executemany("INSERT OR IGNORE INTO seen VALUES (?, ?)", entries)

    def close(self) -> None:
        self._db.close()
        self._file.close()
