"""Full-text extraction of an article page that has already been fetched.

trafilatura never fetches anything here: it is given the bytes the safe fetcher
read. The page is parsed once, and that one tree serves everything: metadata the
extractor does not report (the page language, its lead image, the publisher's
article-body marker) is read from it, and both trafilatura passes are given it
(trafilatura prunes a copy of its own, never the tree it is given); the balanced
pass, which runs second, gets it without the page's menus, asides, footers and scripts.

The body comes from two trafilatura passes, precision and balanced, merged by
``articles.cleaning.agreement``; images are not extracted into the body (their
captions, credits and gallery text would become paragraphs), the lead image is
the page's own. Page furniture is removed by ``articles.cleaning.furniture``.
"""

from __future__ import annotations

import logging
import re
import threading
from dataclasses import dataclass
from datetime import UTC, datetime, time
from urllib.parse import urljoin

import trafilatura
import trafilatura.meta
from django.utils.dateparse import parse_datetime
from lxml import etree
from trafilatura.utils import load_html

from articles.cleaning import furniture
from articles.cleaning.agreement import marked_body_text, merge_opinions
from articles.cleaning.conversion import serialise, xml_to_html
from articles.cleaning.sanitising import html_to_text, plain_text, sanitize_html
from digest.core.links import web_url_or_empty

logger = logging.getLogger(__name__)

# trafilatura's module-level caches grow by about 1 MB a page in a long-lived worker;
# clearing them this often keeps memory flat at a negligible cost.
RESET_CACHES_EVERY = 200

# Fewer words than this is a menu or an error page, not an article.
MIN_BODY_WORDS = 15

# htmldate keeps the time and offset when the page states them.
_DATE_PARAMS = {
    "extensive_search": True,
    "original_date": True,
    "outputformat": "%Y-%m-%dT%H:%M:%S%z",
}


_extractions = 0
_extractions_lock = threading.Lock()


class ExtractionError(Exception):
    """The page held no article text that could be extracted; the message says why."""


@dataclass(frozen=True)
class ExtractedArticle:
    title: str
    author: str
    published_at: datetime | None
    image_url: str
    language: str
    body_html: str
    body_text: str


def _page_language(tree: etree._Element) -> str:
    candidates = [tree.get("lang"), tree.get("{http://www.w3.org/XML/1998/namespace}lang")]
    candidates += tree.xpath(
        "//meta[@http-equiv='content-language' or @http-equiv='Content-Language']/@content"
    )
    candidates += tree.xpath("//meta[@property='og:locale']/@content")
    for candidate in candidates:
        code = (candidate or "").strip().replace("_", "-").split(",")[0].strip()
        if code and len(code) <= 20 and code.replace("-", "").isalnum():
            return code.lower()
    return ""


def _page_image(tree: etree._Element) -> str:
    for xpath in (
        "//meta[@property='og:image' or @name='og:image']/@content",
        "//meta[@property='og:image:url' or @property='og:image:secure_url']/@content",
        "//meta[@name='twitter:image' or @property='twitter:image']/@content",
        "//link[@rel='image_src']/@href",
    ):
        for value in tree.xpath(xpath):
            if value and value.strip():
                return value.strip()
    # No declared image: the first picture inside the article (the body itself is
    # extracted without images, so it is looked for in the page).
    for container in ("//*[@itemprop='articleBody']", "//article", "//main"):
        for image in tree.xpath(f"{container}//img"):
            value = image.get("src") or image.get("data-src") or ""
            if value.strip() and not value.strip().startswith("data:"):
                return value.strip()
    return ""


# A declared publication time before this year is a template's placeholder, not a date.
EARLIEST_YEAR = 1990
_JSON_LD_PUBLISHED = re.compile(r'"datePublished"\s*:\s*"([^"]{10,40})"')


def _declared_time(tree: etree._Element) -> datetime | None:
    """The publication time the page states with its offset (article:published_time,
    schema.org datePublished), which is exact where htmldate often finds only a day."""
    values = tree.xpath(
        "//meta[@property='article:published_time' or @property='og:published_time' "
        "or @itemprop='datePublished']/@content | //time[@itemprop='datePublished']/@datetime"
    )
    for script in tree.xpath("//script[@type='application/ld+json']/text()"):
        values += _JSON_LD_PUBLISHED.findall(script)
    for value in values:
        try:
            parsed = parse_datetime(value.strip())
        except ValueError:
            continue
        # Templates write placeholders such as 0001-01-01 when they have no date.
        if parsed is not None and parsed.tzinfo is not None and parsed.year >= EARLIEST_YEAR:
            return parsed
    return None


