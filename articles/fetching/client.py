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

This module makes the connections; ``policy`` says which URLs and addresses are
allowed, ``limits`` holds the deadline and the capped body reader, ``errors`` the
refusals.
"""

from __future__ import annotations

import concurrent.futures
import contextlib
import http.client
import ipaddress
import os
import socket
import ssl
import threading
from dataclasses import dataclass, field
from email.message import Message
from urllib.parse import urljoin

from django.conf import settings

from articles.fetching.errors import (
    ConnectError,
    DNSError,
    FetchError,
    HTTPStatusError,
    RedirectLoopError,
    TooManyRedirectsError,
)
from articles.fetching.limits import Deadline, read_capped_body, timeout_error
from articles.fetching.policy import IPAddress, check_addresses, split_url

REDIRECT_STATUSES = (301, 302, 303, 307, 308)
DEFAULT_ACCEPT = (
    "application/rss+xml, application/atom+xml, application/xml;q=0.9, text/xml;q=0.9, "
    "text/html;q=0.8, */*;q=0.5"
)


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
        deadline: Deadline,
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


# ------------------------------------------------------------------ bodies


# ------------------------------------------------------------------- fetch


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
    deadline = Deadline(settings.FETCH_TOTAL_TIMEOUT)
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
    deadline: Deadline,
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


def _request_once(
    url: str,
    *,
    etag: str | None,
    last_modified: str | None,
    cap: int,
    accept: str,
    deadline: Deadline,
    original_url: str,
) -> FetchResult | str:
    """One request: a FetchResult, or the Location of a redirect."""
    scheme, host, port, path = split_url(url)
    try:
        addresses = _resolve_within(host, port, deadline.remaining())
    except TimeoutError:
        raise timeout_error(url, original_url) from None
    except (OSError, UnicodeError) as error:
        raise DNSError(f"Cannot resolve {host} for {url}: {error}.", url=original_url) from None
    if not addresses:
        raise DNSError(f"Cannot resolve {host} for {url}: no addresses.", url=original_url)
    check_addresses(host, addresses, url=url)

    remaining = deadline.remaining()
    if remaining <= 0:
        raise timeout_error(url, original_url)
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
            raise timeout_error(url, original_url) from None
        raise ConnectError(f"TLS failed for {url}: {error}.", url=original_url) from None
    except TimeoutError:
        raise timeout_error(url, original_url) from None
    except (OSError, http.client.HTTPException) as error:
        if deadline.expired:
            raise timeout_error(url, original_url) from None
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
    deadline: Deadline,
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

    body = read_capped_body(
        response, cap=cap, deadline=deadline, url=url, original_url=original_url
    )
    return FetchResult(
        url=url,
        status=status,
        content=body,
        headers=headers,
        etag=headers.get("etag", ""),
        last_modified=headers.get("last-modified", ""),
        content_type=content_type,
        encoding=encoding,
    )
