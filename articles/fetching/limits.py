"""Time and size limits of one fetch: the total deadline and the capped, incremental decoder."""

from __future__ import annotations

import contextlib
import heapq
import http.client
import itertools
import os
import socket
import threading
import time
import zlib

from django.conf import settings

from articles.fetching.errors import (
    ContentEncodingError,
    FetchTimeoutError,
    ResponseTooLargeError,
)


class _Watchdog:
    """One thread per process that enforces every fetch's total deadline.

    Cheaper than a timer thread per fetch; started lazily, and again in a forked
    child (Celery's prefork pool), where the parent's thread does not exist.
    """

    def __init__(self) -> None:
        self._condition = threading.Condition()
        self._queue: list[tuple[float, int, Deadline]] = []
        self._order = itertools.count()
        self._pid = 0

    def add(self, deadline: Deadline) -> None:
        with self._condition:
            if self._pid != os.getpid():
                self._pid = os.getpid()
                self._queue = []
                threading.Thread(target=self._run, name="fetch-deadlines", daemon=True).start()
            heapq.heappush(self._queue, (deadline.expires_at, next(self._order), deadline))
            self._condition.notify()

    def _run(self) -> None:
        while True:
            with self._condition:
                while not self._queue:
                    self._condition.wait()
                expires_at, _order, deadline = self._queue[0]
                delay = expires_at - time.monotonic()
                if delay > 0:
                    self._condition.wait(delay)
                    continue
                heapq.heappop(self._queue)
            if not deadline.finished:
                deadline.expire()


# How much of the socket is read at a time; the cap is checked after each chunk.
READ_CHUNK = 64 * 1024

_WATCHDOG = _Watchdog()


class Deadline:
    """Shuts the connection's socket down when the total time is up, whatever it is doing."""

    def __init__(self, seconds: float) -> None:
        self.expires_at = time.monotonic() + seconds
        self.expired = False
        self.finished = False
        self._connection: http.client.HTTPConnection | None = None
        _WATCHDOG.add(self)

    def remaining(self) -> float:
        return max(0.0, self.expires_at - time.monotonic())

    def watch(self, connection: http.client.HTTPConnection | None) -> None:
        self._connection = connection

    def expire(self) -> None:
        self.expired = True
        connection = self._connection
        sock = getattr(connection, "sock", None)
        if sock is not None:
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)

    def cancel(self) -> None:
        self.finished = True


class Decoder:
    """Incremental gzip/deflate decoder that never produces more than it is asked for."""

    def __init__(self, encoding: str) -> None:
        self.encoding = encoding
        if encoding in ("gzip", "x-gzip"):
            self._inflater = zlib.decompressobj(16 + zlib.MAX_WBITS)
        elif encoding == "deflate":
            self._inflater = None  # zlib-wrapped or raw: decided on the first bytes
        else:
            self._inflater = None
        self._identity = encoding in ("", "identity")

    def feed(self, data: bytes, limit: int) -> tuple[bytes, bool]:
        """Decode ``data`` producing at most ``limit`` bytes; the flag says output was cut."""
        if self._identity:
            return data[:limit], len(data) > limit
        if self._inflater is None:
            # "deflate" is zlib-wrapped per the RFC, raw in some servers: accept both.
            wrapped = (
                len(data) >= 2 and (data[0] & 0x0F) == 8 and (data[0] << 8 | data[1]) % 31 == 0
            )
            self._inflater = zlib.decompressobj(zlib.MAX_WBITS if wrapped else -zlib.MAX_WBITS)
        try:
            output = self._inflater.decompress(data, limit + 1)
        except zlib.error as error:
            raise ValueError(str(error)) from None
        if len(output) > limit or self._inflater.unconsumed_tail:
            return output[:limit], True
        return output, False


def timeout_error(url: str, original_url: str) -> FetchTimeoutError:
    """The refusal for a fetch whose total deadline passed while at ``url``."""
    return FetchTimeoutError(
        f"Timed out fetching {url}: no complete response within "
        f"{settings.FETCH_TOTAL_TIMEOUT:g} seconds.",
        url=original_url,
    )


def read_capped_body(
    response: http.client.HTTPResponse,
    *,
    cap: int,
    deadline: Deadline,
    url: str,
    original_url: str,
) -> bytes:
    """The response body, decompressed, at most ``cap`` bytes, read before the deadline.

    Raises ResponseTooLargeError (declared or counted after decompression),
    ContentEncodingError (unknown or corrupt encoding) or FetchTimeoutError.
    """
    too_large = ResponseTooLargeError(
        f"{url} is larger than the {cap:,}-byte limit.", url=original_url
    )
    declared = response.getheader("Content-Length")
    content_encoding = (response.getheader("Content-Encoding") or "").strip().lower()
    identity = content_encoding in ("", "identity")
    if identity and declared and declared.isdigit() and int(declared) > cap:
        raise too_large
    if content_encoding not in ("", "identity", "gzip", "x-gzip", "deflate"):
        raise ContentEncodingError(
            f"{url} uses content encoding {content_encoding!r}, which the fetcher cannot decode.",
            url=original_url,
        )
    decoder = Decoder(content_encoding)
    body = bytearray()
    while True:
        if deadline.expired:
            raise timeout_error(url, original_url)
        chunk = response.read1(READ_CHUNK)
        if not chunk:
            break
        try:
            decoded, cut = decoder.feed(chunk, cap - len(body))
        except ValueError as error:
            raise ContentEncodingError(
                f"{url} sent a {content_encoding} body that does not decompress: {error}.",
                url=original_url,
            ) from None
        body += decoded
        if cut:
            raise too_large
    if deadline.expired:
        raise timeout_error(url, original_url)
    return bytes(body)
