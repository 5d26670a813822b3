"""The embedded filesystem broker: its folders, a clear line when they cannot be
written, and no kombu warning from any broker connection."""

from __future__ import annotations

import logging
import os
import subprocess
import sys
from pathlib import Path

import pytest
from kombu import Connection, Queue

from digest.core.broker import (
    EAGER_BROKER_URL,
    FILESYSTEM_BROKER_URL,
    BrokerFolderError,
    filesystem_transport_options,
    prepare_broker_folders,
)
from digest.core.queue import enqueue

PROJECT_DIR = Path(__file__).resolve().parents[3]
SHAPE_VARIABLES = ("DATABASE_URL", "REDIS_URL", "CELERY_BROKER_URL", "CELERY_TASK_ALWAYS_EAGER")


def embedded_env(**extra: str) -> dict[str, str]:
    env = {key: value for key, value in os.environ.items() if key not in SHAPE_VARIABLES}
    return {**env, **extra}


def test_a_message_sent_is_a_file_the_worker_side_takes(tmp_path, caplog):
    options = filesystem_transport_options(tmp_path / "celery")
    prepare_broker_folders(options)
    queue = Queue("celery", routing_key="celery")

    with caplog.at_level(logging.WARNING, logger="kombu"):
        with Connection(FILESYSTEM_BROKER_URL, transport_options=options) as sender:
            sender.Producer().publish({"task": "x"}, routing_key="celery", declare=[queue])
        files = list((tmp_path / "celery" / "queue").glob("*.celery.msg"))
        with Connection(FILESYSTEM_BROKER_URL, transport_options=options) as receiver:
            message = receiver.SimpleQueue(queue).get(timeout=5)
            message.ack()

    assert len(files) == 1
    assert message.payload == {"task": "x"}
    assert list((tmp_path / "celery" / "queue").glob("*.msg")) == []
    assert not [r for r in caplog.records if "hostname" in r.getMessage()]


def test_folder_that_cannot_be_created_is_one_sentence(tmp_path):
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")

    with pytest.raises(BrokerFolderError) as raised:
        prepare_broker_folders(filesystem_transport_options(blocker / "celery"))

    assert str(raised.value) == (
        f"The task queue folder {blocker / 'celery' / 'queue'} is not writable (Not a "
        "directory); fix its permissions, or set DIGEST_VAR_DIR to a writable folder."
    )


@pytest.mark.skipif(os.geteuid() == 0, reason="root may write to any folder")
def test_read_only_folder_is_refused(tmp_path):
    options = filesystem_transport_options(tmp_path / "celery")
    prepare_broker_folders(options)
    Path(options["data_folder_in"]).chmod(0o500)
    try:
        with pytest.raises(BrokerFolderError, match="is not writable \\(Permission denied\\)"):
            prepare_broker_folders(options)
    finally:
        Path(options["data_folder_in"]).chmod(0o700)


@pytest.mark.parametrize("command", [["check"], ["run", "--port", "0"]])
def test_unwritable_broker_folder_stops_start_up_with_one_line(tmp_path, command):
    blocker = tmp_path / "var"
    blocker.write_text("a file where the folder should be")

    result = subprocess.run(
        [sys.executable, "manage.py", *command],
        cwd=PROJECT_DIR,
        env=embedded_env(DIGEST_VAR_DIR=str(blocker)),
        capture_output=True,
        text=True,
        timeout=60,
    )

    assert result.returncode == 1
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0] == (
        f"Configuration error: The task queue folder {blocker}/celery/queue is not writable "
        "(Not a directory); fix its permissions, or set DIGEST_VAR_DIR to a writable folder."
    )


def test_eager_enqueue_logs_no_broker_warning(db, caplog):
    # What the subscribe form does: enqueue by name, run at once in eager mode.
    with caplog.at_level(logging.DEBUG, logger="kombu"):
        enqueue("digest.core.tasks.worker_heartbeat_task")

    assert [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING] == []


def test_eager_setting_uses_an_in_memory_broker_that_names_a_host(tmp_path):
    script = (
        "import django; django.setup(); from django.conf import settings as s; "
        "print(s.CELERY_BROKER_URL, s.CELERY_TASK_ALWAYS_EAGER)"
    )
    result = subprocess.run(
        [sys.executable, "-c", script],
        cwd=PROJECT_DIR,
        env=embedded_env(
            CELERY_TASK_ALWAYS_EAGER="1",
            DIGEST_VAR_DIR=str(tmp_path),
            DJANGO_SETTINGS_MODULE="digest.settings",
        ),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.stdout.split() == [EAGER_BROKER_URL, "True"], result.stderr
    assert result.stderr == ""
