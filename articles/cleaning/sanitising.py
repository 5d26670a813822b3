"""The one sanitiser for HTML that came from outside, and plain-text helpers.

Everything a feed or an article page gives us passes through ``sanitize_html``
(or, for plain text, ``plain_text`` / ``xml_safe``) before it is stored, which
also removes every character XML 1.0 forbids (C0 controls other than tab and
line breaks, lone surrogates, U+FFFE/U+FFFF) so no stored text can break the
site's own feeds. HTML gets: a strict allowlist (nh3/ammonia), http/https/mailto URLs
only, relative URLs resolved against the page they came from, and the content
of script-like elements dropped entirely rather than shown as text.
"""

from __future__ import annotations

import re

import lxml.html
import nh3

from digest.core.links import is_web_url

ALLOWED_TAGS: frozenset[str] = frozenset(
    {
        "p", "br", "hr", "a", "ul", "ol", "li", "dl", "dt", "dd", "blockquote", "q", "cite",
        "em", "strong", "b", "i", "u", "s", "del", "ins", "mark", "small", "sub", "sup",
        "abbr", "h2", "h3", "h4", "figure", "figcaption", "img", "code", "pre",
        "table", "caption", "thead", "tbody", "tfoot", "tr", "th", "td",
    }
)  # fmt: skip

ALLOWED_ATTRIBUTES: dict[str, set[str]] = {
    "a": {"href", "title"},
    "img": {"src", "alt", "title"},
    "abbr": {"title"},
    "th": {"colspan", "rowspan", "scope"},
    "td": {"colspan", "rowspan"},
    "ol": {"start"},
}

ALLOWED_URL_SCHEMES: frozenset[str] = frozenset({"http", "https", "mailto"})

# Elements whose whole content goes, not only the tags: code, embedded documents,
# foreign markup (svg/math are where parser-differential tricks live), forms and
# fallback text that is meaningless out of place.
DROPPED_WITH_CONTENT: frozenset[str] = frozenset(
    {
        "script", "style", "template", "noscript", "iframe", "frame", "frameset", "object",
        "embed", "applet", "svg", "math", "canvas", "audio", "video", "form", "button",
        "select", "textarea", "head", "title",
    }
)  # fmt: skip

LINK_REL = "noopener noreferrer nofollow"

# nh3 always serialises attributes double-quoted with '"' escaped, so this matches
# exactly one serialised <img> element.
_IMG_TAG = re.compile(r'<img(?:\s+[a-z-]+="[^"]*")*\s*/?>')

_BLOCK_TAGS = frozenset(
    {
        "p", "div", "blockquote", "pre", "h1", "h2", "h3", "h4", "h5", "h6", "ul", "ol",
        "li", "dl", "dt", "dd", "figure", "figcaption", "table", "caption", "tr", "hr",
        "section", "article", "header", "footer", "aside", "main", "address",
    }
)  # fmt: skip
_TEXT_TAGS = _BLOCK_TAGS | {"br", "td", "th", "thead", "tbody", "tfoot"} | ALLOWED_TAGS
# Marks a <br> while a block's text is collected; a private-use character, so it is
# neither whitespace nor anything a page could plausibly contain.
_BR = "\ue000"


# Characters XML 1.0 does not allow at all (a feed writer refuses them).
_XML_FORBIDDEN = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


def collapse_whitespace(value: str) -> str:
    """``value`` with each run of whitespace made one space, none at either end."""
    # str.split() and the pattern \s+ know the same whitespace characters (all of them
    # checked); splitting is several times faster than substituting the pattern.
    return " ".join(value.split())


def xml_safe(value: str) -> str:
    """``value`` without the characters XML 1.0 forbids; everything else kept as it is."""
    if not value:
        return value
    return _XML_FORBIDDEN.sub("", value)


def _http_base(base_url: str | None) -> str | None:
    if not base_url:
        return None
    if not is_web_url(base_url):
        return None
    return base_url.strip()


