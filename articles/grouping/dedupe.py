"""Near-duplicate grouping: the same story reported by several outlets.

Outlets rewrite a story in their own words, so copies share facts and names
rather than sentences: what they have in common is vocabulary. An article's
features are therefore the set of its words' first letters (``STEM_LENGTH``, a
crude stemmer that makes "regulator" and "regulators" one feature) in its title
and lead; two articles are compared by the Jaccard similarity of those sets,
estimated from 128-value MinHash signatures (``Article.minhash``). A new article
is compared with the signatures of other sources' articles from the surrounding
days, fetched in one query, and joins the closest one's ``StoryGroup`` (creating
it if needed) when the estimate reaches ``SIMILARITY_THRESHOLD``.

(64-bit SimHash over word shingles was measured first and rejected: on the
evaluation set same-story rewrites scored a median 0.61-0.67 while different
stories reached 0.72, so no threshold separates them.)
"""

from __future__ import annotations

import hashlib
import random
import re
from datetime import timedelta

import numpy as np
from django.db import transaction
from django.utils import timezone

from articles.models import Article, StoryGroup

# Articles this far apart (by publication time) are never the same story.
WINDOW = timedelta(days=7)

# Estimated Jaccard similarity at or above which two articles are one story.
# Measured with bench/dedupe_threshold.py on tests/data/dedupe: 20 stories each
# written up by two outlets in their own words (20 same-story pairs) against 760
# different-story pairs, many on the same topic and naming the same firms and laws.
# Exact Jaccard of 5-letter stems: same-story minimum 0.176, different-story maximum
# 0.167 (4 letters: 0.184 vs 0.193 and 6 letters: 0.151 vs 0.164 overlap). On the
# MinHash estimate (128 permutations), 5-letter stems:
#   threshold 0.141 (18/128): 25 grouped, 5 wrong, precision 0.800, recall 1.000
#   threshold 0.156 (20/128): 22 grouped, 2 wrong, precision 0.909, recall 1.000
#   threshold 0.164 (21/128): 20 grouped, 0 wrong, precision 1.000, recall 1.000
#   threshold 0.172 (22/128): 18 grouped, 0 wrong, precision 1.000, recall 0.900
#   threshold 0.203 (26/128): 17 grouped, 0 wrong, precision 1.000, recall 0.850
# 0.164 sits exactly on the lowest same-story estimate of a small set; one step
# higher keeps a margin against the many more unrelated pairs a real week brings.
# A wrong group shows readers unrelated stories as one; a missed one only leaves
# two entries, so precision comes first.
SIMILARITY_THRESHOLD = 22 / 128

STEM_LENGTH = 5
# Only the title and the lead: long articles add background that other outlets do
# not share, which would drown the overlap in the facts of the story.
LEAD_WORDS = 200
NUM_PERMUTATIONS = 128

STOPWORDS = frozenset(
    """a about above after again against all also am an and any are as at be because been
    before being below between both but by can could did do does doing down during each
    few for from further had has have having he her here hers him his how i if in into is
    it its itself just me more most my no nor not now of off on once only or other our
    ours out over own said same says she should so some such than that the their theirs
    them then there these they this those through to too under until up very was we were
    what when where which while who whom why will with would you your yours one two
    monday tuesday wednesday thursday friday saturday sunday week year""".split()  # noqa: SIM905
)
_WORD = re.compile(r"[^\W_]+(?:['’.-][^\W_]+)*", re.UNICODE)
_PRIME = (1 << 61) - 1
# Fixed seed: signatures stored today must stay comparable with tomorrow's.
_random = random.Random(20250418)
_PERMUTATIONS = tuple(
    (_random.randrange(1, _PRIME), _random.randrange(0, _PRIME)) for _ in range(NUM_PERMUTATIONS)
)
_MASK32 = 0xFFFFFFFF
# The permutations as columns, for computing all of them at once in 64-bit arithmetic.
_P = np.uint64(_PRIME)
_A = np.array([a for a, _ in _PERMUTATIONS], dtype=np.uint64).reshape(-1, 1)
_B = np.array([b for _, b in _PERMUTATIONS], dtype=np.uint64).reshape(-1, 1)
_A_HIGH, _A_LOW = _A >> np.uint64(31), _A & np.uint64((1 << 31) - 1)
_LOW31, _LOW30 = np.uint64((1 << 31) - 1), np.uint64((1 << 30) - 1)


def _words(text: str, limit: int | None = None) -> list[str]:
    """The text's words, case-folded, without stopwords and one-letter words; the first
    ``limit`` of them if given (the rest of the text is not read)."""
    words = []
    for match in _WORD.finditer(text or ""):
        word = match.group().casefold()
        if word not in STOPWORDS and len(word) > 1:
            words.append(word)
            if limit is not None and len(words) >= limit:
                break
    return words


def features(*, title: str, text: str, stem_length: int = STEM_LENGTH) -> set[str]:
    """The set of word stems of the title and the first ``LEAD_WORDS`` words of text."""
    words = _words(title) + _words(text, LEAD_WORDS)
    return {word[:stem_length] for word in words}


def _hash(feature: str) -> int:
    return int.from_bytes(hashlib.blake2b(feature.encode(), digest_size=8).digest(), "big")


