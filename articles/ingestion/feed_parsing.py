"""Feeds: feedparser over fetched bytes, turned into plain, sanitised entries.

feedparser is only ever handed bytes, never a URL (its own fetching has no
timeout, no size cap and reads ``file://``). Given bytes it does not expand
entity bombs or read external entities; tests pin that. Its HTML sanitiser is
broad, so every HTML field is sanitised again with ``sanitising.sanitize_html``
and titles and names go through ``plain_text``.
"""

from __future__ import annotations

import calendar
import hashlib
import re
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import feedparser
from django.utils.html import escape, linebreaks

from articles.cleaning.sanitising import plain_text, sanitize_html, xml_safe
from digest.core.links import web_url_or_empty

# A date this far in the future is a publisher's mistake; the fetch time is used.
FUTURE_TOLERANCE = timedelta(days=1)
MAX_GUID_LENGTH = 1000
MAX_TITLE_LENGTH = 500


class FeedError(Exception):
    """The bytes could not be read as a feed; the message says why."""


class NotAFeedError(FeedError):
    """The document is not RSS or Atom (an HTML page, say)."""


class MalformedFeedError(FeedError):
    """The document looks like a feed but is too broken to yield any entry."""


@dataclass(frozen=True)
class FeedEntry:
    guid: str
    link: str
    """Absolute http(s) URL of the article, or "" when the entry has none."""
    title: str
    """Plain text (not escaped)."""
    summary_html: str
    """Sanitised HTML."""
    content_html: str
    """Sanitised HTML of the entry's full content, or "" when the feed has only a summary."""
    author: str
    published_at: datetime | None
    image_url: str


@dataclass(frozen=True)
class ParsedFeed:
    title: str
    link: str
    version: str
    entries: list[FeedEntry] = field(default_factory=list)
    warning: str = ""
    """Why feedparser called the document ill-formed, when it still yielded entries."""
    skipped: list[str] = field(default_factory=list)
    """Why each entry that was read but cannot become an article was left out."""


_CHARACTER_REFERENCE = re.compile(rb"&#(?:[xX]([0-9a-fA-F]{1,8})|([0-9]{1,10}));")


def _allowed_in_xml(code: int) -> bool:
    return (
        code in (0x9, 0xA, 0xD)
        or 0x20 <= code <= 0xD7FF
        or 0xE000 <= code <= 0xFFFD
        or 0x10000 <= code <= 0x10FFFF
    )


def _drop_forbidden_references(content: bytes) -> bytes:
    """``content`` without character references to characters XML forbids (``&#26;``,
    a lone surrogate ``&#xD800;`` on which feedparser itself crashes, …)."""
    if b"&#" not in content:
        return content

    def replace(match: re.Match[bytes]) -> bytes:
        hexadecimal, decimal = match.groups()
        code = int(hexadecimal, 16) if hexadecimal else int(decimal)
        return match.group(0) if _allowed_in_xml(code) else b""

    return _CHARACTER_REFERENCE.sub(replace, content)


def _entry_date(entry: feedparser.FeedParserDict, *, now: datetime) -> datetime | None:
    for key in ("published_parsed", "updated_parsed", "created_parsed"):
        parsed: time.struct_time | None = entry.get(key)
        if parsed:
            try:
                moment = datetime.fromtimestamp(calendar.timegm(parsed), tz=UTC)
            except (OverflowError, ValueError, OSError):
                continue
            return now if moment > now + FUTURE_TOLERANCE else moment
    return None


def _entry_image(entry: feedparser.FeedParserDict, *, base: str) -> str:
    candidates = [thumbnail.get("url") for thumbnail in entry.get("media_thumbnail") or []]
    candidates += [
        media.get("url")
        for media in entry.get("media_content") or []
        if media.get("medium") == "image" or str(media.get("type", "")).startswith("image/")
    ]
    candidates += [
        link.get("href")
        for link in entry.get("links") or []
        if link.get("rel") == "enclosure" and str(link.get("type", "")).startswith("image/")
    ]
    for candidate in candidates:
        if url := web_url_or_empty(candidate, base=base):
            return url
    return ""


def _entry_content(entry: feedparser.FeedParserDict, *, base: str) -> str:
    parts = [
        item.get("value", "")
        for item in entry.get("content") or []
        if "html" in str(item.get("type", "")) or item.get("type") is None
    ]
    if not parts:
        parts = [item.get("value", "") for item in entry.get("content") or []]
    return sanitize_html("\n".join(parts), base_url=base) if parts else ""


def _entry_summary(entry: feedparser.FeedParserDict, *, base: str) -> str:
    summary = entry.get("summary", "")
    detail = entry.get("summary_detail") or {}
    if summary and detail.get("type") == "text/plain":
        # Plain text: escape it as text, keep the paragraphs.
        return linebreaks(escape(xml_safe(summary)))
    return sanitize_html(summary, base_url=base)


