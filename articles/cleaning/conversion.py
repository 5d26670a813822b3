"""Turning trafilatura's XML body into the project's HTML body.

trafilatura describes a body in its own XML (p, head, hi, list/item, ref, quote, table,
graphic, …); ``xml_to_html`` maps each element to its HTML equivalent and keeps the
text and children of anything it does not know. Nothing here judges what is article
text: that is ``articles.cleaning.furniture`` and ``articles.cleaning.agreement``.
"""

from __future__ import annotations

from lxml import etree

_HEADINGS = {"h1": "h2", "h2": "h2", "h3": "h3", "h4": "h4", "h5": "h4", "h6": "h4"}


_HI_TAGS = {"#b": "strong", "#i": "em", "#u": "u", "#t": "code", "#sub": "sub", "#sup": "sup"}


_SIMPLE_TAGS = {
    "p": "p",
    "quote": "blockquote",
    "del": "del",
    "item": "li",
    "table": "table",
    "row": "tr",
    "lb": "br",
}


def _convert(source: etree._Element, target: etree._Element) -> None:
    """Append HTML equivalents of trafilatura's XML ``source`` children to ``target``."""
    for child in source:
        tag = child.tag if isinstance(child.tag, str) else ""
        new: etree._Element | None
        if tag == "head":
            new = etree.SubElement(target, _HEADINGS.get(child.get("rend", ""), "h3"))
        elif tag == "hi":
            new = etree.SubElement(target, _HI_TAGS.get(child.get("rend", ""), "em"))
        elif tag == "list":
            new = etree.SubElement(target, "ol" if child.get("rend") == "ol" else "ul")
        elif tag == "ref":
            new = etree.SubElement(target, "a")
            if child.get("target"):
                new.set("href", child.get("target"))
        elif tag == "graphic":
            new = etree.SubElement(target, "img")
            for name in ("src", "alt", "title"):
                if child.get(name):
                    new.set(name, child.get(name))
        elif tag == "cell":
            new = etree.SubElement(target, "th" if child.get("role") == "head" else "td")
        elif tag == "code":
            # A code element directly in the body is a block.
            new = etree.SubElement(target, "pre" if source.tag == "body" else "code")
        elif tag in _SIMPLE_TAGS:
            new = etree.SubElement(target, _SIMPLE_TAGS[tag])
        else:
            new = None

        if new is None:
            # Unknown element: keep its text and children in place, drop the wrapper.
            _append_text(target, child.text)
            _convert(child, target)
        else:
            new.text = child.text
            _convert(child, new)
        _append_text(target, child.tail)


def _append_text(target: etree._Element, text: str | None) -> None:
    if not text:
        return
    if len(target):
        target[-1].tail = (target[-1].tail or "") + text
    else:
        target.text = (target.text or "") + text


def xml_to_html(body: etree._Element) -> etree._Element:
    """A ``div`` holding the HTML equivalent of trafilatura's XML ``body``."""
    container = etree.Element("div")
    _convert(body, container)
    return container


def serialise(container: etree._Element) -> str:
    """The HTML of ``container``'s content (its children and their text)."""
    return (container.text or "") + "".join(
        etree.tostring(element, method="html", encoding="unicode", with_tail=True)
        for element in container
    )
