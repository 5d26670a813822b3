"""Whole-page cache for anonymous readers, and the one switch that empties it.

Every cached page is stored under a key made of the site's *page version* and
the request's path and query string. Clearing the cache is bumping that version
(``invalidate_pages``): old entries become unreachable at once in every web
process and expire on their own. Signals bump it when articles, topics, events,
issues or issue items change; code that changes those rows with ``update()``
(which sends no signal), such as a send finishing an issue, calls
``invalidate_pages`` itself.

Each web process also keeps its hottest pages in memory (``local_pages``), still
keyed by the shared version, so a hit costs one small cache read.

Only anonymous GET/HEAD requests are served from and stored in the cache: a
request carrying a session cookie (an editor signed in) always gets a fresh
page. Pages can carry a CSRF token (the subscribe form in the footer); it is
swapped for a placeholder when stored and for the reader's own token when
served, so a cached page never hands one reader another reader's token.
"""

from __future__ import annotations

import hashlib
import re
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from functools import wraps

from django.conf import settings
from django.core.cache import cache
from django.http import HttpRequest, HttpResponse
from django.middleware.csrf import get_token

PAGE_VERSION_KEY = "reader:page-version"
# Long enough to absorb traffic, short enough that a change made without a
# signal (an UPDATE that forgot to call invalidate_pages) shows within minutes.
DEFAULT_PAGE_SECONDS = 600

_CSRF_PLACEHOLDER = b"@@csrf-token-placeholder@@"
_CSRF_INPUT = re.compile(rb'(name="csrfmiddlewaretoken" value=")([A-Za-z0-9]+)(")')


def page_cache_seconds() -> int:
    return int(getattr(settings, "READER_PAGE_CACHE_SECONDS", DEFAULT_PAGE_SECONDS))


def _fresh_version() -> int:
    # Unique across cache flushes: a version that starts again at 1 after a flush
    # could match pages a web process still holds in its own memory.
    return time.time_ns()


class _VersionMemo:
    """The last page version this process read, and when (see the check setting)."""

    value: int | None = None
    read_at: float = 0.0


_version_memo = _VersionMemo()


def _remember_version(version: int) -> int:
    _version_memo.value, _version_memo.read_at = version, time.monotonic()
    return version


def current_page_version() -> int:
    """Return the page version, starting it afresh when the cache has none.

    Read from the shared cache on every call unless READER_PAGE_VERSION_CHECK_SECONDS
    allows reusing this process's last reading for that long.
    """
    check_every = float(getattr(settings, "READER_PAGE_VERSION_CHECK_SECONDS", 0.0))
    if (
        check_every > 0
        and _version_memo.value is not None
        and time.monotonic() - _version_memo.read_at < check_every
    ):
        return _version_memo.value
    version = cache.get(PAGE_VERSION_KEY)
    if version is None:
        cache.add(PAGE_VERSION_KEY, _fresh_version(), timeout=None)
        version = cache.get(PAGE_VERSION_KEY)
    return _remember_version(int(version))


def invalidate_pages() -> None:
    """Make every cached page stale, in every process sharing the cache."""
    try:
        _remember_version(cache.incr(PAGE_VERSION_KEY))
    except ValueError:
        # No version yet (fresh cache): any new one differs from those pages were
        # stored under.
        cache.add(PAGE_VERSION_KEY, _fresh_version(), timeout=None)
        _version_memo.value = None


class _VersionMemo:
    """Values this process computed for the current page version (``remembered``)."""

    max_entries = 128

    def __init__(self) -> None:
        self._entries: dict[tuple, tuple[float, object]] = {}
        self._lock = threading.Lock()

    def get_or_compute(self, key: tuple, compute: Callable[[], object], seconds: float):
        full_key = (current_page_version(), *key)
        now = time.monotonic()
        with self._lock:
            found = self._entries.get(full_key)
        if found is not None and found[0] > now:
            return found[1]
        value = compute()
        with self._lock:
            if len(self._entries) >= self.max_entries:
                self._entries.clear()  # old versions' entries, mostly
            self._entries[full_key] = (now + seconds, value)
        return value

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()


_remembered = _VersionMemo()


