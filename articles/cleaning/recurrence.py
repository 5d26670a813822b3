"""Which paragraphs of an outlet's bodies recur, and the bookkeeping that tells.

A body is cut into paragraphs (blocks); each block, and the closing sentences of the
last one, is a *sighting* at a place (head, tail, middle, closing). Every body cleaned
leaves its sightings in ``BoilerplateSighting`` under its outlet: the registrable
domain of the source's site (public-suffix list), so all feeds of one outlet (news,
analysis, a French feed) learn together. A sighting recurs when it is found in at least
``MIN_RECURRENCE`` of the outlet's ``RECENT_BODIES`` most recent bodies, which are
distinct bodies: a paragraph only one page has never recurs.
``RecentBodies`` keeps those counts in memory for a poll; old sightings are pruned.
What is then removed is decided by ``articles.cleaning.trailers``.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable
from dataclasses import dataclass

import lxml.html
from django.db.models import Count, Max
from lxml import etree

from articles.grouping.canonical import registrable_domain
from articles.models import BoilerplateSighting, Source

# A text is boilerplate when it recurs in this many of the source's recent bodies
# (this one included). Three keeps a coincidence between two articles (a quote both
# repeat) from counting, and still catches a trailer from a source's third article.
MIN_RECURRENCE = 3
# Recent bodies of a source considered; older sightings are deleted.
RECENT_BODIES = 30
# Longest paragraph (in words) that can be a generic trailer or a mid-body repeat.
# Real trailers are one or two sentences; longer paragraphs are left alone.
MAX_TRAILER_WORDS = 60
# How many leading/trailing paragraphs count as the edges.
EDGE_PARAGRAPHS = 3

_WORD = re.compile(r"\w+", re.UNICODE)
_DIGITS = re.compile(r"\d+")
_SPACE = re.compile(r"\s+")
# A sentence ends at . ! ? (and closing quotes) followed by space and a capital or quote.
_SENTENCE_END = re.compile(r"(?<=[.!?…])[\"'”’)]*\s+(?=[\"'“‘(\[]?[A-Z0-9À-Ý])")


@dataclass
class Block:
    """One top-level paragraph of a body: its element, flat text, digest and length."""

    element: etree._Element
    text: str
    digest: str
    words: int


def outlet_of(source: Source) -> str:
    """The outlet whose bodies ``source``'s are counted with: the registrable domain of
    its site (of its feed URL when no site is set)."""
    return registrable_domain(source.site_url or source.url)


def outlet_source_ids(source: Source) -> list[int]:
    """The ids of every source of ``source``'s outlet (itself included)."""
    outlet = outlet_of(source)
    return [
        pk
        for pk, url, site_url in Source.objects.values_list("pk", "url", "site_url")
        if pk == source.pk or registrable_domain(site_url or url) == outlet
    ]


def normalise(text: str) -> str:
    """The text used to compare paragraphs: case-folded words, numbers as '0'."""
    words = _WORD.findall(_DIGITS.sub("0", text.casefold()))
    return " ".join(words)


def text_digest(text: str) -> str:
    return hashlib.blake2b(normalise(text).encode(), digest_size=16).hexdigest()


def digest_of_body(body_html: str) -> str:
    return hashlib.blake2b(body_html.encode(), digest_size=16).hexdigest()


def parse_body(body_html: str) -> etree._Element:
    return lxml.html.fragment_fromstring(body_html or "", create_parent="div")


def body_blocks(root: etree._Element) -> list[Block]:
    blocks = []
    for element in root:
        if not isinstance(element.tag, str):
            continue
        text = _SPACE.sub(" ", "".join(element.itertext())).strip()
        if not text:
            continue
        blocks.append(Block(element, text, text_digest(text), len(text.split())))
    return blocks


def closing_suffixes(text: str) -> list[str]:
    """The last one and two sentences of ``text``, longest first, if others precede them."""
    sentences = [s for s in _SENTENCE_END.split(text) if s.strip()]
    suffixes = []
    for count in (2, 1):
        if len(sentences) > count:
            suffixes.append(" ".join(sentences[-count:]).strip())
    return suffixes


def sightings_of(blocks: list[Block]) -> list[tuple[str, str]]:
    """(place, digest) pairs describing where each block and closing sentence sits."""
    sightings: list[tuple[str, str]] = []
    last = len(blocks) - 1
    for index, block in enumerate(blocks):
        if index >= len(blocks) - EDGE_PARAGRAPHS:
            sightings.append((BoilerplateSighting.Place.TAIL, block.digest))
        if index < EDGE_PARAGRAPHS:
            sightings.append((BoilerplateSighting.Place.HEAD, block.digest))
        if block.words <= MAX_TRAILER_WORDS:
            sightings.append((BoilerplateSighting.Place.MIDDLE, block.digest))
        if index == last:
            for suffix in closing_suffixes(block.text):
                sightings.append((BoilerplateSighting.Place.CLOSING, text_digest(suffix)))
    return sightings


def recurrence_counts(
    *, source: Source, body_digest: str, sightings: list[tuple[str, str]]
) -> dict[tuple[str, str], int]:
    """How many recent bodies of the outlet (this one included) contain each sighting."""
    if not sightings or source.pk is None:
        return {}
    recent_bodies = (
        BoilerplateSighting.objects.filter(outlet=outlet_of(source))
        .exclude(body_digest=body_digest)
        .values("body_digest")
        .annotate(last_seen=Max("seen_at"))
        .order_by("-last_seen")
        .values("body_digest")[:RECENT_BODIES]
    )
    rows = (
        BoilerplateSighting.objects.filter(
            outlet=outlet_of(source),
            digest__in={digest for _, digest in sightings},
            body_digest__in=recent_bodies,
        )
        .values("place", "digest")
        .annotate(bodies=Count("body_digest", distinct=True))
    )
    return {(row["place"], row["digest"]): row["bodies"] + 1 for row in rows}


