"""The demo's fake outlets: files under demo_data/site/ served like the web.

The feeds, article pages and calendar in ``digest/demo/demo_data/site/`` stand in
for four outlets at ``https://demo.digest.invalid/``. ``make_demo_fetch`` returns
a function with the safe fetcher's signature that serves them, so the real
ingestion pipeline runs on the demo as it would on the web. Dates in those
files are written relative to today (``{{iso:-3 09:30}}``: three days ago at
09:30 UTC) and filled in when served by ``render_demo_text``.
"""

from __future__ import annotations

import mimetypes
import re
from collections.abc import Callable
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from urllib.parse import urlsplit

from django.conf import settings
from django.utils import timezone

from articles.fetching.client import FetchResult
from articles.fetching.errors import HTTPStatusError

DEMO_HOST = "demo.digest.invalid"
DEMO_ROOT = Path(__file__).resolve().parent / "demo_data" / "site"


_PLACEHOLDER = re.compile(r"\{\{(\w+)(?::([+-]?\d+) (\d\d):(\d\d))?\}\}")
_CONTENT_TYPES = {
    ".rss": "application/rss+xml",
    ".xml": "application/atom+xml",
    ".rdf": "application/rdf+xml",
    ".ics": "text/calendar",
    ".html": "text/html",
}


def render_demo_text(text: str, *, today: date, site_url: str) -> str:
    """Fill the date and site placeholders of a demo file for ``today``."""

    def moment(match: re.Match) -> datetime:
        days, hours, minutes = int(match[2]), int(match[3]), int(match[4])
        return datetime.combine(today + timedelta(days=days), time(hours, minutes), tzinfo=UTC)

    def replace(match: re.Match) -> str:
        kind = match[1]
        if kind == "site_url":
            return site_url
        if match[2] is None:
            return match[0]
        value = moment(match)
        if kind == "iso":
            return value.isoformat().replace("+00:00", "Z")
        if kind == "rfc822":
            return value.strftime("%a, %d %b %Y %H:%M:%S +0000")
        if kind == "long":
            return f"{value.day} {value:%B %Y}"
        if kind == "ical":  # a local time, the file names its TZID
            return value.strftime("%Y%m%dT%H%M%S")
        if kind == "icalutc":
            return value.strftime("%Y%m%dT%H%M%SZ")
        return match[0]

    return _PLACEHOLDER.sub(replace, text)


def demo_url(path: str) -> str:
    return f"https://{DEMO_HOST}/{path}"


def demo_file(url: str) -> Path | None:
    """The file under ``DEMO_ROOT`` that serves ``url``, or None."""
    parts = urlsplit(url)
    if parts.hostname != DEMO_HOST:
        return None
    relative = parts.path.lstrip("/")
    if ".." in relative.split("/"):
        return None
    for candidate in (relative, relative + ".html", relative.rstrip("/") + ".html"):
        path = DEMO_ROOT / candidate
        if candidate and path.is_file():
            return path
    return None


def make_demo_fetch(*, today: date | None = None) -> Callable[..., FetchResult]:
    """A fetch function with the safe fetcher's signature that serves the demo files."""
    day = today or timezone.now().astimezone(UTC).date()

    def demo_fetch(url: str, *, etag=None, last_modified=None, **_options) -> FetchResult:
        path = demo_file(url)
        if path is None:
            raise HTTPStatusError(f"{url} is not part of the demo (404).", url=url, status=404)
        text = render_demo_text(
            path.read_text(encoding="utf-8"), today=day, site_url=settings.SITE_URL
        )
        content_type = _CONTENT_TYPES.get(path.suffix) or (
            mimetypes.guess_type(path.name)[0] or "application/octet-stream"
        )
        return FetchResult(
            url=url,
            status=200,
            content=text.encode("utf-8"),
            headers={"content-type": f"{content_type}; charset=utf-8"},
            content_type=content_type,
            encoding="utf-8",
        )

    return demo_fetch
