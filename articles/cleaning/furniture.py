"""Page furniture an extractor leaves in a body, found by its shape and removed.

Works on a body converted to HTML (a ``div`` whose children are the blocks: paragraphs,
headings, lists, quotes) before it is sanitised and stored. What goes:

- the page's own headline, when it repeats the article's title (with a section or site
  label around it, "Opinion | …"), and the short kicker lines above it;
- a standfirst that only repeats the start of a paragraph right after it (a teaser);
- related-story links: a short block (or a list of them) that is nothing but links to
  other pages of the same outlet, possibly behind a label ("Read more:", "Related:",
  "SEE MORE"). A link to another site is a source the story cites, and stays.

Nothing is judged by site or page: only by position, wording of labels, and links.
"""

from __future__ import annotations

import functools
import re

from lxml import etree

from articles.cleaning.sanitising import collapse_whitespace, plain_text
from articles.grouping.canonical import registrable_domain

# The headline is looked for among this many leading blocks, behind lines of at most
# KICKER_MAX_WORDS words.
HEADLINE_WITHIN = 3
KICKER_MAX_WORDS = 6
# A related-story block is at most this long; longer blocks with links are prose.
RELATED_MAX_WORDS = 30
# Share of a block's characters inside links for it to count as links only.
RELATED_LINK_SHARE = 0.9

_WORDS = re.compile(r"\w+")
# Labels that introduce a link to another story of the outlet.
_RELATED_LABEL = re.compile(
    r"^\W*(related( articles?| stories| posts?| coverage| content)?|read (more|also|next)|"
    r"see (more|also)|also read|also on [\w.]+|more on this( story)?|recommended|"
    r"don'?t miss|trending|watch|more)\b\W*",
    re.IGNORECASE,
)
_BLOCKS = {"p", "h2", "h3", "h4", "blockquote"}
# A page links to the same few hosts again and again; the public-suffix lookup is cached.
_outlet_of_link = functools.lru_cache(maxsize=4096)(registrable_domain)
_LISTS = {"ul", "ol"}


def block_text(element: etree._Element) -> str:
    """The block's text, whitespace collapsed."""
    return collapse_whitespace("".join(element.itertext()))


def drop(element: etree._Element) -> None:
    """Remove ``element`` from its parent, keeping the text that follows it."""
    parent = element.getparent()
    tail = element.tail
    if tail and tail.strip():
        previous = element.getprevious()
        if previous is not None:
            previous.tail = (previous.tail or "") + tail
        else:
            parent.text = (parent.text or "") + tail
    parent.remove(element)


def _words(text: str) -> list[str]:
    return _WORDS.findall(text.casefold())


def _is_headline(text: str, title: str) -> bool:
    """Whether a heading's text is the title, or the title inside a section/site label."""
    heading, full = _words(text), _words(title)
    if not heading or not full:
        return False
    if heading == full:
        return True
    # "Opinion | Is Football Violence a Crime?" has the heading "Is Football Violence…".
    n = len(heading)
    return (
        n >= 3
        and n >= len(full) / 2
        and any(full[start : start + n] == heading for start in (0, len(full) - n))
    )


def drop_headline(container: etree._Element, *, title: str) -> None:
    """Remove the leading headline that repeats ``title``, and kicker lines above it."""
    if not title:
        return
    for index, element in enumerate(container[:HEADLINE_WITHIN]):
        text = plain_text("".join(element.itertext()))
        if element.tag == "h2" and _is_headline(text, title):
            for earlier in list(container[: index + 1]):
                drop(earlier)
            return
        if len(text.split()) > KICKER_MAX_WORDS:
            return


def drop_teasers(container: etree._Element) -> None:
    """Remove a leading standfirst that only repeats the start of a paragraph after it
    ("The Commission said on…"): the paragraph itself follows."""
    for element in list(container[:HEADLINE_WITHIN]):
        teaser = plain_text("".join(element.itertext())).rstrip(".… ")
        if len(teaser.split()) < 5:
            continue
        later = element.getnext()
        for _ in range(2):
            if later is None:
                break
            if plain_text("".join(later.itertext())).startswith(teaser):
                drop(element)
                break
            later = later.getnext()


def is_related_link(element: etree._Element, *, outlet: str) -> bool:
    """Whether a block is a link (or links) to other pages of ``outlet`` and little else."""
    text = block_text(element)
    if not text or not outlet or len(text.split()) > RELATED_MAX_WORDS:
        return False
    linked = 0
    for link in element.iter("a"):
        link_text = block_text(link)
        if not link_text:
            continue
        if _outlet_of_link(link.get("href") or "") != outlet:
            return False
        linked += len(link_text)
    if not linked:
        return False
    if linked >= RELATED_LINK_SHARE * len(text):
        return True
    label = _RELATED_LABEL.match(text)
    rest = len(text) - label.end() if label else 0
    return rest > 0 and linked >= 0.8 * rest


def drop_related_links(container: etree._Element, *, page_url: str) -> list[str]:
    """Remove related-story blocks and lists; return the text of each removed."""
    outlet = registrable_domain(page_url)
    removed: list[str] = []
    for element in list(container):
        tag = element.tag if isinstance(element.tag, str) else ""
        if tag in _LISTS:
            items = [item for item in element if isinstance(item.tag, str)]
            if not items or not all(is_related_link(item, outlet=outlet) for item in items):
                continue
        elif tag not in _BLOCKS or not is_related_link(element, outlet=outlet):
            continue
        removed.append(block_text(element))
        drop(element)
    return removed
