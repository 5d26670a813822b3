"""The safe fetcher: the only way the project reads a URL.

``fetch(url)`` promises:

* only ``http`` and ``https`` URLs are requested;
* the host is resolved once per hop and *every* address it resolves to must be
  public (see ``address_refusal``); the connection is then made to one of those
  checked addresses, with the original Host header and TLS server name, so a
  second DNS answer (rebinding) can never change where the request goes;
* each redirect is checked the same way; at most ``FETCH_MAX_REDIRECTS`` hops,
  and a URL seen twice is a loop;
* the connect timeout bounds each connection attempt and one total deadline
  bounds the whole fetch, so a server that drips a byte a second is cut off;
* the body is capped at ``FETCH_MAX_BYTES``, counted after gzip/deflate
  decompression, which is done incrementally so a bomb never inflates in memory;
* ETag and Last-Modified are sent as a conditional request; a 304 returns
  ``not_modified=True`` with an empty body.

Every refusal is a distinct ``FetchError`` subclass with a readable message.
``FETCH_ALLOW_PRIVATE_NETWORKS`` lifts only the address check;
``FETCH_ALLOWED_NETWORKS`` (CIDR list) allows just the networks named in it.
"""

from __future__ import annotations

import concurrent.futures
import contextlib
import heapq
import http.client
import ipaddress
import itertools
import os
import socket
import ssl
import threading
import time
import zlib
from collections.abc import Iterable
from dataclasses import dataclass, field
from email.message import Message
from urllib.parse import urljoin, urlsplit

from django.conf import settings

ALLOWED_SCHEMES = ("http", "https")
REDIRECT_STATUSES = (301, 302, 303, 307, 308)
READ_CHUNK = 64 * 1024
DEFAULT_ACCEPT = (
    "application/rss+xml, application/atom+xml, application/xml;q=0.9, text/xml;q=0.9, "
    "text/html;q=0.8, */*;q=0.5"
)

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

# Ranges that ipaddress does not already treat as non-global but that are never a
# legitimate place to fetch news from.
_EXTRA_BLOCKED_NETWORKS = (
    ipaddress.ip_network("100.64.0.0/10"),  # carrier-grade NAT, shared address space
    ipaddress.ip_network("192.0.0.0/24"),  # IETF protocol assignments
    ipaddress.ip_network("198.18.0.0/15"),  # benchmarking
    ipaddress.ip_network("64:ff9b:1::/48"),  # local-use IPv4/IPv6 translation
)


# ------------------------------------------------------------------ errors


class FetchError(Exception):
    """A URL could not be fetched; the message says why in one sentence."""

    def __init__(self, message: str, *, url: str = "") -> None:
        super().__init__(message)
        self.url = url


class SchemeNotAllowedError(FetchError):
    """The URL is not http or https."""


class InvalidURLError(FetchError):
    """The URL cannot be parsed or has no host."""


class BlockedAddressError(FetchError):
    """The host resolves to a private, loopback, link-local or otherwise non-public address."""


class DNSError(FetchError):
    """The host name could not be resolved."""


class ConnectError(FetchError):
    """No connection could be made, or it broke mid-transfer."""


class FetchTimeoutError(FetchError):
    """The connect timeout or the total deadline passed."""


class TooManyRedirectsError(FetchError):
    """More redirects than FETCH_MAX_REDIRECTS."""


class RedirectLoopError(FetchError):
    """A redirect led back to a URL already visited."""


class ResponseTooLargeError(FetchError):
    """The body (after decompression) is larger than the cap."""


class HTTPStatusError(FetchError):
    """The server answered with an error status (4xx or 5xx)."""

    def __init__(self, message: str, *, url: str = "", status: int = 0) -> None:
        super().__init__(message, url=url)
        self.status = status


class ContentEncodingError(FetchError):
    """The body claims gzip or deflate but does not decompress."""


# ------------------------------------------------------------------ result


@dataclass(frozen=True)
class FetchResult:
    url: str
    """The final URL, after redirects."""
    status: int
    content: bytes
    headers: dict[str, str] = field(default_factory=dict)
    """Response headers, names lower-cased."""
    etag: str = ""
    last_modified: str = ""
    not_modified: bool = False
    content_type: str = ""
    """The media type without parameters, lower-cased (``application/rss+xml``)."""
    encoding: str = ""
    """The charset the server declared, if any; a hint, not a promise."""


# --------------------------------------------------------------- addresses