class RecentBodies:
    """An outlet's most recent bodies and their sightings, read once, then kept up to date
    in memory by every ``clean_body`` call given it.

    For a poll that cleans many bodies of one source: the recurrence counts come from
    memory instead of a query per body, and equal what the database would give, as
    long as nothing else writes the outlet's sightings meanwhile (a concurrent poll of
    another feed of the same outlet may: its bodies then count from the next poll on,
    and a trailer is learnt a few bodies later, never wrongly). When the transaction
    that stored a body rolls back, call ``discard_last`` so the body is not counted.
    """

    def __init__(self, source: Source) -> None:
        self.source = source
        self.outlet = outlet_of(source)
        self._bodies: dict[str, frozenset[tuple[str, str]]] | None = None
        # Every body the source has sightings for (a few dozen: old ones are pruned).
        self._known: set[str] = set()
        self._last: str | None = None

    def _load(self) -> dict[str, frozenset[tuple[str, str]]]:
        if self._bodies is None:
            # One more than counted: the body being cleaned may be among them.
            recent = (
                BoilerplateSighting.objects.filter(outlet=self.outlet)
                .values("body_digest")
                .annotate(last_seen=Max("seen_at"))
                .order_by("-last_seen")
                .values("body_digest")[: RECENT_BODIES + 1]
            )
            rows = BoilerplateSighting.objects.filter(
                outlet=self.outlet, body_digest__in=recent
            ).values_list("body_digest", "place", "digest", "seen_at")
            seen: dict[str, list] = {}
            for body_digest, place, digest, seen_at in rows:
                entry = seen.setdefault(body_digest, [seen_at, set()])
                entry[0] = max(entry[0], seen_at)
                entry[1].add((place, digest))
            ordered = sorted(seen.items(), key=lambda item: (item[1][0], item[0]))
            self._bodies = {body: frozenset(pairs) for body, (_, pairs) in ordered}
            self._known = set(
                BoilerplateSighting.objects.filter(outlet=self.outlet)
                .values_list("body_digest", flat=True)
                .distinct()
            )
        return self._bodies

    def counts(
        self, *, body_digest: str, sightings: list[tuple[str, str]]
    ) -> dict[tuple[str, str], int]:
        """As ``recurrence_counts``: recent other bodies (plus this one) per sighting."""
        bodies = self._load()
        wanted = set(sightings)
        counts: dict[tuple[str, str], int] = {}
        others = [pairs for body, pairs in reversed(bodies.items()) if body != body_digest]
        for pairs in others[:RECENT_BODIES]:
            for key in wanted.intersection(pairs):
                counts[key] = counts.get(key, 1) + 1
        return counts

    def begin(self) -> None:
        """A new body is being cleaned: ``discard_last`` now concerns only that one."""
        self._last = None

    def add(self, *, body_digest: str, sightings: list[tuple[str, str]]) -> None:
        """Remember a body just written (a body already known keeps its place, even an old
        one outside the recent bodies)."""
        bodies = self._load()
        if body_digest in bodies or body_digest in self._known:
            return
        bodies[body_digest] = frozenset(sightings)
        self._known.add(body_digest)
        self._last = body_digest
        while len(bodies) > RECENT_BODIES + 1:
            del bodies[next(iter(bodies))]

    def discard_last(self) -> None:
        """Forget the body the last ``clean_body`` added (its transaction rolled back)."""
        if self._last is not None and self._bodies is not None:
            self._bodies.pop(self._last, None)
            self._known.discard(self._last)
        self._last = None

    def pruned(self) -> None:
        """Old sightings were deleted: read the bodies again when next needed."""
        self._bodies = None
        self._last = None


def remember_body(
    *, source: Source, body_digest: str, sightings: Iterable[tuple[str, str]]
) -> bool:
    """Store the body's sightings; return whether old bodies' sightings were pruned."""
    if source.pk is None:
        return False
    outlet = outlet_of(source)
    BoilerplateSighting.objects.bulk_create(
        [
            BoilerplateSighting(
                source=source, outlet=outlet, body_digest=body_digest, place=place, digest=d
            )
            for place, d in set(sightings)
        ],
        ignore_conflicts=True,
    )
    # Prune now and then (about one body in ten, chosen by digest so it is stable).
    if int(body_digest[:2], 16) % 10 == 0:
        keep = list(
            BoilerplateSighting.objects.filter(outlet=outlet_of(source))
            .values("body_digest")
            .annotate(last_seen=Max("seen_at"))
            .order_by("-last_seen")
            .values_list("body_digest", flat=True)[: RECENT_BODIES * 2]
        )
        BoilerplateSighting.objects.filter(outlet=outlet_of(source)).exclude(
            body_digest__in=keep
        ).delete()
        return True
    return False


def stored_counts(*, source: Source, digests: set[str]) -> dict[tuple[str, str], int]:
    """How many of the outlet's recent stored bodies contain each (place, digest) among
    ``digests``, from the database (used to clean stored articles again)."""
    recent_bodies = (
        BoilerplateSighting.objects.filter(outlet=outlet_of(source))
        .values("body_digest")
        .annotate(last_seen=Max("seen_at"))
        .order_by("-last_seen")
        .values("body_digest")[:RECENT_BODIES]
    )
    return {
        (row["place"], row["digest"]): row["bodies"]
        for row in BoilerplateSighting.objects.filter(
            outlet=outlet_of(source), digest__in=digests, body_digest__in=recent_bodies
        )
        .values("place", "digest")
        .annotate(bodies=Count("body_digest", distinct=True))
    }
