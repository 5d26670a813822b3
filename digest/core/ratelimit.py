"""Fixed-window rate limits kept in the Django cache (LocMem in development, Redis
in production, where every web process shares the counts)."""

from __future__ import annotations

import hashlib
import time

from django.core.cache import cache
from django.http import HttpRequest


def hit(*, key: str, limit: int, window_seconds: int) -> bool:
    """Count one event for ``key``; return True while the window's count is ≤ ``limit``.

    ``cache.add`` then ``cache.incr`` are atomic on Redis and locked on LocMem, so
    concurrent requests cannot both slip under the limit.
    """
    bucket = int(time.time() // window_seconds)
    digest = hashlib.sha256(key.encode()).hexdigest()[:32]
    cache_key = f"ratelimit:{digest}:{window_seconds}:{bucket}"
    if cache.add(cache_key, 1, timeout=window_seconds + 5):
        return limit >= 1
    try:
        count = cache.incr(cache_key)
    except ValueError:  # expired between add and incr
        cache.add(cache_key, 1, timeout=window_seconds + 5)
        count = 1
    return count <= limit


def client_ip(request: HttpRequest) -> str:
    """The address the request came from (the proxy must set REMOTE_ADDR correctly)."""
    return request.META.get("REMOTE_ADDR") or "unknown"