def address_refusal(address: IPAddress) -> str:
    """Why ``address`` must not be fetched from, or "" if it is public.

    IPv4-mapped, 6to4 and Teredo IPv6 addresses are judged by the IPv4 address
    they carry, so ``::ffff:127.0.0.1`` is loopback like ``127.0.0.1``.
    """
    if isinstance(address, ipaddress.IPv6Address):
        embedded = address.ipv4_mapped or address.sixtofour
        if address.teredo:
            embedded = address.teredo[1]
        if embedded is not None:
            reason = address_refusal(embedded)
            return f"{reason} (inside {address})" if reason else ""
    checks = (
        ("unspecified", address.is_unspecified),
        ("loopback", address.is_loopback),
        ("link-local", address.is_link_local),
        ("multicast", address.is_multicast),
        ("private", address.is_private),
        ("reserved", address.is_reserved),
        ("shared or special-purpose", any(address in net for net in _EXTRA_BLOCKED_NETWORKS)),
        ("not globally routable", not address.is_global),
    )
    for name, hit in checks:
        if hit:
            return f"{address} is a {name} address"
    return ""


def _allowed_networks() -> list[ipaddress.IPv4Network | ipaddress.IPv6Network]:
    return [
        ipaddress.ip_network(cidr, strict=False)
        for cidr in getattr(settings, "FETCH_ALLOWED_NETWORKS", [])
    ]


def check_addresses(host: str, addresses: Iterable[IPAddress], *, url: str) -> None:
    """Raise BlockedAddressError unless every address may be fetched from."""
    if settings.FETCH_ALLOW_PRIVATE_NETWORKS:
        return
    allowed = _allowed_networks()
    for address in addresses:
        if any(address.version == net.version and address in net for net in allowed):
            continue
        reason = address_refusal(address)
        if reason:
            raise BlockedAddressError(
                f"Refused to fetch {url}: {host} resolves to {reason}, "
                "and only public addresses may be fetched.",
                url=url,
            )


def resolve(host: str, port: int) -> list[IPAddress]:
    """All addresses ``host`` resolves to, in the resolver's order, without duplicates.

    Tests replace this function to make a test host name point at loopback.
    """
    infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    seen: list[IPAddress] = []
    for _family, _type, _proto, _canon, sockaddr in infos:
        address = ipaddress.ip_address(sockaddr[0].split("%", 1)[0])
        if address not in seen:
            seen.append(address)
    return seen


_resolver_pool: concurrent.futures.ThreadPoolExecutor | None = None
_resolver_pid = 0
_resolver_lock = threading.Lock()


def _resolver() -> concurrent.futures.ThreadPoolExecutor:
    global _resolver_pool, _resolver_pid
    with _resolver_lock:
        if _resolver_pool is None or _resolver_pid != os.getpid():
            _resolver_pool = concurrent.futures.ThreadPoolExecutor(
                max_workers=4, thread_name_prefix="fetch-resolve"
            )
            _resolver_pid = os.getpid()
        return _resolver_pool


def _resolve_within(host: str, port: int, seconds: float) -> list[IPAddress]:
    """``resolve`` bounded by the fetch's deadline (the system resolver has its own,
    much longer, timeouts); raises TimeoutError when the time is up. An address
    literal is returned as it is."""
    with contextlib.suppress(ValueError):
        return [ipaddress.ip_address(host)]
    future = _resolver().submit(resolve, host, port)
    try:
        return future.result(timeout=max(seconds, 0.0))
    except concurrent.futures.TimeoutError:
        future.cancel()
        raise TimeoutError(f"resolving {host} took too long") from None


# -------------------------------------------------------------- connections


class _PinnedMixin:
    """Connect to a pre-checked address instead of resolving the host again."""

    def __init__(
        self,
        *args,
        pinned_addresses: list[IPAddress],
        connect_timeout: float,
        deadline: _Deadline,
        **kwargs,
    ) -> None:
        super().__init__(*args, **kwargs)
        self.pinned_addresses = pinned_addresses
        self.connect_timeout = connect_timeout
        self.deadline = deadline
        # http.client sets this per instance in __init__; replace it after.
        self._create_connection = self._connect_pinned

    def _connect_pinned(self, address, timeout=None, source_address=None) -> socket.socket:
        _host, port = address
        last_error: OSError | None = None
        for ip in self.pinned_addresses:
            remaining = self.deadline.remaining()
            if remaining <= 0:
                raise TimeoutError("no time left to connect")
            family = socket.AF_INET6 if ip.version == 6 else socket.AF_INET
            sock = socket.socket(family, socket.SOCK_STREAM)
            sock.settimeout(min(self.connect_timeout, remaining))
            try:
                sock.connect((str(ip), port))
            except OSError as error:
                sock.close()
                last_error = error
                continue
            return sock
        raise last_error or OSError("no address to connect to")


