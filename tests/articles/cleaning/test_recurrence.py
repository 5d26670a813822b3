"""Recurrence bookkeeping: sightings remembered once, pruned, counted in memory as in
the database."""

from __future__ import annotations

import pytest

from articles.cleaning import recurrence
from articles.cleaning.trailers import clean_body
from articles.models import BoilerplateSighting
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
    # The trailer now recurs: also the read of the source's articles to clean them again.
    with django_assert_num_queries(2):
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
