"""Choosing an article's title, author and publication time between the feed and the page.

The feed's value is kept unless it is missing or recognisably worse than the page's:

- title: the feed's is a placeholder ("Untitled"), a truncation of the page's ("EU
  fines Big Tech over…" where the page says "EU fines Big Tech over data transfers") or
  the page's with a site label added ("EU fines Big Tech over data transfers | Wire");
- author: the feed's is an e-mail address or a role ("admin", "staff", "editor") rather
  than a name;
- publication time: the feed's is a bare date (midnight UTC, which is how feeds without a
  time write it) when the page states a time on that same day. A page time in the future
  is never used.

The lead image is the page's own (its og:image, the publisher's share picture at full
size) and the feed's only when the page has none: feed enclosures are often thumbnails.
"""

from __future__ import annotations

import re
from datetime import datetime, time

_ELLIPSIS = re.compile(r"\s*(\.\.\.|…|\[…\]|\[\.\.\.\])\s*$")
_PLACEHOLDER_TITLES = frozenset({"untitled", "no title", "(no title)", "title", "home"})
# A site or section label after the headline: " | Wire", " - The Daily Circuit".
_LABEL = re.compile(r"^\s*[|\-–—:·•]\s*\S.{0,60}$")
_EMAIL = re.compile(r"^\S+@\S+\.\S+$")
_ROLES = frozenset(
    {"admin", "administrator", "staff", "editor", "editors", "webmaster", "newsroom", "user"}
)


def choose_title(*, feed: str, page: str) -> str:
    """The feed's title, or the page's when the feed's is missing, a placeholder, a
    truncated form of the page's or the page's with a site label."""
    feed, page = (feed or "").strip(), (page or "").strip()
    if not page:
        return feed
    if not feed or feed.casefold() in _PLACEHOLDER_TITLES:
        return page
    stem = _ELLIPSIS.sub("", feed)
    if stem != feed and len(page) > len(stem) and page.casefold().startswith(stem.casefold()):
        return page
    if feed.casefold().startswith(page.casefold()) and _LABEL.match(feed[len(page) :]):
        return page
    return feed


def choose_author(*, feed: str, page: str) -> str:
    """The feed's author, or the page's when the feed's is missing, an address or a role."""
    feed, page = (feed or "").strip(), (page or "").strip()
    if feed and not _EMAIL.match(feed) and feed.casefold() not in _ROLES:
        return feed
    return page or feed


def choose_published_at(
    *, feed: datetime | None, page: datetime | None, now: datetime
) -> datetime:
    """The feed's time, or the page's when the feed's is missing or a bare date whose day
    the page gives a time for; ``now`` when neither is usable."""
    if page is not None and page > now:
        page = None
    if feed is None:
        return page or now
    if (
        page is not None
        and feed.timetz() == time(0, 0, tzinfo=feed.tzinfo)
        and feed.utcoffset().total_seconds() == 0
        and page.astimezone(feed.tzinfo).date() == feed.date()
        and page.timetz().replace(tzinfo=None) != time(12, 0)  # a page date without a time
    ):
        return page
    return feed
