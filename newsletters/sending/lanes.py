"""The threads a batch's SMTP connections send from, kept between batches.

A batch sent over several connections at once runs each connection (a lane) in a thread
of its own, with its own database connection. Starting threads and, above all, opening a
PostgreSQL connection per lane for every batch cost more than the lanes' sending on a
busy machine, so the threads stay, each keeping its database connection: checked before
each use (a database restarted meanwhile) and dropped after an error. ``close_lanes``
stops them and closes their connections (tests and the benchmark call it before the
test database is dropped; a worker's are closed when it exits).
"""

from __future__ import annotations

import os
import queue
import threading
from collections.abc import Callable
from concurrent.futures import Future, wait
from typing import Any

from django.db import connection as db_connection

_STOP = object()


class _Lane(threading.Thread):
    def __init__(self, number: int) -> None:
        super().__init__(name=f"smtp-lane-{number}", daemon=True)
        self.jobs: queue.SimpleQueue = queue.SimpleQueue()

    def run(self) -> None:
        while True:
            job = self.jobs.get()
            if job is _STOP:
                db_connection.close()
                return
            call, future = job
            if not future.set_running_or_notify_cancel():
                continue
            try:
                if db_connection.connection is not None and not db_connection.is_usable():
                    db_connection.close()
                future.set_result(call())
            except BaseException as error:  # noqa: BLE001 - handed to the caller
                db_connection.close()  # whatever failed, start the next job afresh
                future.set_exception(error)


_lanes: list[_Lane] = []
_lock = threading.Lock()
_pid = os.getpid()


def run_in_lanes(calls: list[Callable[[], Any]]) -> list[Any]:
    """Run each of ``calls`` in a lane thread of its own, all at once; their results in
    order. Waits for every call before raising the first one's error, so no lane is
    still sending when the caller goes on."""
    global _pid
    with _lock:
        if _pid != os.getpid():  # a forked child (a pool process): its parent's threads
            _lanes.clear()  # did not come along
            _pid = os.getpid()
        while len(_lanes) < len(calls):
            lane = _Lane(len(_lanes))
            lane.start()
            _lanes.append(lane)
        lanes = _lanes[: len(calls)]
    futures: list[Future] = []
    for lane, call in zip(lanes, calls, strict=True):
        future: Future = Future()
        lane.jobs.put((call, future))
        futures.append(future)
    wait(futures)
    return [future.result() for future in futures]


def close_lanes() -> None:
    """Stop the lane threads and close their database connections."""
    with _lock:
        lanes = list(_lanes)
        _lanes.clear()
    for lane in lanes:
        lane.jobs.put(_STOP)
    for lane in lanes:
        lane.join(timeout=30)
