"""Wrapping an issue's email links for click tracking, once per rendered issue.

``track_links`` takes the email ``rendering`` made for one topic selection and turns each
web link in it into a placeholder like the unsubscribe link's, recording the link as an
``IssueLink`` (with its item and section) the first time it is met. ``personalise`` then
fills in each recipient's own signed ``/r/<token>`` per link, so the expensive render
still happens once per issue and topic selection. With open tracking on, the HTML also
gets a placeholder for a 1×1 pixel before ``</body>``.
"""

from __future__ import annotations

import dataclasses
import html as html_lib
import re

from django.conf import settings

from digest.core.links import absolute_url, is_web_url
from newsletters.compiling.letter import render_letter
from newsletters.models import Issue, IssueItem, IssueLink
from newsletters.rendering import OPEN_PIXEL, RenderedIssue, link_placeholder

_HREF = re.compile(r'(href=")(https?://[^"]+)(")')
_TEXT_URL = re.compile(r"https?://[^\s<>()\"']+")
MAX_TRACKED_URL = 2000


def track_links(*, rendered: RenderedIssue, issue: Issue) -> RenderedIssue:
    """``rendered`` with its web links (and, with open tracking, a pixel) as
    per-recipient placeholders. Queries: the issue's items and links, plus one insert
    when the rendering has links not seen before."""
    urls: list[str] = []
    for index in range(0, len(rendered.html_parts), 2):
        for match in _HREF.finditer(rendered.html_parts[index]):
            url = html_lib.unescape(match[2])
            if url not in urls and len(url) <= MAX_TRACKED_URL and is_web_url(url):
                urls.append(url)
    links = _issue_links(issue=issue, urls=urls)
    names = {url: link_placeholder(link.pk) for url, link in links.items()}

    def html_piece(match: re.Match) -> str:
        name = names.get(html_lib.unescape(match[2]))
        return f"{match[1]}\0{name}\0{match[3]}" if name else match[0]

    def text_piece(match: re.Match) -> str:
        name = names.get(match[0])
        return f"\0{name}\0" if name else match[0]

    html_parts = _resplit(rendered.html_parts, _HREF, html_piece)
    if settings.NEWSLETTER_OPEN_TRACKING:
        html_parts = _with_pixel(html_parts)
    text_parts = _resplit(rendered.text_parts, _TEXT_URL, text_piece)
    return dataclasses.replace(
        rendered,
        html_parts=html_parts,
        text_parts=text_parts,
        links={name: url for url, name in names.items()},
    )


def _resplit(parts: tuple[str, ...], pattern: re.Pattern, replace) -> tuple[str, ...]:
    """Replace matches in the literal parts with NUL-delimited placeholder names, then
    split again so odd indexes are placeholder names (a render never holds NUL)."""
    joined = "".join(
        f"\0{part}\0" if index % 2 else pattern.sub(replace, part)
        for index, part in enumerate(parts)
    )
    return tuple(joined.split("\0"))


def _with_pixel(parts: tuple[str, ...]) -> tuple[str, ...]:
    last = parts[-1]
    at = last.rfind("</body>")
    if at < 0:
        return (*parts[:-1], last, OPEN_PIXEL, "")
    return (*parts[:-1], last[:at], OPEN_PIXEL, last[at:])


def _issue_links(*, issue: Issue, urls: list[str]) -> dict[str, IssueLink]:
    """The ``IssueLink`` of each URL, created (with item and section) where missing."""
    known = {link.url: link for link in IssueLink.objects.filter(issue=issue, url__in=urls)}
    missing = [url for url in urls if url not in known]
    if missing:
        places = _places(issue)
        start = IssueLink.objects.filter(issue=issue).count()
        IssueLink.objects.bulk_create(
            [
                IssueLink(
                    issue=issue,
                    url=url,
                    item=places.get(url, (None, ""))[0],
                    section=places.get(url, (None, "other"))[1],
                    position=start + offset,
                )
                for offset, url in enumerate(missing)
            ],
            ignore_conflicts=True,  # another worker rendering the same issue got there first
        )
        known = {link.url: link for link in IssueLink.objects.filter(issue=issue, url__in=urls)}
    return known


def _places(issue: Issue) -> dict[str, tuple[IssueItem | None, str]]:
    """URL → (item, section) for the issue's items and its letter's links."""
    places: dict[str, tuple[IssueItem | None, str]] = {}
    for href in re.findall(r'href="([^"]+)"', render_letter(issue.letter or "")):
        places.setdefault(absolute_url(html_lib.unescape(href)), (None, "letter"))
    items = issue.items.select_related("article", "event")
    for item in items:
        url = absolute_url(item.target_url or "")
        if url:
            places[url] = (item, item.section)
    return places
