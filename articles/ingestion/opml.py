"""OPML import and export of sources.

Import reads outlines with ``xmlUrl`` (feeds, or calendars when the outline
says ``type="ical"`` or the URL ends in ``.ics``) and ``type="link"`` outlines
with a ``url`` (single pages). A parent outline named like a category
("Analysis", "Blogs", "Events") sets the category. A URL that is already a
source (compared canonically) is left as it is, apart from filling in a
missing site URL; duplicates inside the file count once. The XML is parsed
without DTDs, entities or network access.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from urllib.parse import urlsplit
from xml.sax.saxutils import quoteattr

from django.db import transaction
from django.utils import timezone
from lxml import etree

from articles.grouping.canonical import canonicalize_url
from articles.models import Source
from digest.core.links import is_web_url

MAX_URL_LENGTH = 2000
_CATEGORY_WORDS = {
    "analysis": Source.Category.ANALYSIS,
    "blog": Source.Category.ANALYSIS,
    "blogs": Source.Category.ANALYSIS,
    "reading corner": Source.Category.ANALYSIS,
    "events": Source.Category.EVENTS,
    "calendar": Source.Category.EVENTS,
    "news": Source.Category.NEWS,
    **{str(label).lower(): value for value, label in Source.Category.choices},
}


class OpmlError(Exception):
    """The file is not OPML that can be read; the message says why."""


@dataclass(frozen=True)
class Outline:
    name: str
    url: str
    site_url: str
    kind: str
    category: str


@dataclass
class ImportReport:
    created: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    """Already a source, or listed twice in the file."""
    rejected: list[tuple[str, str]] = field(default_factory=list)
    """(URL or name, reason) for outlines that could not become sources."""

    def __str__(self) -> str:
        return (
            f"{len(self.created)} created, {len(self.updated)} updated, "
            f"{len(self.unchanged)} already present, {len(self.rejected)} rejected"
        )


def _parser() -> etree.XMLParser:
    return etree.XMLParser(
        resolve_entities=False, no_network=True, load_dtd=False, dtd_validation=False
    )


def read_opml(content: bytes) -> tuple[list[Outline], list[tuple[str, str]]]:
    """The usable outlines in ``content`` and (what, why) for the unusable ones."""
    try:
        root = etree.fromstring(content, parser=_parser())
    except etree.XMLSyntaxError as error:
        raise OpmlError(f"The file is not well-formed XML: {error}.") from None
    if root is None or etree.QName(root).localname.lower() != "opml":
        raise OpmlError("The file is not OPML (its root element is not <opml>).")
    body = root.find("body")
    if body is None:
        raise OpmlError("The OPML file has no <body>.")
    outlines: list[Outline] = []
    rejected: list[tuple[str, str]] = []
    _walk(body, Source.Category.NEWS, outlines, rejected)
    return outlines, rejected


def _walk(
    parent: etree._Element,
    category: str,
    outlines: list[Outline],
    rejected: list[tuple[str, str]],
) -> None:
    for element in parent.iterchildren("outline"):
        # Attribute values are already text (the XML parser decoded them): keep them as
        # written, "<" included; templates escape names when they show them.
        name = " ".join((element.get("title") or element.get("text") or "").split())[:200]
        kind_hint = (element.get("type") or "").lower()
        url = (element.get("xmlUrl") or element.get("xmlurl") or "").strip()
        if not url and kind_hint == "link":
            url = (element.get("url") or "").strip()
        if not url:
            label = name.lower().strip()
            _walk(element, _CATEGORY_WORDS.get(label, category), outlines, rejected)
            continue
        if not is_web_url(url):
            rejected.append((url, "only http and https URLs can be sources"))
            continue
        if len(url) > MAX_URL_LENGTH:
            rejected.append((url[:80] + "…", "the URL is longer than 2000 characters"))
            continue
        if kind_hint in ("ical", "calendar") or urlsplit(url).path.lower().endswith(".ics"):
            kind = Source.Kind.ICAL
        elif kind_hint == "link" and not element.get("xmlUrl"):
            kind = Source.Kind.PAGE
        else:
            kind = Source.Kind.FEED
        site_url = (element.get("htmlUrl") or element.get("htmlurl") or "").strip()
        outlines.append(
            Outline(
                name=name or urlsplit(url).hostname or url,
                url=url,
                site_url=site_url
                if is_web_url(site_url) and len(site_url) <= MAX_URL_LENGTH
                else "",
                kind=kind,
                category=Source.Category.EVENTS if kind == Source.Kind.ICAL else category,
            )
        )


def import_opml(
    *, content: bytes, progress: Callable[[int, str], None] | None = None
) -> ImportReport:
    """Create a source for each new outline in ``content``; see the module docstring.

    ``progress(total, url)`` is called after each outline is handled.
    """
    outlines, rejected = read_opml(content)
    report = ImportReport(rejected=rejected)
    existing = {canonicalize_url(source.url): source for source in Source.objects.all()}
    with transaction.atomic():
        for outline in outlines:
            key = canonicalize_url(outline.url)
            source = existing.get(key)
            if source is None:
                source = Source.objects.create(
                    name=outline.name,
                    url=outline.url,
                    site_url=outline.site_url,
                    kind=outline.kind,
                    category=outline.category,
                )
                existing[key] = source
                report.created.append(outline.url)
            elif outline.site_url and not source.site_url:
                source.site_url = outline.site_url
                source.save(update_fields=["site_url", "updated_at"])
                report.updated.append(outline.url)
            else:
                report.unchanged.append(outline.url)
            if progress is not None:
                progress(len(outlines), outline.url)
    return report


_OPML_TYPES = {Source.Kind.FEED: "rss", Source.Kind.ICAL: "ical", Source.Kind.PAGE: "link"}


def export_opml(*, sources: Iterable[Source] | None = None, title: str = "Sources") -> str:
    """OPML 2.0 listing ``sources`` (all, by default), grouped by category."""
    sources = list(Source.objects.order_by("category", "name") if sources is None else sources)
    created = timezone.now().strftime("%a, %d %b %Y %H:%M:%S GMT")
    lines = [
        '<?xml version="1.0" encoding="utf-8"?>',
        '<opml version="2.0">',
        f"  <head><title>{_escape(title)}</title><dateCreated>{created}</dateCreated></head>",
        "  <body>",
    ]
    labels = dict(Source.Category.choices)
    for category in Source.Category.values:
        group = [source for source in sources if source.category == category]
        if not group:
            continue
        lines.append(f"    <outline text={quoteattr(str(labels[category]))}>")
        for source in group:
            url_attribute = "url" if source.kind == Source.Kind.PAGE else "xmlUrl"
            attributes = {
                "type": _OPML_TYPES.get(source.kind, "rss"),
                "text": source.name,
                "title": source.name,
                url_attribute: source.url,
            }
            if source.site_url:
                attributes["htmlUrl"] = source.site_url
            rendered = " ".join(f"{name}={quoteattr(value)}" for name, value in attributes.items())
            lines.append(f"      <outline {rendered}/>")
        lines.append("    </outline>")
    lines += ["  </body>", "</opml>"]
    return "\n".join(lines) + "\n"


def _escape(text: str) -> str:
    return quoteattr(text)[1:-1]
