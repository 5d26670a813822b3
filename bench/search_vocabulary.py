"""The benchmark world's words: a Zipf-like vocabulary with a long tail, and typed search queries.

Bodies draw words from ~200,000 words ranked by frequency with weight 1 / rank: a few
hundred common words make up most of the text, policy words are mid-frequency, and tens
of thousands of made-up words (pronounceable, so they stem like words) form the long
tail a real archive has (names, places, jargon). A few multi-word phrases are woven in
at fixed rates so that phrase queries have real answers.

The query set mixes five kinds, each timed on its own by ``bench/web.py``: rare words,
common words, phrases, negations, and common words with a topic filter.
"""

from __future__ import annotations

import itertools
import random


def words_of(text: str) -> list[str]:
    return text.split()


COMMON_WORDS = words_of(
    "the of and to in a is that for on with as by at from this was are be has have it "
    "said will which their its an or not but been more new also would after other over "
    "year years week government minister court law rules data company companies users "
    "public national european union states state country countries market digital online "
    "policy platform platforms technology services service people report plan first last"
)
POLICY_WORDS = words_of(
    "regulation privacy antitrust semiconductor export sanctions tariff chips cloud "
    "algorithm transparency accountability surveillance encryption ransomware breach "
    "vulnerability disinformation moderation copyright licensing interoperability "
    "competition merger acquisition fine penalty investigation commission parliament "
    "council treaty negotiation summit standard certification audit compliance "
    "subsidy investment infrastructure broadband satellite spectrum cable quantum "
    "biometric identity election misinformation children safety age verification "
    "cryptocurrency stablecoin blockchain exchange taxation levy minimum governance "
    "multilateral diplomacy geopolitics sovereignty localisation transfer adequacy "
    "consent tracking advertising cookies gatekeeper marketplace consumer liability"
)
# Phrases woven into bodies: (phrase, chance that a body carries it once).
PHRASES = [
    ("data protection", 0.08),
    ("artificial intelligence", 0.06),
    ("export controls", 0.03),
    ("age verification", 0.02),
    ("digital services act", 0.01),
    ("undersea cable", 0.003),
]
_SYLLABLES = [
    consonant + vowel
    for consonant in "bcdfgklmnprstvz"
    for vowel in ("a", "e", "i", "o", "u", "ai", "ou")
]
TAIL_SIZE = 200_000
ZIPF_EXPONENT = 1.0


def tail_word(rank: int) -> str:
    """The made-up word of a tail rank: three syllables, different for every rank."""
    base = len(_SYLLABLES)
    first, rest = divmod(rank, base * base)
    second, third = divmod(rest, base)
    return _SYLLABLES[first % base] + _SYLLABLES[second] + _SYLLABLES[third] + "n"


class Vocabulary:
    """Words by rank and their cumulative Zipf weights, for ``random.choices``."""

    def __init__(self) -> None:
        self.words = COMMON_WORDS + POLICY_WORDS + [tail_word(rank) for rank in range(TAIL_SIZE)]
        weights = (1.0 / (rank + 1) ** ZIPF_EXPONENT for rank in range(len(self.words)))
        self.cumulative = list(itertools.accumulate(weights))

    def rank_of(self, word: str) -> int:
        return self.words.index(word)

    def share(self, rank: int) -> float:
        """The word's share of all words drawn."""
        low = self.cumulative[rank - 1] if rank else 0.0
        return (self.cumulative[rank] - low) / self.cumulative[-1]


def make_body(rng: random.Random, vocabulary: Vocabulary) -> str:
    """A 4–8 paragraph body drawn from the vocabulary, with the phrases at their rates."""
    paragraphs = []
    for _ in range(rng.randint(4, 8)):
        sentence = rng.choices(
            vocabulary.words, cum_weights=vocabulary.cumulative, k=rng.randint(30, 45)
        )
        paragraphs.append(" ".join(sentence).capitalize() + ".")
    for phrase, chance in PHRASES:
        if rng.random() < chance:
            index = rng.randrange(len(paragraphs))
            paragraphs[index] = paragraphs[index][:-1] + f", on {phrase}."
    return "\n\n".join(paragraphs)


def make_title(rng: random.Random, index: int) -> str:
    picked = rng.sample(POLICY_WORDS, 4)
    return f"{picked[0].capitalize()} {picked[1]} and {picked[2]}: {picked[3]} {index}"


def search_queries(vocabulary: Vocabulary) -> dict[str, list[str]]:
    """Queries by kind. Rare words come from the tail (a few to a few dozen articles per
    50,000), common words from the head; the topic-filtered kind is marked with "@topic"."""
    rare = [tail_word(rank) for rank in (20_000, 60_000, 100_000, 150_000, 190_000)]
    common = ["government", "data", "regulation", "rules", "privacy", "court"]
    phrases = [
        '"data protection"',
        '"artificial intelligence"',
        '"export controls"',
        '"undersea cable"',
        '"market rules"',
        '"digital services act"',
    ]
    negations = [
        "regulation -privacy",
        "ransomware -breach",
        "quantum -chips",
        '"data protection" -fine',
        f"{tail_word(3_000)} -government",
        "antitrust merger -court",
    ]
    topic = [f"{word} @topic" for word in ("government", "regulation", "privacy", "fine")]
    return {
        "rare word": rare,
        "common word": common,
        "phrase": phrases,
        "negation": negations,
        "common + topic": topic,
    }