def _below_prime(values: np.ndarray) -> np.ndarray:
    """``values`` (each below 2 * (2**61 - 1)) reduced below the prime, in place.

    For an unsigned value under the prime, ``value - p`` wraps round to a larger one,
    so the smaller of the two is the reduced value either way."""
    return np.minimum(values, values - _P, out=values)


def _fold(values: np.ndarray) -> np.ndarray:
    """``values`` (below 2**64) modulo 2**61 - 1, using 2**61 = 1 (mod p)."""
    folded = values >> np.uint64(61)
    folded += values & _P  # at most p + 7
    return _below_prime(folded)


def _permuted(hashes: np.ndarray) -> np.ndarray:
    """``(a * h + b) mod (2**61 - 1)`` for every permutation (rows) and hash (columns).

    Exact, like Python's big integers, without overflowing 64 bits: with 2**61 = 1
    modulo the prime, the 122-bit product is assembled from 31-bit halves.
    """
    x = _fold(hashes).reshape(1, -1)
    x_high, x_low = x >> np.uint64(31), x & _LOW31
    # a*x = high*2**62 + middle*2**31 + low, where 2**62 = 2 (mod p) and
    # middle*2**31 = (middle >> 30) + (middle & (2**30 - 1))*2**31 (mod p).
    middle = _A_HIGH * x_low
    middle += _A_LOW * x_high
    total = _A_HIGH * x_high
    total <<= np.uint64(1)
    total += middle >> np.uint64(30)
    middle &= _LOW30
    middle <<= np.uint64(31)
    total += middle
    total += _A_LOW * x_low
    product = _fold(total)
    product += _B
    return _below_prime(product)


def signature(stems: set[str]) -> bytes | None:
    """The MinHash signature (``NUM_PERMUTATIONS`` 32-bit values) of a set; None if empty.

    Value i is ``min((a_i * h + b_i) mod (2**61 - 1) over the stems' hashes h)``, its low
    32 bits, stored in native byte order.
    """
    if not stems:
        return None
    hashes = np.fromiter((_hash(stem) for stem in stems), dtype=np.uint64, count=len(stems))
    minima = _permuted(hashes).min(axis=1) & np.uint64(_MASK32)
    return minima.astype(np.uint32).tobytes()


def similarity(left: bytes | memoryview, right: bytes | memoryview) -> float:
    """The Jaccard similarity of two sets, estimated from their signatures."""
    left_values = np.frombuffer(bytes(left), dtype=np.uint32)
    right_values = np.frombuffer(bytes(right), dtype=np.uint32)
    if len(left_values) != len(right_values) or not len(left_values):
        return 0.0
    return int(np.count_nonzero(left_values == right_values)) / len(left_values)


def article_signature(article: Article) -> bytes | None:
    return signature(features(title=article.title, text=article.body_text or article.summary))


def _best_match(article: Article, own: bytes) -> tuple[int, int | None] | None:
    """(id, group id) of the most similar other-source article in the window, if close."""
    moment = article.published_at or article.fetched_at or timezone.now()
    candidates = (
        Article.objects.filter(
            minhash__isnull=False,
            published_at__gte=moment - WINDOW,
            published_at__lte=moment + WINDOW,
        )
        .exclude(source_id=article.source_id)
        .exclude(pk=article.pk)
        .order_by()
        .values_list("pk", "minhash", "group_id")
    )
    own_values = np.frombuffer(own, dtype=np.uint32)
    size = len(own_values)
    rows = [(pk, bytes(other), group_id) for pk, other, group_id in candidates]
    rows = [row for row in rows if len(row[1]) == len(own)]
    if not rows:
        return None
    others = np.frombuffer(b"".join(other for _, other, _ in rows), dtype=np.uint32)
    scores = np.count_nonzero(others.reshape(len(rows), size) == own_values, axis=1)
    best = int(np.argmax(scores))  # the first of equals, as the database listed them
    if scores[best] / size < SIMILARITY_THRESHOLD:
        return None
    return rows[best][0], rows[best][2]


def assign_story_group(*, article: Article) -> None:
    """Sign ``article`` and put it in the story group of its nearest duplicate.

    Promises: ``article.minhash`` is set (None for an article without words); if
    another source's article published within ``WINDOW`` is at least
    ``SIMILARITY_THRESHOLD`` similar, both end up in one group (the match's group,
    or a new group holding both); otherwise the article's group is left as it is.
    Both fields are written to the row if the article is saved; an unsaved article
    (the pipeline signs before inserting) has them written by its insert.
    Articles of one source are never grouped with each other by this. Queries: one
    to read the candidates' signatures, at most four writes (one fewer unsaved).
    """
    own = article_signature(article)
    article.minhash = own
    match = _best_match(article, own) if own is not None else None
    if article.pk is None and (match is None or article.group_id is not None):
        return  # nothing to write: the article's insert stores its signature
    with transaction.atomic():
        if match is not None and article.group_id is None:
            match_id, group_id = match
            if group_id is None:
                group = StoryGroup.objects.create()
                # Only if the match is still ungrouped: a concurrent grouping wins.
                if Article.objects.filter(pk=match_id, group__isnull=True).update(group=group):
                    group_id = group.pk
                else:
                    group.delete()
                    group_id = (
                        Article.objects.filter(pk=match_id)
                        .values_list("group_id", flat=True)
                        .first()
                    )
            article.group_id = group_id
        if article.pk is not None:
            Article.objects.filter(pk=article.pk).update(
                minhash=article.minhash, group_id=article.group_id
            )
