"""Removing promotional trailers and recurring boilerplate from article bodies.

What goes, and only this:

- paragraphs at the edges of a body (a leading or trailing run) whose normalised
  text recurs at the same edge across at least ``MIN_RECURRENCE`` of the outlet's
  recent bodies, every feed of one registrable domain together (learnt without
  configuration; the counting is ``articles.cleaning.recurrence``);
- short paragraphs in the middle that recur verbatim across that many bodies;
- closing sentences of the last paragraph that recur the same way;
- short edge paragraphs (or closing sentences) matching a small built-in list of
  generic trailers (newsletter, chatbot, cookie, share lines). A copyright line is not
  one of them: inside an article it is the publisher's text (the Zyte benchmark's
  ground truth keeps it); an outlet that repeats it on every page loses it by recurrence;
- paragraphs matching one of the source's own ``strip_patterns``, anywhere.

Story text is protected by construction: detection is by whole paragraphs or
sentences, edge runs stop at the first paragraph that is not boilerplate, and
long paragraphs are never taken for generic trailers or mid-body repeats.

The first bodies of a new outlet cannot show recurrence yet. When a text first
reaches the recurrence threshold, the outlet's recent stored articles (of all its
feeds) are cleaned again, so the earliest articles lose their trailer too.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass, field

import regex
from lxml import etree

from articles.cleaning.furniture import drop
from articles.cleaning.recurrence import (
    MAX_TRAILER_WORDS,
    MIN_RECURRENCE,
    RECENT_BODIES,
    Block,
    RecentBodies,
    body_blocks,
    closing_suffixes,
    digest_of_body,
    outlet_source_ids,
    parse_body,
    recurrence_counts,
    remember_body,
    sightings_of,
    stored_counts,
    text_digest,
)
from articles.cleaning.sanitising import html_to_text
from articles.models import Article, BoilerplateSighting, Source

logger = logging.getLogger(__name__)

# Editor patterns: longer ones are ignored, each match gets this long before it is
# abandoned (the ``regex`` module enforces it), and only this much of a paragraph is
# searched. Together they bound the cost of a pathological pattern.
MAX_PATTERN_LENGTH = 300
PATTERN_TIMEOUT_SECONDS = 0.05
MAX_PATTERN_SUBJECT = 5000

_I = re.IGNORECASE
# Matched against the whole normalised text of a short paragraph or closing sentences.
GENERIC_TRAILERS: tuple[re.Pattern[str], ...] = (
    re.compile(r"would you like to (learn|know|read|find out) more about .{1,150}\? "
               r"if so,? .{0,80}\b(ask|chat with|talk to|try) (our|the) .{0,60}\b"
               r"(chatbot|assistant|bot)\b.{0,20}", _I),
    re.compile(r"(subscribe|sign up|register)( now| today| here)? (to|for) (our|the) "
               r"((free|daily|weekly|monthly|e-?mail) ){0,3}(newsletter|digest|briefing|"
               r"mailing list|updates)\b.{0,120}", _I),
    re.compile(r"(subscribe|sign up|register)( now| today| here)? (to|for) .{1,60}? "
               r"(today |now )?to (get|receive) .{0,40}\b(newsletter|briefing)\b.{0,80}", _I),
    re.compile(r"(like|liked|enjoy|enjoyed) this (story|article|post)\?? share it"
               r"( with (a friend|your friends))?[.!]?", _I),
    re.compile(r"follow [\w .'’-]{1,40} on (instagram|facebook|twitter|x|youtube|linkedin|"
               r"tiktok)((,| and|, and) (instagram|facebook|twitter|x|youtube|linkedin|tiktok))*"
               r"( (for|to get) .{0,40})?[.!]?", _I),
    re.compile(r"(get|receive) (our|the) (latest |free |daily |weekly )?(news|stories|"
               r"newsletter|updates)( delivered)? (straight |directly )?(to|in) your "
               r"(inbox|e-?mail)\b.{0,80}", _I),
    re.compile(r"share (this|the) (article|story|post|page)\b.{0,60}", _I),
    re.compile(r"(share|share on|follow us on|like us on)( facebook| x| twitter| linkedin"
               r"| whatsapp| email| bluesky| mastodon)+\b.{0,40}", _I),
    re.compile(r"(we|this (web)?site|our (web)?site) uses? cookies( and similar "
               r"technologies)?,? (to|so that|in order to) (improve|enhance|personali[sz]e|give|"
               r"ensure|provide|offer|analy[sz]e|make)\b.{0,200}", _I),
    re.compile(r"by (continuing to (use|browse)|using) (this|our) (web)?site,? you "
               r"(agree|consent) to (the|our) use of cookies\b.{0,100}", _I),
    re.compile(r"(accept|manage|reject|allow)( all)? cookies( settings| preferences)?\.?", _I),
    re.compile(r"(advertisement|sponsored content|skip advertisement)", _I),
)  # fmt: skip

_SPACE = re.compile(r"\s+")
_CATASTROPHIC = re.compile(r"\((?:[^()\\]|\\.)*[+*}](?:[^()\\]|\\.)*\)\s*[+*{]")


@dataclass
class CleanedBody:
    html: str
    text: str
    removed: list[str] = field(default_factory=list)


def is_generic_trailer(text: str) -> bool:
    """Whether ``text`` (a whole short paragraph) is one of the built-in generic trailers."""
    flat = _SPACE.sub(" ", text).strip()
    if not flat or len(flat.split()) > MAX_TRAILER_WORDS:
        return False
    return any(pattern.fullmatch(flat) for pattern in GENERIC_TRAILERS)


def compile_strip_patterns(source: Source) -> list[regex.Pattern]:
    """The source's editor patterns, compiled; bad or dangerous ones logged and skipped."""
    patterns: list[regex.Pattern] = []
    for line in (source.strip_patterns or "").splitlines():
        text = line.strip()
        if not text:
            continue
        if len(text) > MAX_PATTERN_LENGTH:
            logger.warning(
                "Source %s: strip pattern longer than %d ignored", source.pk, MAX_PATTERN_LENGTH
            )
            continue
        if _CATASTROPHIC.search(text):
            logger.warning(
                "Source %s: strip pattern %r has nested repeats; ignored", source.pk, text
            )
            continue
        try:
            pattern = regex.compile(text, regex.IGNORECASE | regex.V0)
        except (regex.error, ValueError, OverflowError, RecursionError) as error:
            logger.warning(
                "Source %s: invalid strip pattern %r ignored: %s", source.pk, text, error
            )
            continue
        if pattern.search("", timeout=PATTERN_TIMEOUT_SECONDS) is not None:
            # A pattern matching the empty string would match every paragraph.
            logger.warning(
                "Source %s: strip pattern %r matches nothing at all; ignored", source.pk, text
            )
            continue
        patterns.append(pattern)
    return patterns