def _parse_date(value: str | None) -> datetime | None:
    """An aware datetime from htmldate's output; a bare date becomes noon UTC.

    Noon keeps the calendar date the same in every time zone from UTC-11 to UTC+11,
    which is what matters for a date without a time.
    """
    if not value:
        return None
    value = value.strip()
    # htmldate writes a date it found without a time as midnight UTC.
    if value.endswith(("T00:00:00+0000", "T00:00:00")):
        value = value[:10]
    try:
        if len(value) == 10:
            day = datetime.strptime(value, "%Y-%m-%d").date()
            return datetime.combine(day, time(12, 0), tzinfo=UTC)
        if len(value) > 5 and value[-5] in "+-" and value[-4:].isdigit():
            value = f"{value[:-2]}:{value[-2:]}"
        parsed = parse_datetime(value)
    except ValueError:
        return None
    if parsed is None:
        return None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return parsed


def _make_links_absolute(tree: etree._Element, url: str) -> None:
    """Resolve relative link and image addresses against the page (or its <base href>)
    where trafilatura would get them wrong; leave the rest for it.

    trafilatura resolves a link against the page's host, which is right for an
    absolute path ("/a/b") but not for a page-relative one ("b", "../b", "?q") or a
    protocol-relative one ("//cdn/b"), and it resolves images against the page.
    Without a <base href> only those links need resolving here; with one, every
    relative link and image does. Only href and src/data-src matter to the
    extracted text.
    """
    bases = tree.xpath("//base/@href")
    if not bases:
        for element in tree.iter("a"):
            value = element.get("href")
            if value is None or value.startswith(_ABSOLUTE_PREFIXES) or _ROOTED(value):
                continue
            _resolve(element, "href", value, url)
        return
    base = web_url_or_empty(bases[0], base=url) or url
    for element in tree.iter("a", "img"):
        for attribute in ("href", "src", "data-src"):
            value = element.get(attribute)
            if value is None or value.startswith(_ABSOLUTE_PREFIXES):
                continue
            _resolve(element, attribute, value, base)


# Addresses trafilatura keeps (or resolves) exactly as urljoin against the page would.
_ABSOLUTE_PREFIXES = ("https://", "http://")
# An absolute path: "/x" but not "//host/x".
_ROOTED = re.compile(r"/(?![/\\])").match


def _resolve(element: etree._Element, attribute: str, value: str, base: str) -> None:
    try:
        element.set(attribute, urljoin(base, value.strip()))
    except ValueError:
        del element.attrib[attribute]


def _resolve_links(body: etree._Element, url: str) -> None:
    """Make the links of ``body`` that are still relative absolute against the page,
    as trafilatura does with the links of a pass given the page's address."""
    for element in body.iter("a"):
        value = element.get("href")
        if value and not value.startswith(_ABSOLUTE_PREFIXES):
            _resolve(element, "href", value, url)


# Parts of a page trafilatura's cleaning removes before it looks for the article, and
# that its balanced pass has no other use for (JSON-LD scripts excepted, kept below).
PAGE_CHROME = ("nav", "aside", "footer", "script", "style", "svg")


def _drop_page_chrome(tree: etree._Element) -> None:
    """Remove menus, asides, footers, scripts (but JSON-LD), styles and drawings from
    ``tree``, in place, keeping the text that follows each.

    The balanced pass would discard them itself, but only after it has copied them
    and matched its pruning expressions against every element in them, and menus are
    often the larger part of a page's elements. The one reading of the page this
    changes: when the balanced extract is short, trafilatura compares it with the
    page's text to decide on a recall retry, and that text no longer counts the menus.
    """
    for element in list(tree.iter(*PAGE_CHROME)):
        if element.tag == "script" and "ld+json" in (element.get("type") or ""):
            continue
        element.drop_tree()


def _maybe_reset_caches() -> None:
    global _extractions
    with _extractions_lock:
        _extractions += 1
        due = _extractions % RESET_CACHES_EVERY == 0
    if due:
        # htmldate (under trafilatura) logs an ERROR for one cache it cannot clear;
        # the others are cleared, which is what matters. Keep that out of the logs.
        htmldate_logger = logging.getLogger("htmldate.meta")
        previous_level = htmldate_logger.level
        htmldate_logger.setLevel(logging.CRITICAL)
        try:
            trafilatura.meta.reset_caches()
        finally:
            htmldate_logger.setLevel(previous_level)


