"""The supervisor behind ``make run``, on small stand-in programs (plain Python scripts):
prefixed output, a restart after a crash, giving up on a program that cannot start,
and Ctrl-C stopping every process, grandchildren included."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import textwrap
import time
import uuid
from pathlib import Path

import pytest

from digest.core.supervisor import Program, Supervisor, describe_exit

PROJECT_DIR = Path(__file__).resolve().parents[3]

# Prints a line, forks a grandchild that sleeps (like a worker's pool), then waits.
PARENT_WITH_POOL = textwrap.dedent(
    """
    import subprocess, sys, time
    print("started", flush=True)
    subprocess.Popen([sys.executable, "-c", "import time; time.sleep(300)"])
    while True:
        time.sleep(0.1)
    """
)


def live_with_marker(marker: str) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            with contextlib.suppress(OSError):
                if marker.encode() in (entry / "environ").read_bytes():
                    state = (entry / "stat").read_text().rpartition(")")[2].split()[0]
                    if state != "Z":
                        found.append(int(entry.name))
    return found


def start_supervisor(tmp_path: Path, programs: str) -> tuple[subprocess.Popen, Path, str]:
    """Run a Supervisor over ``programs`` (Python source of a list) in its own process."""
    marker = f"SUPERVISOR_TEST={uuid.uuid4().hex}"
    script = tmp_path / "supervise.py"
    script.write_text(
        textwrap.dedent(
            f"""
            import sys
            from digest.core.supervisor import Program, Supervisor
            py = sys.executable
            programs = {programs}
            sys.exit(Supervisor(programs, stop_timeout=5).run())
            """
        )
    )
    log = tmp_path / "supervisor.log"
    env = {**os.environ, "PYTHONPATH": str(PROJECT_DIR), marker.split("=")[0]: marker[-32:]}
    with log.open("wb") as out:
        process = subprocess.Popen(
            [sys.executable, str(script)],
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    return process, log, marker[-32:]


def wait_for(condition, timeout: float = 20) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.1)
    return False


@pytest.fixture
def cleanup():
    markers: list[str] = []
    yield markers
    for marker in markers:
        for pid in live_with_marker(marker):
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)


def test_ctrl_c_stops_every_program_and_their_children(tmp_path, cleanup):
    process, log, marker = start_supervisor(
        tmp_path,
        f"[Program('web', [py, '-c', {PARENT_WITH_POOL!r}]), "
        f"Program('worker', [py, '-c', {PARENT_WITH_POOL!r}])]",
    )
    cleanup.append(marker)
    # The supervisor, two programs and their two grandchildren.
    assert wait_for(lambda: len(live_with_marker(marker)) == 5), log.read_text()
    assert wait_for(lambda: log.read_text().count("started") == 2)

    process.send_signal(signal.SIGINT)

    assert process.wait(timeout=20) == 0
    assert wait_for(lambda: live_with_marker(marker) == [], timeout=5)
    lines = log.read_text().splitlines()
    assert "web    | started" in lines
    assert "worker | started" in lines
    assert lines[-2] == "run    | stopping web, worker (Ctrl-C again to kill at once)..."
    assert lines[-1] == "run    | all stopped."


def test_a_program_killed_while_running_is_restarted_with_one_line(tmp_path, cleanup):
    process, log, marker = start_supervisor(
        tmp_path, f"[Program('worker', [py, '-c', {PARENT_WITH_POOL!r}])]"
    )
    cleanup.append(marker)
    assert wait_for(lambda: "started" in log.read_text())
    first = [pid for pid in live_with_marker(marker) if pid != process.pid]

    os.kill(min(first), signal.SIGKILL)  # the program itself, not its child

    assert wait_for(lambda: log.read_text().count("worker | started") == 2), log.read_text()
    assert "run    | worker exited (signal SIGKILL); restarting it in" in log.read_text()
    # The orphaned grandchild of the killed program was ended too.
    assert wait_for(lambda: len(live_with_marker(marker)) == 3), live_with_marker(marker)
    process.send_signal(signal.SIGINT)
    assert process.wait(timeout=20) == 0
    assert wait_for(lambda: live_with_marker(marker) == [], timeout=5)


def test_a_program_that_keeps_failing_at_start_stops_everything(tmp_path, cleanup):
    process, log, marker = start_supervisor(
        tmp_path,
        "[Program('web', [py, '-c', 'import time; time.sleep(300)']), "
        "Program('worker', [py, '-c', 'import sys; print(\"bad setting\"); sys.exit(3)'])]",
    )
    cleanup.append(marker)

    status = process.wait(timeout=60)

    text = log.read_text()
    assert status == 1, text
    assert text.count("worker | bad setting") == 3
    assert (
        "run    | worker exited 3 times within 10 s of starting (last: status 3); "
        "stopping everything, see its lines above." in text
    )
    assert wait_for(lambda: live_with_marker(marker) == [], timeout=5)


def test_a_program_ignoring_the_stop_signal_is_killed_after_the_timeout(tmp_path, cleanup):
    stubborn = (
        "import signal, time; signal.signal(signal.SIGTERM, signal.SIG_IGN); "
        "print('up', flush=True); time.sleep(300)"
    )
    programs = f"[Program('beat', [py, '-c', {stubborn!r}])]"
    process, log, marker = start_supervisor(tmp_path, programs)
    cleanup.append(marker)
    assert wait_for(lambda: "beat | up" in log.read_text())

    process.send_signal(signal.SIGINT)

    assert process.wait(timeout=30) == 0
    assert "run  | beat did not stop: killed." in log.read_text()
    assert live_with_marker(marker) == []


def test_output_is_prefixed_per_line_and_exit_codes_read_plainly(tmp_path):
    out = tmp_path / "out.txt"
    with out.open("w") as stream:
        programs = [Program("worker", [sys.executable, "-c", "print(1)"])]
        supervisor = Supervisor(programs, out=stream)
        supervisor.say("two\nlines")
        supervisor.say("beat line", name="worker")
    assert out.read_text().splitlines() == ["run    | two", "run    | lines", "worker | beat line"]
    assert describe_exit(-9) == "signal SIGKILL"
    assert describe_exit(2) == "status 2"
