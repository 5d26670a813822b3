"""The reader's query language, parsed once and written out for each search backend.

The language is a subset every backend can honour: words (all must match), ``"a
phrase"``, ``-word`` or ``-"a phrase"`` to leave matches out, and ``or`` between words
for either. As in PostgreSQL's ``websearch_to_tsquery``, ``or`` binds looser than the
implied "and": ``eu ai or chips fine`` is (eu and ai) or (chips and fine). A group made
only of exclusions is dropped (it would match almost everything and no index can find
"everything but"); a word with no letter or digit is dropped. The parse never fails.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

# A phrase in double quotes (closed or not), or a run of anything else but spaces.
_TOKEN = re.compile(r'(-*)"([^"]*)"?|([^\s"]+)')


@dataclass(frozen=True)
class Term:
    """A word or phrase: its words, and whether matches containing it are left out."""

    words: tuple[str, ...]
    excluded: bool = False

    @property
    def is_phrase(self) -> bool:
        return len(self.words) > 1


@dataclass(frozen=True)
class ParsedQuery:
    """Groups of terms: a document matches when every term of any one group matches."""

    groups: tuple[tuple[Term, ...], ...] = field(default_factory=tuple)

    @property
    def is_empty(self) -> bool:
        return not self.groups

    def words(self) -> list[str]:
        """Every word the reader wants found (not the excluded ones), for highlighting."""
        wanted = [term for group in self.groups for term in group if not term.excluded]
        return [word for term in wanted for word in term.words]


def _words_of(text: str) -> tuple[str, ...]:
    return tuple(word for word in text.split() if any(char.isalnum() for char in word))


def parse_query(text: str) -> ParsedQuery:
    """Parse a cleaned query; anything parses (stray quotes, lone minus signs, symbols)."""
    groups: list[tuple[Term, ...]] = []
    current: list[Term] = []
    for match in _TOKEN.finditer(text):
        minus, phrase, bare = match.groups()
        if bare is not None:
            if bare.lower() == "or":
                if current:
                    groups.append(tuple(current))
                current = []
                continue
            excluded = bare.startswith("-")
            words = _words_of(bare.lstrip("-"))
        else:
            excluded = bool(minus)
            words = _words_of(phrase)
        if words:
            current.append(Term(words=words, excluded=excluded))
    if current:
        groups.append(tuple(current))
    kept = tuple(group for group in groups if any(not term.excluded for term in group))
    return ParsedQuery(groups=kept)


def to_websearch(parsed: ParsedQuery) -> str:
    """The query as ``websearch_to_tsquery`` text: the same meaning, nothing else in it."""

    def term_text(term: Term) -> str:
        # A phrase, or the word "or" (which would read as the operator), goes in quotes.
        quote = term.is_phrase or term.words[0].lower() == "or"
        body = f'"{" ".join(term.words)}"' if quote else term.words[0]
        return f"-{body}" if term.excluded else body

    return " or ".join(" ".join(term_text(term) for term in group) for group in parsed.groups)


def to_fts5(parsed: ParsedQuery) -> str:
    """The query as an FTS5 MATCH expression; every word is a quoted string, so no word
    of the reader's can become FTS5 syntax (column filters, ``NEAR``, ``*``)."""

    def quoted(term: Term) -> str:
        return '"' + " ".join(word.replace('"', '""') for word in term.words) + '"'

    groups = []
    for group in parsed.groups:
        wanted = " AND ".join(quoted(term) for term in group if not term.excluded)
        unwanted = "".join(f" NOT {quoted(term)}" for term in group if term.excluded)
        groups.append(f"({wanted}{unwanted})")
    return " OR ".join(groups)
