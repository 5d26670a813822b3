"""Recurrence bookkeeping: sightings remembered once, pruned, counted in memory as in
the database."""

from __future__ import annotations

import pytest

from articles.cleaning import recurrence
from articles.cleaning.trailers import clean_body
from articles.ingestion.poll import PollStatus, poll_source
from articles.models import Article, BoilerplateSighting, Source
from tests.articles.builders import article_page, rss_feed, rss_item, story_paragraphs
from tests.articles.cleaning.test_trailers import STORIES, TRAILER, html
from tests.factories import SourceFactory

pytestmark = pytest.mark.django_db


def test_cleaning_the_same_body_again_counts_it_once():
    source = SourceFactory()
    body = html(*STORIES[0], TRAILER)

    for _ in range(4):
        cleaned = clean_body(source=source, body_html=body)

    assert cleaned.removed == []
    assert (
        BoilerplateSighting.objects.filter(source=source).values("body_digest").distinct().count()
        == 1
    )


def test_only_recent_bodies_are_remembered(monkeypatch):
    monkeypatch.setattr(recurrence, "RECENT_BODIES", 2)
    source = SourceFactory()
    for index in range(40):
        clean_body(source=source, body_html=html(f"Story number {index} about regulation."))

    bodies = BoilerplateSighting.objects.filter(source=source).values("body_digest").distinct()
    assert bodies.count() <= 2 * 2 + 10


def _trailer_sequence() -> list[str]:
    """Bodies where a trailer recurs, stops, and comes back: what recurs changes often."""
    bodies = []
    for index in range(12):
        story = STORIES[index % len(STORIES)]
        extra = [TRAILER] if index % 4 != 3 else [f"Correction number {index}."]
        bodies.append(html(f"Update {index % 3}.", *story, *extra))
    return bodies


def test_recent_bodies_in_memory_count_as_the_database_does(monkeypatch):
    monkeypatch.setattr(recurrence, "RECENT_BODIES", 4)
    from_database, in_memory = SourceFactory(), SourceFactory()
    bodies = _trailer_sequence()
    # Some history before the poll, then a poll that repeats one body.
    for body in bodies[:5]:
        clean_body(source=from_database, body_html=body)
        clean_body(source=in_memory, body_html=body)
    recent = recurrence.RecentBodies(in_memory)

    for body in [*bodies[5:], bodies[6], *bodies[:3]]:
        expected = clean_body(source=from_database, body_html=body)
        got = clean_body(source=in_memory, body_html=body, recent=recent)

        assert got == expected


def test_recent_bodies_read_the_database_once(django_assert_num_queries):
    source = SourceFactory()
    recent = recurrence.RecentBodies(source)
    clean_body(source=source, body_html=html(*STORIES[0], TRAILER), recent=recent)

    # Only the write of the body's sightings (these bodies are not ones that prune).
    with django_assert_num_queries(1):
        clean_body(source=source, body_html=html(*STORIES[1], TRAILER), recent=recent)
    # The trailer now recurs: also the reads of the outlet's sources and of their articles
    # to clean them again.
    with django_assert_num_queries(3):
        removed = clean_body(source=source, body_html=html(*STORIES[2], TRAILER), recent=recent)
    assert removed.removed == [TRAILER]


def test_body_rolled_back_is_discarded_from_recent_bodies():
    from django.db import transaction

    source = SourceFactory()
    recent = recurrence.RecentBodies(source)
    clean_body(source=source, body_html=html(*STORIES[0], TRAILER), recent=recent)
    try:
        with transaction.atomic():
            clean_body(source=source, body_html=html(*STORIES[1], TRAILER), recent=recent)
            raise RuntimeError("the article could not be stored")
    except RuntimeError:
        recent.discard_last()

    # Only one earlier body holds the trailer, so it does not recur yet.
    third = clean_body(source=source, body_html=html(*STORIES[2], TRAILER), recent=recent)
    assert third.removed == []
    fourth = clean_body(source=source, body_html=html(*STORIES[3], TRAILER), recent=recent)
    assert fourth.removed == [TRAILER]


PROMOTION = (
    "Would you like to learn more about the Lab Wire's coverage of digital policy? "
    "Our editors answer questions every Friday in a live session for members."
)
KICKER = "Lab Wire members read this story first in the morning briefing."


def _lab_feed(loopback, feed: str, numbers: list[int]) -> str:
    """A feed of the lab outlet with one page per story number; each page carries the
    outlet's two promotional lines (a leading one and a trailing one)."""
    items = []
    for number in numbers:
        path = f"/{feed}/story-{number}.html"
        paragraphs = [KICKER, *story_paragraphs(7000 + number, count=4), PROMOTION]
        loopback.serve(path, article_page(f"Lab story {number} on cloud rules", paragraphs))
        items.append(rss_item(title=f"Lab story {number}", link=loopback.url(path), guid=path))
    return loopback.serve(f"/{feed}/feed.xml", rss_feed(items), content_type="application/rss+xml")


def test_lab_outlet_with_many_small_feeds_loses_its_trailers_after_its_third_article(loopback):
    # Five feeds of one outlet (news, analysis, a French feed, …) on their own sites of the
    # registrable domain lab-wire.example, each with one or two items.
    feeds = {"news": [1], "analysis": [2], "fr": [3, 4], "podcasts": [5], "briefs": [6, 7]}
    sources = [
        Source.objects.create(
            name=f"Lab Wire {feed}",
            url=_lab_feed(loopback, feed, numbers),
            site_url=f"https://{feed}.lab-wire.example/",
        )
        for feed, numbers in feeds.items()
    ]

    def outlet_articles():
        return list(Article.objects.filter(source__in=sources))

    for source in sources:
        result = poll_source(source=source)
        assert result.status == PollStatus.OK, result.error
        assert result.skipped_entries == 0, source.name
        stored = outlet_articles()
        if len(stored) >= 3:
            for article in stored:
                assert PROMOTION not in article.body_text, article.canonical_url
                assert KICKER not in article.body_text, article.canonical_url
                assert "Lab Wire" not in article.body_html

    assert len(outlet_articles()) == 7
    assert all(len(article.body_text.split()) > 100 for article in outlet_articles())


def test_sightings_are_shared_by_the_outlet_not_by_other_outlets():
    one_outlet = [
        SourceFactory(url=f"https://{name}.wire.example/feed", site_url="")
        for name in ("news", "opinion", "data")
    ]
    other = SourceFactory(url="https://other-wire.example/feed", site_url="")

    results = [
        clean_body(source=source, body_html=html(*story, TRAILER))
        for source, story in zip(one_outlet, STORIES, strict=False)
    ]
    elsewhere = clean_body(source=other, body_html=html(*STORIES[3], TRAILER))

    assert [result.removed for result in results] == [[], [], [TRAILER]]
    assert elsewhere.removed == []
    assert recurrence.outlet_of(one_outlet[0]) == "wire.example"
    assert set(BoilerplateSighting.objects.values_list("outlet", flat=True)) == {
        "wire.example",
        "other-wire.example",
    }