def _cleaner(base_url: str | None) -> nh3.Cleaner:
    # Without a trustworthy base a relative URL would point into our own site: drop it.
    relative = ("rewrite_with_base", base_url) if base_url else "deny"
    return nh3.Cleaner(
        tags=set(ALLOWED_TAGS),
        clean_content_tags=set(DROPPED_WITH_CONTENT),
        attributes={tag: set(names) for tag, names in ALLOWED_ATTRIBUTES.items()},
        url_schemes=set(ALLOWED_URL_SCHEMES),
        url_relative=relative,
        link_rel=LINK_REL,
        strip_comments=True,
        set_tag_attribute_values={"img": {"loading": "lazy", "referrerpolicy": "no-referrer"}},
    )


def _drop_img_without_src(match: re.Match[str]) -> str:
    return match.group(0) if ' src="' in match.group(0) else ""


def sanitize_html(html: str, *, base_url: str | None = None) -> str:
    """Return ``html`` reduced to the project's allowlist, safe to store and show.

    Promises: only ``ALLOWED_TAGS`` with ``ALLOWED_ATTRIBUTES`` survive; no event
    handler or style attribute; every ``href``/``src`` is http, https or mailto
    (``javascript:``, ``data:``, ``file:`` … are removed however they are spelled);
    relative URLs are made absolute against ``base_url`` (an http/https URL) or
    removed when there is none; links carry ``rel="noopener noreferrer nofollow"``;
    script, style, iframe, object, embed, svg, math, form … vanish with their content;
    an image left without a usable ``src`` is removed.
    """
    if not html:
        return ""
    # Before cleaning: a character reference such as &#26; decodes to a forbidden one.
    cleaned = xml_safe(_cleaner(_http_base(base_url)).clean(xml_safe(html)))
    return _IMG_TAG.sub(_drop_img_without_src, cleaned).strip()


def _text_cleaner() -> nh3.Cleaner:
    return nh3.Cleaner(
        tags=set(_TEXT_TAGS),
        clean_content_tags=set(DROPPED_WITH_CONTENT),
        attributes={},
        link_rel=None,
        strip_comments=True,
    )


_TEXT_CLEANER = _text_cleaner()


def _blocks(element: lxml.html.HtmlElement) -> list[str]:
    """Walk ``element`` and return its text as a list of blocks (paragraph-ish units)."""
    blocks: list[str] = []
    current: list[str] = []

    def flush() -> None:
        lines = (collapse_whitespace(line) for line in "".join(current).split(_BR))
        text = "\n".join(line for line in lines if line)
        if text:
            blocks.append(text)
        current.clear()

    def walk(node: lxml.html.HtmlElement) -> None:
        tag = node.tag if isinstance(node.tag, str) else ""
        if tag == "br":
            # A line break inside a paragraph: keep it as a newline, not a new block.
            current.append(_BR)
        elif tag in _BLOCK_TAGS:
            flush()
            if tag == "li":
                current.append("- ")
        if node.text:
            current.append(node.text)
        for child in node:
            walk(child)
            if child.tail:
                current.append(child.tail)
        if tag in _BLOCK_TAGS:
            flush()
        elif tag in ("td", "th"):
            current.append(" ")

    walk(element)
    flush()
    return blocks


def html_to_text(html: str) -> str:
    """Return the readable plain text of ``html``.

    Block elements (paragraphs, headings, list items, table rows …) become
    paragraphs separated by one blank line; ``<br>`` becomes a line break; list
    items start with "- "; whitespace inside a paragraph is collapsed; script-like
    content is dropped. Entities are decoded: the result is text, not HTML.
    """
    if not html or not html.strip():
        return ""
    # Sanitising first gives lxml well-formed, already-escaped input to walk.
    cleaned = xml_safe(_TEXT_CLEANER.clean(xml_safe(html)))
    if not cleaned.strip():
        return ""
    root = lxml.html.fragment_fromstring(cleaned, create_parent="div")
    return xml_safe("\n\n".join(_blocks(root)))


def plain_text(value: str) -> str:
    """Return ``value`` (a title, a name, an author) as one line of plain text.

    Tags are removed (script-like elements with their content), entities decoded,
    and all whitespace collapsed to single spaces; characters XML forbids are
    removed. The result is not escaped: escaping is the template's job when it is
    shown.
    """
    if not value:
        return ""
    if "<" not in value and "&" not in value:
        return collapse_whitespace(xml_safe(value))
    text = html_to_text(value)
    # html_to_text decodes entities once; a second literal "&amp;" stays as written.
    return collapse_whitespace(text)