class _PinnedHTTPConnection(_PinnedMixin, http.client.HTTPConnection):
    pass


class _PinnedHTTPSConnection(_PinnedMixin, http.client.HTTPSConnection):
    pass


class _Watchdog:
    """One thread per process that enforces every fetch's total deadline.

    Cheaper than a timer thread per fetch; started lazily, and again in a forked
    child (Celery's prefork pool), where the parent's thread does not exist.
    """

    def __init__(self) -> None:
        self._condition = threading.Condition()
        self._queue: list[tuple[float, int, _Deadline]] = []
        self._order = itertools.count()
        self._pid = 0

    def add(self, deadline: _Deadline) -> None:
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


_WATCHDOG = _Watchdog()


class _Deadline:
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


# ------------------------------------------------------------------ bodies


class _Decoder:
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


# ------------------------------------------------------------------- fetch


def _split(url: str) -> tuple[str, str, int, str]:
    try:
        parts = urlsplit(url.strip())
        port = parts.port
    except ValueError as error:
        raise InvalidURLError(f"Cannot fetch {url!r}: {error}.", url=url) from None
    scheme = parts.scheme.lower()
    if scheme not in ALLOWED_SCHEMES:
        shown = scheme or "no scheme"
        raise SchemeNotAllowedError(
            f"Refused to fetch {url}: {shown} URLs are not allowed, only http and https.",
            url=url,
        )
    host = parts.hostname or ""
    if not host:
        raise InvalidURLError(f"Cannot fetch {url}: the URL has no host.", url=url)
    port = port or (443 if scheme == "https" else 80)
    path = parts.path or "/"
    if parts.query:
        path = f"{path}?{parts.query}"
    return scheme, host, port, path


def _host_header(host: str, port: int, scheme: str) -> str:
    shown = f"[{host}]" if ":" in host else host
    with contextlib.suppress(UnicodeError):
        shown = shown.encode("idna").decode("ascii")
    default = 443 if scheme == "https" else 80
    return shown if port == default else f"{shown}:{port}"


def _media_type(headers: Message) -> tuple[str, str]:
    return headers.get_content_type().lower() if headers.get("content-type") else "", (
        headers.get_content_charset() or ""
    )


def fetch(
    url: str,
    *,
    etag: str | None = None,
    last_modified: str | None = None,
    max_bytes: int | None = None,
    accept: str | None = None,
) -> FetchResult:
    """GET ``url`` safely (see the module docstring); raise a FetchError subclass on refusal."""
    cap = max_bytes if max_bytes is not None else settings.FETCH_MAX_BYTES
    deadline = _Deadline(settings.FETCH_TOTAL_TIMEOUT)
    try:
        return _fetch(
            url,
            etag=etag,
            last_modified=last_modified,
            cap=cap,
            accept=accept or DEFAULT_ACCEPT,
            deadline=deadline,
        )
    finally:
        deadline.cancel()


def _fetch(
    url: str,
    *,
    etag: str | None,
    last_modified: str | None,
    cap: int,
    accept: str,
    deadline: _Deadline,
) -> FetchResult:
    visited: list[str] = []
    current = url
    while True:
        if current in visited:
            raise RedirectLoopError(
                f"Redirect loop fetching {url}: {current} redirects back to itself "
                f"after {len(visited)} hop(s).",
                url=url,
            )
        visited.append(current)
        result = _request_once(
            current,
            etag=etag,
            last_modified=last_modified,
            cap=cap,
            accept=accept,
            deadline=deadline,
            original_url=url,
        )
        if isinstance(result, FetchResult):
            return result
        location = result
        if len(visited) > settings.FETCH_MAX_REDIRECTS:
            raise TooManyRedirectsError(
                f"Too many redirects fetching {url}: gave up after "
                f"{settings.FETCH_MAX_REDIRECTS} hops.",
                url=url,
            )
        current = urljoin(current, location)


def _timeout_error(url: str, original_url: str) -> FetchTimeoutError:
    return FetchTimeoutError(
        f"Timed out fetching {url}: no complete response within "
        f"{settings.FETCH_TOTAL_TIMEOUT:g} seconds.",
        url=original_url,
    )


