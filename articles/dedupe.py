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
from array import array
from collections.abc import Iterable
from datetime import timedelta

from django.db import transaction
from django.db.models import Count
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


def _words(text: str) -> list[str]:
    return [
        word
        for word in (w.casefold() for w in _WORD.findall(text or ""))
        if word not in STOPWORDS and len(word) > 1
    ]


def features(*, title: str, text: str, stem_length: int = STEM_LENGTH) -> set[str]:
    """The set of word stems of the title and the first ``LEAD_WORDS`` words of text."""
    words = _words(title) + _words(text)[:LEAD_WORDS]
    return {word[:stem_length] for word in words}


def _hash(feature: str) -> int:
    return int.from_bytes(hashlib.blake2b(feature.encode(), digest_size=8).digest(), "big")


def signature(stems: set[str]) -> bytes | None:
    """The MinHash signature (``NUM_PERMUTATIONS`` 32-bit values) of a set; None if empty."""
    if not stems:
        return None
    hashes = [_hash(stem) for stem in stems]
    values = array(
        "I", (min((a * h + b) % _PRIME for h in hashes) & _MASK32 for a, b in _PERMUTATIONS)
    )
    return values.tobytes()


def similarity(left: bytes | memoryview, right: bytes | memoryview) -> float:
    """The Jaccard similarity of two sets, estimated from their signatures."""
    left_values, right_values = array("I", bytes(left)), array("I", bytes(right))
    if len(left_values) != len(right_values) or not left_values:
        return 0.0
    same = sum(x == y for x, y in zip(left_values, right_values, strict=True))
    return same / len(left_values)


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
        .values_list("pk", "minhash", "group_id")
    )
    own_values = array("I", own)
    size = len(own_values)
    best: tuple[float, int, int | None] | None = None
    for pk, other, group_id in candidates:
        other_values = array("I", bytes(other))
        if len(other_values) != size:
            continue
        score = sum(x == y for x, y in zip(own_values, other_values, strict=True)) / size
        if score >= SIMILARITY_THRESHOLD and (best is None or score > best[0]):
            best = (score, pk, group_id)
    return None if best is None else (best[1], best[2])


def assign_story_group(*, article: Article) -> None:
    """Sign ``article`` and put it in the story group of its nearest duplicate.

    Promises: ``article.minhash`` is set (None for an article without words) and
    saved; if another source's article published within ``WINDOW`` is at least
    ``SIMILARITY_THRESHOLD`` similar, both end up in one group (the match's group,
    or a new group holding both); otherwise the article's group is left as it is.
    Articles of one source are never grouped with each other by this. Queries: one
    to read the candidates' signatures, at most four writes.
    """
    own = article_signature(article)
    article.minhash = own
    match = _best_match(article, own) if own is not None else None
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


def group_source_counts(article_ids: Iterable[int]) -> dict[int, int]:
    """How many distinct sources reported each article's story ("reported by N sources").

    An article outside any group counts 1 (its own source). One query.
    """
    ids = list(article_ids)
    if not ids:
        return {}
    rows = (
        Article.objects.filter(pk__in=ids)
        .annotate(sources=Count("group__articles__source", distinct=True))
        .values_list("pk", "sources")
    )
    return {pk: max(sources, 1) for pk, sources in rows}