def content_guid(*, title: str, summary_html: str, content_html: str) -> str:
    """A stable GUID for an entry that has neither id nor link: a digest of its content,
    so the same entry polled again gets the same GUID and is not stored twice."""
    digest = hashlib.sha256(f"{title}\n{summary_html}\n{content_html}".encode()).hexdigest()
    return f"urn:digest:content:{digest[:40]}"


def _entry(entry: feedparser.FeedParserDict, *, base: str, now: datetime) -> FeedEntry | None:
    """The entry as plain values, or None when it carries nothing an article could show."""
    entry_base = (entry.get("summary_detail") or {}).get("base") or base
    guid = xml_safe(str(entry.get("id") or "")).strip()[:MAX_GUID_LENGTH]
    raw_link = entry.get("link") or ""
    if entry.get("guidislink") and raw_link == entry.get("id") and "://" not in raw_link:
        # feedparser copied a GUID that is not a URL into the link: there is no link.
        raw_link = ""
    link = web_url_or_empty(raw_link, base=entry_base)
    title = plain_text(entry.get("title", ""))[:MAX_TITLE_LENGTH]
    summary_html = _entry_summary(entry, base=entry_base)
    content_html = _entry_content(entry, base=entry_base)
    if not (guid or link or title or summary_html or content_html):
        return None
    if not guid and not link:
        # RSS 2.0 allows an item with only a description (or only a title).
        guid = content_guid(title=title, summary_html=summary_html, content_html=content_html)
    return FeedEntry(
        guid=guid,
        link=link,
        title=title,
        summary_html=summary_html,
        content_html=content_html,
        author=plain_text(entry.get("author", ""))[:300],
        published_at=_entry_date(entry, now=now),
        image_url=_entry_image(entry, base=entry_base)[:2000],
    )


def _feed_link_on_page(parsed: feedparser.FeedParserDict, *, base: str) -> str:
    for link in parsed.feed.get("links") or []:
        kind = str(link.get("type", ""))
        if link.get("rel") == "alternate" and ("rss" in kind or "atom" in kind):
            return web_url_or_empty(link.get("href"), base=base)
    return ""


def parse_feed(
    content: bytes, *, url: str, content_type: str = "", now: datetime | None = None
) -> ParsedFeed:
    """Parse RSS 0.9x/1.0/2.0 or Atom ``content`` fetched from ``url``.

    ``content_type`` is the response's Content-Type header, charset included.

    Promises: relative links are resolved against ``url`` (or the feed's own
    xml:base); declared encodings are honoured and undeclared ones guessed; an
    ill-formed feed still yields the entries that could be read (``warning`` says
    what was wrong); an entry with neither link nor GUID gets a GUID made from its
    content; an entry with no content at all is left out and ``skipped`` says so.
    Raises ``NotAFeedError`` for a document that is not a feed and
    ``MalformedFeedError`` for a feed too broken to yield anything.
    """
    now = now or datetime.now(tz=UTC)
    headers = {"content-location": url}
    if content_type:
        # The full header, charset included: feedparser weighs it against the XML's own.
        headers["content-type"] = content_type
    media_type = content_type.split(";", 1)[0].strip().lower()
    content = _drop_forbidden_references(content)
    parsed = feedparser.parse(content, response_headers=headers)
    problem = str(parsed.get("bozo_exception", "")) if parsed.get("bozo") else ""

    if not parsed.version and not parsed.entries:
        looks_html = media_type in ("text/html", "application/xhtml+xml") or (
            b"<html" in content[:2048].lower()
        )
        if looks_html:
            hint = _feed_link_on_page(parsed, base=url)
            suffix = f" The page names a feed at {hint}." if hint else ""
            raise NotAFeedError(f"{url} is an HTML page, not an RSS or Atom feed.{suffix}")
        detail = f" ({problem})" if problem else ""
        raise NotAFeedError(f"{url} is not an RSS or Atom feed{detail}.")

    entries: list[FeedEntry] = []
    skipped: list[str] = []
    for raw in parsed.entries:
        entry = _entry(raw, base=url, now=now)
        if entry is None:
            skipped.append("The entry has no link, GUID, title or content.")
        else:
            entries.append(entry)
    lowered = content.lower()
    had_entries = parsed.entries or b"<item" in lowered or b"<entry" in lowered
    if problem and not entries and had_entries:
        raise MalformedFeedError(
            f"{url} is not well-formed XML and no entry could be read from it: {problem}."
        )
    return ParsedFeed(
        title=plain_text(parsed.feed.get("title", ""))[:200],
        link=web_url_or_empty(parsed.feed.get("link"), base=url),
        version=parsed.version or "",
        entries=entries,
        warning=problem,
        skipped=skipped,
    )
