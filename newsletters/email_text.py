"""The issue's plain-text part: a letter a reader can use without the HTML.

Lines are wrapped at 72 columns; every link becomes a numbered reference
("… the AI Office [1] …") listed under its section ("[1] https://…"), so the
text carries every address of the letter and the items; each story names its
source; events give their dates, their times in the display zones and their
page on the site. URLs and the per-recipient markers are never broken across
lines.
"""

from __future__ import annotations

import textwrap
from collections.abc import Iterable

import lxml.html

from articles.cleaning.sanitising import html_to_text

WIDTH = 72


def _wrap(text: str, *, indent: str = "") -> str:
    """Each paragraph of ``text`` filled to ``WIDTH``; words and URLs never split."""
    paragraphs = [p for p in text.split("\n\n") if p.strip()]
    filled = []
    for paragraph in paragraphs:
        lines = [line for line in paragraph.split("\n") if line.strip()]
        filled.append(
            "\n".join(
                textwrap.fill(
                    " ".join(line.split()),
                    width=WIDTH,
                    initial_indent=indent,
                    subsequent_indent=indent + ("  " if line.lstrip().startswith("- ") else ""),
                    break_long_words=False,
                    break_on_hyphens=False,
                )
                for line in lines
            )
        )
    return "\n\n".join(filled)


class References:
    """Numbered links, shared across the whole text so each number means one address."""

    def __init__(self) -> None:
        self.numbers: dict[str, int] = {}
        self.pending: list[int] = []

    def number(self, url: str) -> int:
        if url not in self.numbers:
            self.numbers[url] = len(self.numbers) + 1
        number = self.numbers[url]
        if number not in self.pending:
            self.pending.append(number)
        return number

    def flush(self) -> str:
        """The references used since the last flush, one per line, then forget them."""
        by_number = {number: url for url, number in self.numbers.items()}
        lines = [f"[{number}] {by_number[number]}" for number in self.pending]
        self.pending = []
        return "\n".join(lines)


def letter_with_references(letter_html: str, references: References) -> str:
    """The letter's text with each web link replaced by its reference number."""
    if not letter_html.strip():
        return ""
    root = lxml.html.fragment_fromstring(letter_html, create_parent="div")
    for anchor in root.iter("a"):
        href = (anchor.get("href") or "").strip()
        if not href.startswith(("http://", "https://")):
            continue  # footnote jumps ("#fn:1") and mailto: need no reference
        anchor.tail = f" [{references.number(href)}]" + (anchor.tail or "")
    return html_to_text(lxml.html.tostring(root, encoding="unicode"))


def _item_text(item, references: References) -> str:
    headline = item.headline + (f" [{references.number(item.url)}]" if item.url else "")
    lines = [_wrap(headline)]
    if item.source_name:
        lines.append(_wrap(item.source_name, indent="  "))
    if item.when:
        schedule = " · ".join(p for p in (item.when, item.zoned_times, item.duration) if p)
        lines.append(_wrap(schedule, indent="  "))
        if item.place:
            lines.append(_wrap(item.place, indent="  "))
    if item.blurb_text:
        lines.append(_wrap(item.blurb_text, indent="  "))
    return "\n".join(lines)


def _section_text(title: str, items: Iterable, references: References) -> str:
    heading = title.upper()
    blocks = [f"{heading}\n{'=' * len(heading)}"]
    blocks.extend(_item_text(item, references) for item in items)
    listed = references.flush()
    if listed:
        blocks.append(listed)
    return "\n\n".join(blocks)


def issue_text(*, context: dict) -> str:
    """The plain-text part for the same ``context`` the HTML template gets."""
    issue = context["issue"]
    references = References()
    title = f"#{issue.number}" + (f" – {issue.title}" if issue.title else "")
    blocks = [
        "\n".join(
            [
                context["site_name"].upper(),
                _wrap(title),
                context["period"],
                f"View in your browser: {context['web_url']}",
            ]
        )
    ]
    if context["chosen_topics"]:
        names = ", ".join(topic.name for topic in context["chosen_topics"])
        blocks.append(
            _wrap(f"Your topic digest: the letter and the Radar stories on {names}.")
            + f"\nChange your topics: {context['preferences_url']}"
        )
    letter = letter_with_references(context["letter_html"], references)
    if letter:
        letter_block = _wrap(letter) + "\n\n" + _wrap(context["sign_off"])
        listed = references.flush()
        blocks.append(letter_block + ("\n\n" + listed if listed else ""))
    for section in context["sections"]:
        blocks.append(_section_text(section["title"], section["items"], references))
    footer = [
        "-- ",
        _wrap(context["reason"]),
        _wrap(context["postal_address"]) if context["postal_address"] else "",
        f"Choose topics or pause: {context['preferences_url']}",
        f"Unsubscribe: {context['unsubscribe_url']}",
    ]
    blocks.append("\n".join(line for line in footer if line))
    return "\n\n".join(blocks) + "\n"