def _matches_editor_pattern(patterns: list[regex.Pattern], text: str) -> bool:
    subject = _SPACE.sub(" ", text).strip()[:MAX_PATTERN_SUBJECT]
    for pattern in patterns:
        try:
            if pattern.search(subject, timeout=PATTERN_TIMEOUT_SECONDS):
                return True
        except TimeoutError:
            logger.warning("Strip pattern %r timed out; skipped", pattern.pattern)
    return False


def _cut_closing(element: etree._Element, suffix: str) -> bool:
    """Remove the sentences ``suffix`` from the end of ``element`` if they sit in its last
    text node; return whether anything was cut."""
    if len(element):
        holder, attribute = element[-1], "tail"
    else:
        holder, attribute = element, "text"
    current = getattr(holder, attribute) or ""
    stripped = current.rstrip()
    flat_suffix = _SPACE.sub(" ", suffix).strip()
    flat_current = _SPACE.sub(" ", stripped)
    if (
        not flat_current.endswith(flat_suffix)
        or flat_current == flat_suffix
        and attribute == "text"
    ):
        return False
    # Find the suffix in the original (not whitespace-collapsed) string.
    pattern = r"\s*" + r"\s+".join(re.escape(word) for word in flat_suffix.split(" ")) + r"\s*$"
    match = re.search(pattern, current)
    if not match:
        return False
    setattr(holder, attribute, current[: match.start()])
    return True


@dataclass
class _Decision:
    blocks: list[Block]
    counts: dict[tuple[str, str], int]
    editor_patterns: list[regex.Pattern]
    removed: list[str] = field(default_factory=list)

    def recurs(self, place: str, digest: str) -> bool:
        return self.counts.get((place, digest), 0) >= MIN_RECURRENCE

    def apply(self) -> None:
        """Remove boilerplate blocks from the parsed tree, recording their text."""
        blocks = self.blocks
        doomed: set[int] = set()
        Place = BoilerplateSighting.Place
        # Editor patterns apply to every paragraph.
        for index, block in enumerate(blocks):
            if self.editor_patterns and _matches_editor_pattern(self.editor_patterns, block.text):
                doomed.add(index)
        # Trailing run, from the end, stopping at the first paragraph of story text.
        for index in range(len(blocks) - 1, -1, -1):
            block = blocks[index]
            if index in doomed:
                continue
            if self.recurs(Place.TAIL, block.digest) or is_generic_trailer(block.text):
                doomed.add(index)
            else:
                break
        # Leading run.
        for index, block in enumerate(blocks):
            if index in doomed:
                continue
            if self.recurs(Place.HEAD, block.digest) or is_generic_trailer(block.text):
                doomed.add(index)
            else:
                break
        # Short paragraphs repeated verbatim elsewhere in the body.
        for index, block in enumerate(blocks):
            if (
                index not in doomed
                and block.words <= MAX_TRAILER_WORDS
                and self.recurs(Place.MIDDLE, block.digest)
            ):
                doomed.add(index)
        if len(doomed) == len(blocks):
            # Everything looks like boilerplate: that is a page we misunderstand, not an
            # article made of trailers. Keep it as it is rather than store nothing.
            logger.info("Boilerplate matched every paragraph; body left unchanged")
            return
        for index in sorted(doomed):
            block = blocks[index]
            self.removed.append(block.text)
            drop(block.element)
        # Closing sentences of what is now the last paragraph.
        remaining = [block for index, block in enumerate(blocks) if index not in doomed]
        last = remaining[-1]
        for suffix in closing_suffixes(last.text):
            if (
                self.recurs(Place.CLOSING, text_digest(suffix)) or is_generic_trailer(suffix)
            ) and _cut_closing(last.element, suffix):
                self.removed.append(suffix)
                break