def remembered(key: tuple, compute: Callable[[], object], *, seconds: float = 600.0):
    """``compute()``, or what it gave in this process for ``key`` at the current page
    version less than ``seconds`` ago: for values read from rows that pages show (so any
    change to them bumps the version), needed by pages that are not themselves cached
    whole, such as each computed search."""
    return _remembered.get_or_compute(key, compute, seconds)


class _LocalPages:
    """A small per-process LRU in front of the shared cache, for the hottest pages.

    Keys carry the page version, which is still read from the shared cache on every
    request, so a bump anywhere orphans these entries at once; entries also expire
    with the same timeout as the shared ones.
    """

    def __init__(self, max_entries: int) -> None:
        self.max_entries = max_entries
        self._entries: OrderedDict[str, tuple[float, dict]] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: str) -> dict | None:
        with self._lock:
            found = self._entries.get(key)
            if found is None:
                return None
            expires_at, stored = found
            if expires_at <= time.monotonic():
                del self._entries[key]
                return None
            self._entries.move_to_end(key)
            return stored

    def put(self, key: str, stored: dict, *, seconds: int) -> None:
        if len(stored["content"]) > LOCAL_PAGE_MAX_BYTES:
            return
        with self._lock:
            self._entries[key] = (time.monotonic() + seconds, stored)
            self._entries.move_to_end(key)
            while len(self._entries) > self.max_entries:
                self._entries.popitem(last=False)

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()


# Per web process: a few hundred pages of 20–60 kB each.
LOCAL_PAGE_ENTRIES = 300
LOCAL_PAGE_MAX_BYTES = 512 * 1024
local_pages = _LocalPages(LOCAL_PAGE_ENTRIES)


def page_cache_key(request: HttpRequest, *, version: int) -> str:
    digest = hashlib.sha256(request.get_full_path().encode("utf-8", "surrogateescape"))
    return f"reader:page:{version}:{request.method == 'HEAD'}:{digest.hexdigest()}"


def is_cacheable_request(request: HttpRequest) -> bool:
    return request.method in ("GET", "HEAD") and (
        settings.SESSION_COOKIE_NAME not in request.COOKIES
    )


def _store(response: HttpResponse) -> dict:
    content = _CSRF_INPUT.sub(rb"\1" + _CSRF_PLACEHOLDER + rb"\3", response.content)
    headers = {
        name: value
        for name, value in response.headers.items()
        if name.lower() not in ("set-cookie", "vary", "content-length")
    }
    return {"status": response.status_code, "headers": headers, "content": content}


def _restore(request: HttpRequest, stored: dict) -> HttpResponse:
    content = stored["content"]
    if _CSRF_PLACEHOLDER in content:
        content = content.replace(_CSRF_PLACEHOLDER, get_token(request).encode("ascii"))
    response = HttpResponse(content, status=stored["status"])
    for name, value in stored["headers"].items():
        response.headers[name] = value
    response.headers["X-Page-Cache"] = "hit"
    return response


def cached_page(
    view: Callable[..., HttpResponse] | None = None, *, keep_local: bool = True
) -> Callable[..., HttpResponse]:
    """Serve ``view`` from the page cache for anonymous readers; store its 200 answers.

    ``@cached_page(keep_local=False)`` keeps the view's pages in the shared cache only,
    out of this process's small memory of the hottest pages: for pages of many
    addresses each seldom asked for (searches), which would push the home and topic
    pages out of it."""
    if view is None:
        return lambda actual: cached_page(actual, keep_local=keep_local)

    @wraps(view)
    def wrapper(request: HttpRequest, *args, **kwargs) -> HttpResponse:
        if not is_cacheable_request(request):
            return view(request, *args, **kwargs)
        key = page_cache_key(request, version=current_page_version())
        stored = local_pages.get(key) if keep_local else None
        if stored is None:
            stored = cache.get(key)
            if stored is not None and keep_local:
                local_pages.put(key, stored, seconds=page_cache_seconds())
        if stored is not None:
            return _restore(request, stored)
        response = view(request, *args, **kwargs)
        if response.status_code == 200 and not response.streaming:
            if hasattr(response, "render") and not response.is_rendered:
                response.render()
            stored = _store(response)
            cache.set(key, stored, timeout=page_cache_seconds())
            if keep_local:
                local_pages.put(key, stored, seconds=page_cache_seconds())
            response.headers["X-Page-Cache"] = "miss"
        return response

    return wrapper
