"""Topic suggestions from each topic's keywords and the source's default topics.

A topic's keywords (one word or phrase per line) are matched as whole words,
case-insensitively, phrases with any whitespace between their words. A match in
the title counts ``TITLE_WEIGHT`` times a match in the text; a topic whose
score reaches ``MIN_SCORE`` is suggested, as are the source's default topics.

Who owns an article's topics: the classifier until an editor sets one. Rows
with origin SUGGESTED are kept in step with the suggestions (added, re-scored,
removed when stale); rows with origin EDITOR are never added, changed or
removed here. Once an article has any EDITOR row, the editor has taken over its
topics: suggestions are still computed and returned, but nothing is written, so
a suggestion the editor removed does not come back.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from functools import lru_cache

from articles.models import Article, ArticleTopic, Topic

TITLE_WEIGHT = 3
# One title match, or three matches in the text (or one in the title's company of
# two in the text...). A single passing mention in a long text is not a topic.
MIN_SCORE = 3
# The score given to a source's default topic that no keyword found.
DEFAULT_TOPIC_SCORE = float(MIN_SCORE)
# Text beyond this is not searched: the topic of a story shows early.
MAX_TEXT_CHARACTERS = 50_000
MAX_KEYWORD_LENGTH = 200


@lru_cache(maxsize=512)
def _keyword_pattern(keywords: tuple[str, ...]) -> re.Pattern[str] | None:
    """One alternation of all of a topic's keywords, as whole words; None if none."""
    parts = []
    for keyword in keywords:
        words = keyword[:MAX_KEYWORD_LENGTH].split()
        if words:
            parts.append(r"\s+".join(re.escape(word) for word in words))
    if not parts:
        return None
    # Longest first, so a phrase wins over a keyword that is its first word.
    parts.sort(key=len, reverse=True)
    return re.compile(r"(?<!\w)(?:" + "|".join(parts) + r")(?!\w)", re.IGNORECASE)


def score_topic(topic: Topic, *, title: str, text: str) -> float:
    """The keyword score of ``topic`` for a title and text (0 when nothing matches)."""
    pattern = _keyword_pattern(tuple(topic.keyword_list))
    if pattern is None:
        return 0.0
    title_hits = len(pattern.findall(title or ""))
    text_hits = len(pattern.findall((text or "")[:MAX_TEXT_CHARACTERS]))
    return float(TITLE_WEIGHT * title_hits + text_hits)


def score_topics(
    *, title: str, text: str, topics: Iterable[Topic], default_topic_ids: set[int]
) -> dict[int, tuple[Topic, float]]:
    """Suggested topics by id with their scores: keyword matches and source defaults."""
    suggested: dict[int, tuple[Topic, float]] = {}
    for topic in topics:
        score = score_topic(topic, title=title, text=text)
        if score >= MIN_SCORE:
            suggested[topic.pk] = (topic, score)
        elif topic.pk in default_topic_ids:
            suggested[topic.pk] = (topic, max(score, DEFAULT_TOPIC_SCORE))
    return suggested


def source_default_topic_ids(source_id: int) -> set[int]:
    """The ids of the source's default topics (one query)."""
    return set(Topic.objects.filter(default_for_sources=source_id).values_list("pk", flat=True))


def suggest_topics(
    *,
    article: Article,
    topics: Iterable[Topic] | None = None,
    default_topic_ids: set[int] | None = None,
    fresh: bool = False,
) -> list[Topic]:
    """Suggest topics for ``article`` and record them as SUGGESTED ArticleTopic rows.

    ``topics`` is every topic to consider; pass it when classifying many articles
    so it is loaded once (default: all topics), and likewise ``default_topic_ids``,
    the ids of the source's default topics (default: read them). ``fresh`` says the article was
    inserted in the current transaction, so it cannot have topic rows yet and they
    are not read. Returns the suggested topics, best score first. Writes as
    described in this module's docstring; never touches an EDITOR row. Queries: at
    most six, whatever the number of topics; one for a fresh article given both.
    """
    topic_list = list(Topic.objects.all()) if topics is None else list(topics)
    if default_topic_ids is None:
        default_topic_ids = source_default_topic_ids(article.source_id)
    for topic_id in default_topic_ids - {topic.pk for topic in topic_list}:
        # A default topic missing from a partial ``topics`` list is still a default.
        topic_list.append(Topic.objects.get(pk=topic_id))
    text = article.body_text or article.summary
    suggested = score_topics(
        title=article.title, text=text, topics=topic_list, default_topic_ids=default_topic_ids
    )
    ranked = sorted(suggested.values(), key=lambda pair: (-pair[1], pair[0].position))
    result = [topic for topic, _ in ranked]

    existing = (
        {}
        if fresh
        else {row.topic_id: row for row in ArticleTopic.objects.filter(article=article)}
    )
    if any(row.origin == ArticleTopic.Origin.EDITOR for row in existing.values()):
        return result

    to_create, to_update = [], []
    for topic, score in ranked:
        row = existing.get(topic.pk)
        if row is None:
            to_create.append(
                ArticleTopic(
                    article=article, topic=topic, origin=ArticleTopic.Origin.SUGGESTED, score=score
                )
            )
        elif row.score != score:
            row.score = score
            to_update.append(row)
    stale = [
        row.pk
        for topic_id, row in existing.items()
        if topic_id not in suggested and row.origin == ArticleTopic.Origin.SUGGESTED
    ]
    if stale:
        ArticleTopic.objects.filter(pk__in=stale, origin=ArticleTopic.Origin.SUGGESTED).delete()
    if to_update:
        ArticleTopic.objects.bulk_update(to_update, ["score"])
    if to_create:
        # A concurrent editor row for the same topic wins over the suggestion.
        ArticleTopic.objects.bulk_create(to_create, ignore_conflicts=True)
    return result