def _serialise(root: etree._Element) -> str:
    html = (root.text or "") + "".join(
        etree.tostring(child, method="html", encoding="unicode", with_tail=True) for child in root
    )
    return html.strip()


def _clean(
    *,
    body_html: str,
    counts: dict[tuple[str, str], int],
    editor_patterns: list[regex.Pattern],
    parsed: tuple[etree._Element, list[Block]] | None = None,
) -> CleanedBody:
    if parsed is None:
        root = parse_body(body_html)
        parsed = root, body_blocks(root)
    root, blocks = parsed
    if not blocks:
        return CleanedBody(html=body_html, text=html_to_text(body_html), removed=[])
    decision = _Decision(blocks=blocks, counts=counts, editor_patterns=editor_patterns)
    decision.apply()
    if not decision.removed:
        return CleanedBody(html=body_html, text=html_to_text(body_html), removed=[])
    html = _serialise(root)
    return CleanedBody(html=html, text=html_to_text(html), removed=decision.removed)


def clean_body(
    *, source: Source, body_html: str, recent: RecentBodies | None = None
) -> CleanedBody:
    """Return ``body_html`` (already sanitised) without the source's boilerplate.

    Promises: only whole paragraphs (or the closing sentences of the last one) are
    removed, and only for the reasons in this module's docstring; ``removed`` lists
    the text of each; a body that would be left empty is returned unchanged.
    Side effect: this body's paragraphs are remembered for the source (the same body
    cleaned again counts once), and when a text first becomes recurring, the source's
    recent stored articles are cleaned again. Queries: a constant handful; with
    ``recent`` (one ``RecentBodies`` shared by a poll's calls for one source) the
    recurrence counts are read once per poll, so usually one write per body.
    """
    if recent is not None:
        recent.begin()
    if not body_html or not body_html.strip():
        return CleanedBody(html="", text="", removed=[])
    root = parse_body(body_html)
    blocks = body_blocks(root)
    sightings = sightings_of(blocks)
    body_digest = digest_of_body(body_html)
    if recent is not None and source.pk is not None and sightings:
        counts = recent.counts(body_digest=body_digest, sightings=sightings)
    else:
        counts = recurrence_counts(source=source, body_digest=body_digest, sightings=sightings)
    pruned = remember_body(source=source, body_digest=body_digest, sightings=sightings)
    if recent is not None and source.pk is not None and sightings:
        recent.add(body_digest=body_digest, sightings=sightings)
        if pruned:
            recent.pruned()
    cleaned = _clean(
        body_html=body_html,
        counts=counts,
        editor_patterns=compile_strip_patterns(source),
        parsed=(root, blocks),
    )
    newly_recurring = {key for key, bodies in counts.items() if bodies == MIN_RECURRENCE}
    if newly_recurring:
        reclean_recent_articles(source=source)
    return cleaned


def reclean_recent_articles(*, source: Source) -> int:
    """Clean the most recent stored articles of ``source``'s outlet (all its feeds) again
    with what is known now.

    Used when a text has just become recognisably recurring, so the first articles
    of an outlet lose the trailer their successors taught us about. Only removes (it
    never restores); each article keeps its own source's editor patterns; returns how
    many articles changed.
    """
    articles = list(
        Article.objects.filter(source_id__in=outlet_source_ids(source))
        .exclude(body_html="")
        .select_related("source")
        .order_by("-fetched_at", "-id")
        .only("id", "body_html", "body_text", "source__strip_patterns")[:RECENT_BODIES]
    )
    if not articles:
        return 0
    patterns: dict[int, list[regex.Pattern]] = {}
    per_article: dict[int, list[tuple[str, str]]] = {}
    for article in articles:
        per_article[article.pk] = sightings_of(body_blocks(parse_body(article.body_html)))
        if article.source_id not in patterns:
            patterns[article.source_id] = compile_strip_patterns(article.source)
    counts = stored_counts(
        source=source, digests={digest for pairs in per_article.values() for _, digest in pairs}
    )
    changed = []
    for article in articles:
        cleaned = _clean(
            body_html=article.body_html,
            counts=counts,
            editor_patterns=patterns[article.source_id],
        )
        if cleaned.removed:
            article.body_html = cleaned.html
            article.body_text = cleaned.text
            changed.append(article)
    if changed:
        Article.objects.bulk_update(changed, ["body_html", "body_text"])
    return len(changed)
