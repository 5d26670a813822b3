"""Who else has an issue's compile screen open, from each screen's heartbeat.

Each open screen calls ``heartbeat`` every ``HEARTBEAT_SECONDS``; an editor counts as
present until ``PRESENT_SECONDS`` pass without one. Kept in the cache (Redis in
production), so every web process sees the same editors.
"""

from __future__ import annotations

import time

from django.contrib.auth.models import User
from django.core.cache import cache

# The screen beats every 15 s; missing two beats (a slow network) does not yet mean gone.
HEARTBEAT_SECONDS = 15
PRESENT_SECONDS = 45


def _key(issue_id: int) -> str:
    return f"compile-presence:{issue_id}"


def heartbeat(*, issue_id: int, user: User, now: float | None = None) -> list[str]:
    """Note that ``user`` has the issue open; return the names of the *other* editors
    seen within ``PRESENT_SECONDS``, sorted."""
    now = time.time() if now is None else now
    seen: dict[int, tuple[str, float]] = cache.get(_key(issue_id)) or {}
    seen = {uid: entry for uid, entry in seen.items() if now - entry[1] < PRESENT_SECONDS}
    seen[user.pk] = (user.get_full_name() or user.get_username(), now)
    cache.set(_key(issue_id), seen, PRESENT_SECONDS * 2)
    return sorted(name for uid, (name, _at) in seen.items() if uid != user.pk)


def presence_line(names: list[str]) -> str:
    """'Ana is editing this issue', 'Ana and Ben are …', '' when nobody else is."""
    if not names:
        return ""
    if len(names) == 1:
        return f"{names[0]} is editing this issue too."
    return f"{', '.join(names[:-1])} and {names[-1]} are editing this issue too."