def _trafilatura(
    tree: etree._Element,
    *,
    url: str,
    favor_precision: bool,
    with_metadata: bool,
    fast: bool = False,
):
    """One trafilatura pass over ``tree`` (which it prunes); None when it found nothing.
    Raises ``ExtractionError`` when it fails."""
    try:
        return trafilatura.bare_extraction(
            tree,
            url=url,
            # Not "python": that format also renders the body as text, which is not used here.
            output_format="xml",
            with_metadata=with_metadata,
            favor_precision=favor_precision,
            fast=fast,
            include_comments=False,
            include_links=True,
            include_images=False,
            include_formatting=True,
            include_tables=True,
            date_extraction_params=_DATE_PARAMS,
        )
    except Exception as error:  # a parser bug on one page must not stop a poll
        logger.warning("trafilatura failed on %s: %r", url, error)
        raise ExtractionError(
            f"The extractor failed on this page ({type(error).__name__})."
        ) from error


def _body_of(document) -> etree._Element | None:
    """The document's body as HTML blocks, or None when there is none."""
    if document is None or document.body is None:
        return None
    return xml_to_html(document.body)


def _word_count(container: etree._Element) -> int:
    return len("".join(container.itertext()).split())


def extract_article(*, html: bytes | str, url: str) -> ExtractedArticle:
    """Extract the article on the page ``html`` that was fetched from ``url``.

    Returns the title, author and language as plain text, the publication time
    as an aware datetime (or None), an absolute http(s) lead image URL (the
    page's og:image, else the first image in its article, else ""), and the text as
    sanitised HTML (paragraphs, headings, lists, quotes, tables and links kept,
    links absolute; no images, so no captions) and as plain text. The body is
    trafilatura's precision pass with the blocks its balanced pass agrees belong
    (``agreement``), without the headline, teasers and related-story links
    (``furniture``). Raises ``ExtractionError`` when the page has no main text.
    """
    if not html or not (html.strip() if isinstance(html, str) else html.strip()):
        raise ExtractionError("The page is empty.")
    tree = load_html(html)
    if tree is None:
        raise ExtractionError("The page could not be parsed as HTML.")
    language = _page_language(tree)
    page_image = _page_image(tree)
    declared_time = _declared_time(tree)
    # trafilatura resolves relative links against the host, not the page; do it right
    # (honouring <base href>) before it sees them.
    _make_links_absolute(tree, url)

    marked_text = marked_body_text(tree)

    _maybe_reset_caches()
    # Both passes read the one parsed tree: trafilatura works on its own copy of it.
    document = _trafilatura(tree, url=url, favor_precision=True, with_metadata=True)
    # The second opinion skips trafilatura's own fallback extractors: it only has to
    # say which blocks precision mode dropped, and the fallbacks double its cost.
    # Without the page address it leaves links as the page wrote them (resolving each link
    # of the page is a good part of its cost); the few blocks of it that are kept are
    # resolved below. It reads the page without the parts its own cleaning removes.
    _drop_page_chrome(tree)
    balanced = _trafilatura(tree, url=None, favor_precision=False, with_metadata=False, fast=True)
    balanced_body = _body_of(balanced)
    body = _body_of(document)
    if body is None or _word_count(body) < MIN_BODY_WORDS:
        # Precision mode found (next to) nothing: the balanced opinion is the answer, and
        # the metadata is read by a balanced pass that reports it, from the whole page.
        if balanced_body is None:
            raise ExtractionError("No main text was found on the page.")
        if document is None:
            document = _trafilatura(
                load_html(html), url=url, favor_precision=False, with_metadata=True
            )
        body = balanced_body
    elif balanced_body is not None:
        merge_opinions(body, balanced_body, marked_text=marked_text)
    _resolve_links(body, url)
    title = plain_text((document.title if document is not None else "") or "")
    furniture.drop_headline(body, title=title)
    furniture.drop_teasers(body)
    furniture.drop_related_links(body, page_url=url)

    body_html = sanitize_html(serialise(body), base_url=url)
    body_text = html_to_text(body_html)
    if len(body_text.split()) < MIN_BODY_WORDS:
        raise ExtractionError(
            f"No main text was found on the page (under {MIN_BODY_WORDS} words extracted)."
        )

    metadata = document if document is not None else balanced
    image_url = web_url_or_empty(page_image or metadata.image or "", base=url)

    return ExtractedArticle(
        title=title[:500],
        author=plain_text(metadata.author or "")[:300],
        published_at=declared_time or _parse_date(metadata.date),
        image_url=image_url[:2000],
        language=(language or (metadata.language or "").lower())[:20],
        body_html=body_html,
        body_text=body_text,
    )
