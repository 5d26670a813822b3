"""The port check ``make run`` does before installing anything, and ``manage.py run``
does again before starting."""

from __future__ import annotations

import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from digest.core.ports import port_problem

PROJECT_DIR = Path(__file__).resolve().parents[3]


@pytest.fixture
def busy_port() -> Iterator[int]:
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen()
        yield server.getsockname()[1]


def test_free_port_has_no_problem():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    assert port_problem("127.0.0.1", port) == ""


def test_busy_port_is_named_with_a_way_out(busy_port):
    assert port_problem("127.0.0.1", busy_port) == (
        f"Port {busy_port} on 127.0.0.1 is already in use (another make run?): stop that "
        f"program or pick another port, e.g. make run PORT={busy_port + 1}."
    )


def test_port_taken_on_every_address_is_busy_on_loopback_too():
    with socket.socket() as server:
        server.bind(("0.0.0.0", 0))
        server.listen()
        port = server.getsockname()[1]
        assert "already in use" in port_problem("127.0.0.1", port)


@pytest.mark.parametrize(
    ("host", "port", "expected"),
    [
        ("127.0.0.1", 0, "PORT=0 is not a port number from 1 to 65535."),
        ("127.0.0.1", 70000, "PORT=70000 is not a port number from 1 to 65535."),
        ("no-such-host.invalid", 8000, "HOST=no-such-host.invalid is not an address"),
    ],
)
def test_bad_host_or_port_is_one_sentence(host, port, expected):
    assert port_problem(host, port).startswith(expected)


def test_script_runs_with_the_system_python_and_exits_1_with_one_line(busy_port):
    # As the Makefile runs it: a bare interpreter, no virtualenv, no Django.
    result = subprocess.run(
        [sys.executable, "-I", "digest/core/ports.py", "--port", str(busy_port)],
        cwd=PROJECT_DIR,
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert result.returncode == 1
    assert result.stdout == ""
    assert result.stderr.splitlines() == [port_problem("127.0.0.1", busy_port)]


def test_make_run_on_a_busy_port_stops_before_installing(busy_port, tmp_path):
    # A virtualenv path that does not exist: had make gone on to install, it would show.
    result = subprocess.run(
        ["make", "--no-print-directory", "run", f"PORT={busy_port}", f"VENV={tmp_path}/venv"],
        cwd=PROJECT_DIR,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode != 0
    assert result.stdout == ""
    assert result.stderr.splitlines()[0] == port_problem("127.0.0.1", busy_port)
    assert not (tmp_path / "venv").exists()


def test_manage_run_on_a_busy_port_says_so_in_one_line(busy_port):
    result = subprocess.run(
        [sys.executable, "manage.py", "run", "--port", str(busy_port)],
        cwd=PROJECT_DIR,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 1
    assert result.stderr.strip() == f"CommandError: {port_problem('127.0.0.1', busy_port)}"


def test_make_run_checks_the_port_then_says_where_it_will_serve_before_installing():
    result = subprocess.run(
        ["make", "-n", "--no-print-directory", "run", "HOST=127.0.0.2", "PORT=8765"],
        cwd=PROJECT_DIR,
        capture_output=True,
        text=True,
        timeout=60,
    )
    lines = result.stdout.splitlines()
    assert "digest/core/ports.py --host 127.0.0.2 --port 8765" in lines[0]
    assert "will serve http://127.0.0.2:8765/" in lines[1]
    install = next(i for i, line in enumerate(lines) if "install" in line.split())
    assert install > 1
    assert lines[-1].endswith("manage.py run --host 127.0.0.2 --port 8765")
