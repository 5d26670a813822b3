"""The embedded default's email backend: one ``.eml`` file per message plus one console line.

A newcomer with nothing configured can open every message the project sent (a test copy,
a whole issue, a confirmation email) in a mail client or a text editor, newest last:
files are named ``<UTC time to the microsecond>-<process>-<counter>.eml`` under
``EMAIL_FILE_PATH`` (``var/mail/`` by default), so ``ls`` sorts them by the time they were
written. Each message also prints one line (recipient, subject, file) to the console, so
the web server's or worker's output says that mail went out and where to find it.

Built on Django's file backend, which checks the folder (created if missing, writable)
when the backend is made; a folder that cannot be used raises ``ImproperlyConfigured``
with the path, before anything is sent.
"""

from __future__ import annotations

import itertools
import os
import sys
import threading
from datetime import UTC, datetime
from pathlib import Path
from typing import TextIO

from django.core.mail.backends.filebased import EmailBackend as FileEmailBackend
from django.core.mail.message import EmailMessage

# Messages written by this process: orders two files written in the same microsecond.
_sequence = itertools.count(1)
_sequence_lock = threading.Lock()


class EmailBackend(FileEmailBackend):
    """Writes each message to its own ``.eml`` file and prints one line about it."""

    def __init__(self, *args, console: TextIO | None = None, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.console = console

    def open(self) -> bool:
        # Nothing to open: each message gets its own file.
        return False

    def close(self) -> None:
        return None

    def send_messages(self, email_messages: list[EmailMessage]) -> int:
        """Write every message; returns how many were written. Raises ``OSError`` (unless
        ``fail_silently``) when a file cannot be written, leaving no partial file."""
        sent = 0
        for message in email_messages:
            if not message.recipients():
                continue
            try:
                path = self._write(message)
            except OSError:
                if not self.fail_silently:
                    raise
                continue
            self._announce(message, path)
            sent += 1
        return sent

    def _write(self, message: EmailMessage) -> Path:
        data = message.message().as_bytes(linesep="\n")
        with _sequence_lock:
            number = next(_sequence)
        stamp = datetime.now(UTC).strftime("%Y%m%d-%H%M%S-%f")
        final = Path(self.file_path) / f"{stamp}-{os.getpid()}-{number:06d}.eml"
        # Written under another name and renamed: a reader never sees half a message.
        partial = final.with_suffix(".eml.part")
        try:
            partial.write_bytes(data)
            partial.replace(final)
        except OSError:
            partial.unlink(missing_ok=True)
            raise
        return final

    def _announce(self, message: EmailMessage, path: Path) -> None:
        stream = self.console or sys.stdout
        recipients = ", ".join(message.recipients())
        try:
            shown = path.relative_to(Path.cwd())
        except ValueError:
            shown = path
        stream.write(f"Email to {recipients}: {message.subject!r} saved as {shown}\n")
        stream.flush()
