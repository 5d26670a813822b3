"""A small process supervisor for ``make run``: start a few commands side by side, prefix
each line they print with the command's name, restart one that dies, stop them all on
Ctrl-C.

Each command runs in its own session (process group), so a signal reaches it and
everything it forked (the worker's pool processes), and the terminal's Ctrl-C reaches
only the supervisor, which then stops every group itself and waits for it. On Linux
each command is also sent SIGTERM by the kernel if the supervisor itself is killed
(``PR_SET_PDEATHSIG``), so nothing outlives it.
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TextIO

# A command that exits this soon after starting, this many times running, is broken
# (bad configuration, a port taken): everything stops instead of restarting it forever.
SETTLE_SECONDS = 10.0
QUICK_EXITS_ALLOWED = 3

COLOURS = ("\033[36m", "\033[33m", "\033[35m", "\033[32m", "\033[34m")
RESET = "\033[0m"


@dataclass(frozen=True)
class Program:
    """One command to keep running: its name in the output and its argument list."""

    name: str
    argv: Sequence[str]
    # The polite stop: SIGTERM is a warm shutdown for Celery (running tasks finish).
    stop_signal: int = signal.SIGTERM


@dataclass
class _Child:
    program: Program
    process: subprocess.Popen
    reader: threading.Thread
    started: float
    quick_exits: int = 0
    restart_at: float | None = None
    done: bool = field(default=False)


def _die_with_parent() -> None:
    """In the child, before exec: ask Linux for SIGTERM when the supervisor dies."""
    with contextlib.suppress(Exception):
        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG


def describe_exit(returncode: int) -> str:
    """ "status 1" or "signal SIGKILL" for a child's return code."""
    if returncode < 0:
        with contextlib.suppress(ValueError):
            return f"signal {signal.Signals(-returncode).name}"
        return f"signal {-returncode}"
    return f"status {returncode}"


class Supervisor:
    """Runs ``programs`` until Ctrl-C (SIGINT), SIGTERM or SIGHUP, or until one of them
    keeps exiting right after it starts; ``run()`` returns the exit status to use."""

    def __init__(
        self,
        programs: Sequence[Program],
        *,
        env: dict[str, str] | None = None,
        cwd: str | None = None,
        out: TextIO | None = None,
        stop_timeout: float = 30.0,
        name: str = "run",
    ) -> None:
        self.programs = list(programs)
        self.env = env
        self.cwd = cwd
        self.out = out or sys.stdout
        self.stop_timeout = stop_timeout
        self.name = name
        self.width = max(len(p.name) for p in [*self.programs, Program(name, ())])
        self.colour = self.out.isatty()
        self.children: dict[str, _Child] = {}
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._signals = 0

    # ------------------------------------------------------------------ output

    def _prefix(self, name: str) -> str:
        label = f"{name:<{self.width}} | "
        if not self.colour:
            return label
        names = [p.name for p in self.programs]
        colour = COLOURS[names.index(name) % len(COLOURS)] if name in names else ""
        return f"{colour}{label}{RESET}"

    def say(self, line: str, *, name: str | None = None) -> None:
        """Print ``line`` with a name's prefix (the supervisor's own by default) on each of
        its lines."""
        prefix = self._prefix(name or self.name)
        text = "".join(f"{prefix}{part}\n" for part in line.rstrip("\r\n").split("\n"))
        with self._lock:
            self.out.write(text)
            self.out.flush()

    def _pump(self, name: str, stream) -> None:
        for raw in iter(stream.readline, b""):
            self.say(raw.decode("utf-8", "replace"), name=name)
        stream.close()

    # --------------------------------------------------------------- processes

    def _start(self, program: Program, *, quick_exits: int = 0) -> None:
        process = subprocess.Popen(  # noqa: S603 (our own fixed commands, no shell)
            list(program.argv),
            cwd=self.cwd,
            env=self.env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            preexec_fn=_die_with_parent if sys.platform.startswith("linux") else None,
        )
        reader = threading.Thread(
            target=self._pump, args=(program.name, process.stdout), daemon=True
        )
        reader.start()
        self.children[program.name] = _Child(
            program, process, reader, time.monotonic(), quick_exits=quick_exits
        )

    @staticmethod
    def _signal_group(child: _Child, signum: int) -> None:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(child.process.pid, signum)

    def _on_signal(self, signum: int, frame) -> None:
        self._signals += 1
        self._stop.set()

    def _watch(self, child: _Child) -> int | None:
        """Handle ``child`` having exited; an exit status when everything must stop."""
        returncode = child.process.returncode
        child.reader.join(timeout=5)  # its last lines come before the news of its exit
        # Pool processes it left behind would hold the queue or the port: end them.
        self._signal_group(child, signal.SIGKILL)
        name = child.program.name
        lived = time.monotonic() - child.started
        quick_exits = child.quick_exits + 1 if lived < SETTLE_SECONDS else 0
        if quick_exits >= QUICK_EXITS_ALLOWED:
            self.say(
                f"{name} exited {quick_exits} times within {SETTLE_SECONDS:.0f} s of starting "
                f"(last: {describe_exit(returncode)}); stopping everything, see its lines above."
            )
            return 1
        delay = min(2.0**quick_exits, 30.0)
        self.say(f"{name} exited ({describe_exit(returncode)}); restarting it in {delay:.0f} s.")
        child.quick_exits = quick_exits
        child.restart_at = time.monotonic() + delay
        child.done = True
        return None

    def _stop_all(self) -> None:
        running = [c for c in self.children.values() if c.process.poll() is None]
        if running:
            names = ", ".join(c.program.name for c in running)
            self.say(f"stopping {names} (Ctrl-C again to kill at once)...")
        for child in running:
            # The polite signal goes to the command alone: Celery stops its own pool.
            with contextlib.suppress(ProcessLookupError):
                os.kill(child.process.pid, child.program.stop_signal)
        deadline = time.monotonic() + self.stop_timeout
        signals_seen = self._signals
        while any(c.process.poll() is None for c in running):
            if time.monotonic() > deadline or self._signals > signals_seen:
                for child in running:
                    if child.process.poll() is None:
                        self.say(f"{child.program.name} did not stop: killed.")
                        self._signal_group(child, signal.SIGKILL)
                break
            time.sleep(0.1)
        for child in self.children.values():
            with contextlib.suppress(subprocess.TimeoutExpired):
                child.process.wait(timeout=10)
            self._signal_group(child, signal.SIGKILL)  # any grandchild left in the group
            child.reader.join(timeout=5)

    def run(self) -> int:
        """Start every program, keep them running, stop them all; the exit status."""
        handled = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)
        previous = {signum: signal.signal(signum, self._on_signal) for signum in handled}
        status = 0
        try:
            for program in self.programs:
                self._start(program)
            while not self._stop.wait(0.2):
                for child in list(self.children.values()):
                    if child.done:
                        if child.restart_at is not None and time.monotonic() >= child.restart_at:
                            self._start(child.program, quick_exits=child.quick_exits)
                    elif child.process.poll() is not None:
                        failed = self._watch(child)
                        if failed is not None:
                            status = failed
                            self._stop.set()
                            break
        finally:
            self._stop_all()
            for signum, handler in previous.items():
                signal.signal(signum, handler)
        if status == 0:
            self.say("all stopped.")
        return status
