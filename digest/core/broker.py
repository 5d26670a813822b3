"""The embedded broker: kombu's filesystem transport, a folder of message files.

With no broker URL set, web, worker and beat on one machine exchange task messages as
files under ``var/celery/`` (one file per message, written and taken under a file
lock), so ``make run`` needs no broker server. Both URLs name a host only because
kombu warns "No hostname was supplied" about every connection to one that does not.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

FILESYSTEM_BROKER_URL = "filesystem://localhost/"
# Eager mode still opens a (never used) producer per task: an in-memory one.
EAGER_BROKER_URL = "memory://localhost/"


class BrokerFolderError(Exception):
    """A folder of the filesystem broker cannot be created or written to."""


def filesystem_transport_options(folder: Path) -> dict[str, str | bool | float]:
    """kombu transport options for a filesystem broker kept in ``folder``."""
    queue = folder / "queue"
    return {
        # Senders write where the worker reads: one folder serves both directions.
        "data_folder_in": str(queue),
        "data_folder_out": str(queue),
        # Which queues each fanout exchange (remote control) reaches.
        "control_folder": str(folder / "control"),
        # Seconds between looks at the folder when it is empty.
        "polling_interval": 1.0,
    }


def prepare_broker_folders(options: dict) -> None:
    """Create the broker's folders and check each can take a new file.

    Raises ``BrokerFolderError`` with one sentence naming the folder otherwise, so a
    message is never accepted by a process that then cannot write it.
    """
    for key in ("data_folder_in", "data_folder_out", "control_folder"):
        folder = Path(options[key])
        try:
            folder.mkdir(parents=True, exist_ok=True)
            with tempfile.NamedTemporaryFile(dir=folder, prefix=".write-check-"):
                pass
        except OSError as error:
            reason = error.strerror or error.__class__.__name__
            raise BrokerFolderError(
                f"The task queue folder {folder} is not writable ({reason}); fix its "
                "permissions, or set DIGEST_VAR_DIR to a writable folder."
            ) from None
