"""What an issue item starts with when an editor adds an article: headline, blurb, image.

The blurb is the article's first one or two sentences, at most ``BLURB_MAX_CHARS``
characters, ending on a sentence boundary, the way the newsletter's Radar reads.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from django.conf import settings

from articles.cleaning.sanitising import html_to_text, plain_text
from articles.models import Article

# The default of the NEWSLETTER_BLURB_MAX_CHARS setting, which wins when set.
BLURB_MAX_CHARS = 300

# Abbreviations after which a full stop does not end a sentence.
_ABBREVIATIONS = frozenset(
    {
        "mr", "mrs", "ms", "dr", "prof", "sen", "rep", "gov", "gen", "st", "jr", "sr",
        "inc", "ltd", "co", "corp", "no", "vs", "etc", "e.g", "i.e", "u.s", "u.k", "u.n",
        "e.u", "jan", "feb", "mar", "apr", "jun", "jul", "aug", "sep", "sept", "oct",
        "nov", "dec", "art", "para", "approx",
    }
)  # fmt: skip
# A sentence ends at . ! or ? (optionally followed by closing quotes or brackets),
# then whitespace, then something that can start a sentence.
_SENTENCE_END = re.compile(r"""[.!?]["'”’)\]]*\s+(?=["'“‘(\[]?[A-Z0-9])""")
_WHITESPACE = re.compile(r"\s+")
_ENDS_SENTENCE = re.compile(r"""[.!?]["'”’)\]]*$""")


@dataclass(frozen=True)
class ItemPrefill:
    headline: str
    blurb: str
    image_url: str


def split_sentences(text: str) -> list[str]:
    """Split plain ``text`` into sentences, not breaking after common abbreviations
    ("U.S.", "Dr.", "e.g.") or single initials ("J. Smith")."""
    text = _WHITESPACE.sub(" ", text).strip()
    sentences: list[str] = []
    start = 0
    for match in _SENTENCE_END.finditer(text):
        candidate = text[start : match.start() + 1]
        last_word = candidate.rsplit(" ", 1)[-1].rstrip(".").lower()
        if last_word in _ABBREVIATIONS or (len(last_word) == 1 and last_word.isalpha()):
            continue
        sentences.append(text[start : match.end()].strip())
        start = match.end()
    if start < len(text):
        sentences.append(text[start:].strip())
    return [sentence for sentence in sentences if sentence]


def prose_paragraphs(text: str) -> str:
    """``text`` without lines that are not prose: headings, datelines, captions and a
    repeated headline do not end like a sentence. All of ``text`` if no line does."""
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    prose = [line for line in lines if _ENDS_SENTENCE.search(line)]
    return " ".join(prose or lines)


def blurb_max_chars() -> int:
    """The longest blurb auto-draft writes and the compile screen's counter shows."""
    return int(getattr(settings, "NEWSLETTER_BLURB_MAX_CHARS", BLURB_MAX_CHARS))


def _sentence_key(sentence: str) -> str:
    return re.sub(r"[\W_]+", " ", sentence.lower()).strip()


def distinct_sentences(sentences: list[str], *, headline: str = "") -> list[str]:
    """``sentences`` without repeats (the same words, whatever the punctuation or case)
    and without one that only restates ``headline``: a body that opens with its
    standfirst and then repeats it gives each sentence once."""
    seen = {_sentence_key(headline)} if headline else set()
    kept = []
    for sentence in sentences:
        key = _sentence_key(sentence)
        if key and key not in seen:
            seen.add(key)
            kept.append(sentence)
    return kept


def blurb_from_text(text: str, *, max_chars: int | None = None) -> str:
    """Return the first one or two sentences of ``text`` within ``max_chars``.

    Promises: the result ends where a sentence ends; a second sentence is added only
    when both fit. A first sentence longer than ``max_chars`` is cut at a word
    boundary and ends with "…", the one case where no sentence boundary fits.
    """
    max_chars = max_chars or blurb_max_chars()
    sentences = distinct_sentences(split_sentences(text))
    if not sentences:
        return ""
    blurb = sentences[0]
    if len(blurb) > max_chars:
        cut = blurb[: max_chars - 1].rsplit(" ", 1)[0].rstrip(",;:–- ")
        return cut + "…"
    if len(sentences) > 1 and len(blurb) + 1 + len(sentences[1]) <= max_chars:
        blurb = f"{blurb} {sentences[1]}"
    return blurb


def article_text(article: Article) -> str:
    """The article's readable text: the extracted body, else the feed summary."""
    if article.body_text.strip():
        return article.body_text
    if article.body_html.strip():
        return html_to_text(article.body_html)
    return html_to_text(article.summary) if article.summary else ""


def prefill_from_article(*, article: Article) -> ItemPrefill:
    """Headline, blurb and image for a new issue item made from ``article``.

    The headline is the whole title (the item's headline holds as many characters as
    an article's title), never cut.
    """
    headline = plain_text(article.title)
    # Some bodies open with the headline or the standfirst again, or both; a blurb
    # that repeats either says nothing new.
    sentences = distinct_sentences(
        split_sentences(prose_paragraphs(article_text(article))), headline=headline
    )
    return ItemPrefill(
        headline=headline,
        blurb=blurb_from_text(" ".join(sentences)),
        image_url=article.image_url,
    )