def _request_once(
    url: str,
    *,
    etag: str | None,
    last_modified: str | None,
    cap: int,
    accept: str,
    deadline: _Deadline,
    original_url: str,
) -> FetchResult | str:
    """One request: a FetchResult, or the Location of a redirect."""
    scheme, host, port, path = _split(url)
    try:
        addresses = _resolve_within(host, port, deadline.remaining())
    except TimeoutError:
        raise _timeout_error(url, original_url) from None
    except (OSError, UnicodeError) as error:
        raise DNSError(f"Cannot resolve {host} for {url}: {error}.", url=original_url) from None
    if not addresses:
        raise DNSError(f"Cannot resolve {host} for {url}: no addresses.", url=original_url)
    check_addresses(host, addresses, url=url)

    remaining = deadline.remaining()
    if remaining <= 0:
        raise _timeout_error(url, original_url)
    connect_timeout = min(settings.FETCH_CONNECT_TIMEOUT, remaining)
    if scheme == "https":
        connection: http.client.HTTPConnection = _PinnedHTTPSConnection(
            host,
            port,
            timeout=remaining,
            context=ssl.create_default_context(),
            pinned_addresses=addresses,
            connect_timeout=connect_timeout,
            deadline=deadline,
        )
    else:
        connection = _PinnedHTTPConnection(
            host,
            port,
            timeout=remaining,
            pinned_addresses=addresses,
            connect_timeout=connect_timeout,
            deadline=deadline,
        )
    deadline.watch(connection)
    try:
        connection.putrequest("GET", path, skip_host=True, skip_accept_encoding=True)
        connection.putheader("Host", _host_header(host, port, scheme))
        connection.putheader("User-Agent", settings.FETCH_USER_AGENT)
        connection.putheader("Accept", accept)
        connection.putheader("Accept-Encoding", "gzip, deflate")
        if etag:
            connection.putheader("If-None-Match", etag)
        if last_modified:
            connection.putheader("If-Modified-Since", last_modified)
        connection.putheader("Connection", "close")
        connection.endheaders()
        if connection.sock is not None:
            connection.sock.settimeout(max(deadline.remaining(), 0.001))
        response = connection.getresponse()
        return _read_response(
            response, url=url, original_url=original_url, cap=cap, deadline=deadline
        )
    except FetchError:
        raise
    except ssl.SSLError as error:
        if deadline.expired:
            raise _timeout_error(url, original_url) from None
        raise ConnectError(f"TLS failed for {url}: {error}.", url=original_url) from None
    except TimeoutError:
        raise _timeout_error(url, original_url) from None
    except (OSError, http.client.HTTPException) as error:
        if deadline.expired:
            raise _timeout_error(url, original_url) from None
        detail = str(error) or type(error).__name__
        raise ConnectError(f"Connection failed for {url}: {detail}.", url=original_url) from None
    finally:
        deadline.watch(None)
        connection.close()


def _read_response(
    response: http.client.HTTPResponse,
    *,
    url: str,
    original_url: str,
    cap: int,
    deadline: _Deadline,
) -> FetchResult | str:
    status = response.status
    headers = {name.lower(): value for name, value in response.getheaders()}
    if status in REDIRECT_STATUSES:
        location = response.getheader("Location")
        if not location:
            raise HTTPStatusError(
                f"{url} answered {status} without a Location header.",
                url=original_url,
                status=status,
            )
        return location.strip()
    content_type, encoding = _media_type(response.msg)
    if status == 304:
        return FetchResult(
            url=url,
            status=status,
            content=b"",
            headers=headers,
            etag=headers.get("etag", ""),
            last_modified=headers.get("last-modified", ""),
            not_modified=True,
            content_type=content_type,
            encoding=encoding,
        )
    if status >= 400:
        reason = response.reason or http.client.responses.get(status, "")
        raise HTTPStatusError(
            f"{url} answered HTTP {status} {reason}.".replace("  ", " "),
            url=original_url,
            status=status,
        )
    if status < 200 or status >= 300:
        raise HTTPStatusError(
            f"{url} answered HTTP {status}, which the fetcher does not handle.",
            url=original_url,
            status=status,
        )

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
    decoder = _Decoder(content_encoding)
    body = bytearray()
    while True:
        if deadline.expired:
            raise _timeout_error(url, original_url)
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
        raise _timeout_error(url, original_url)
    return FetchResult(
        url=url,
        status=status,
        content=bytes(body),
        headers=headers,
        etag=headers.get("etag", ""),
        last_modified=headers.get("last-modified", ""),
        content_type=content_type,
        encoding=encoding,
    )
