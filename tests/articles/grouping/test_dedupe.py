"""Near-duplicate grouping across outlets."""

from __future__ import annotations

import hashlib
import json
from array import array
from datetime import timedelta
from pathlib import Path

import pytest
from django.utils import timezone

from articles.grouping.dedupe import (
    assign_story_group,
    features,
    signature,
    similarity,
)
from articles.models import Article, StoryGroup
from tests.factories import ArticleFactory, SourceFactory, StoryGroupFactory

pytestmark = pytest.mark.django_db

STORIES = json.loads(
    (Path(__file__).resolve().parents[2] / "data" / "dedupe" / "stories.json").read_text()
)


def story(story_id: str, version: int) -> dict:
    found = next(item for item in STORIES if item["id"] == story_id)["versions"][version]
    return {"title": found["title"], "body_text": found["text"]}


def ingest(source, content: dict, *, published_at=None) -> Article:
    article = ArticleFactory(
        source=source, published_at=published_at or timezone.now(), group=None, **content
    )
    assign_story_group(article=article)
    article.refresh_from_db()
    return article


def test_same_story_from_two_outlets_is_grouped():
    first = ingest(SourceFactory(), story("meta-gdpr-fine-transfers", 0))
    second = ingest(SourceFactory(), story("meta-gdpr-fine-transfers", 1))

    first.refresh_from_db()
    assert first.group_id is not None
    assert second.group_id == first.group_id
    assert StoryGroup.objects.count() == 1


def test_unsaved_article_is_signed_and_grouped_by_its_own_insert(django_assert_num_queries):
    first = ingest(SourceFactory(), story("meta-gdpr-fine-transfers", 0))
    second = ArticleFactory.build(
        source=SourceFactory(),
        published_at=timezone.now(),
        group=None,
        **story("meta-gdpr-fine-transfers", 1),
    )

    # The candidates' read, the new group and the match's conditional update (and the
    # savepoint around them); nothing written for the unsaved article itself.
    with django_assert_num_queries(5) as captured:
        assign_story_group(article=second)
    second.save()

    updates = [q["sql"] for q in captured.captured_queries if q["sql"].startswith("UPDATE")]
    assert len(updates) == 1
    assert f'"id" = {first.pk}' in updates[0]

    first.refresh_from_db()
    second.refresh_from_db()
    assert second.minhash is not None
    assert second.group_id == first.group_id is not None


def test_third_outlet_joins_the_existing_group():
    first = ingest(SourceFactory(), story("meta-gdpr-fine-transfers", 0))
    second = ingest(SourceFactory(), story("meta-gdpr-fine-transfers", 1))
    third_text = {
        "title": "Social network to appeal record data transfer fine",
        "body_text": story("meta-gdpr-fine-transfers", 0)["body_text"],
    }
    third = ingest(SourceFactory(), third_text)

    first.refresh_from_db()
    assert second.group_id is not None
    assert {first.group_id, second.group_id, third.group_id} == {second.group_id}
    assert StoryGroup.objects.count() == 1


def test_different_stories_on_the_same_topic_are_not_grouped():
    first = ingest(SourceFactory(), story("eu-fines-search-engine", 0))
    second = ingest(SourceFactory(), story("us-doj-ad-tech-trial", 0))
    third = ingest(SourceFactory(), story("uk-cma-cloud-market", 1))

    assert (first.group_id, second.group_id, third.group_id) == (None, None, None)
    assert StoryGroup.objects.count() == 0


def test_articles_of_the_same_source_are_not_grouped_with_each_other():
    source = SourceFactory()
    first = ingest(source, story("salt-typhoon-telecoms", 0))
    second = ingest(source, story("salt-typhoon-telecoms", 1))

    assert first.group_id is None and second.group_id is None


def test_articles_more_than_a_week_apart_are_not_grouped():
    now = timezone.now()
    ingest(SourceFactory(), story("korea-ai-basic-act", 0), published_at=now - timedelta(days=9))
    second = ingest(SourceFactory(), story("korea-ai-basic-act", 1), published_at=now)

    assert second.group_id is None


def test_article_without_words_gets_no_signature_and_no_group():
    ingest(SourceFactory(), {"title": "...", "body_text": ""})
    article = ingest(SourceFactory(), {"title": "—", "body_text": "  "})

    assert article.minhash is None
    assert article.group_id is None


def test_article_already_in_a_group_keeps_it():
    group = StoryGroupFactory()
    ingest(SourceFactory(), story("india-dpdp-rules", 0))
    article = ArticleFactory(
        source=SourceFactory(),
        group=group,
        published_at=timezone.now(),
        **story("india-dpdp-rules", 1),
    )

    assign_story_group(article=article)

    article.refresh_from_db()
    assert article.group_id == group.pk
    assert article.minhash is not None


def test_signatures_are_deterministic_and_estimate_jaccard():
    left = features(title="Court fines platform", text="regulators fined the platform heavily")
    right = features(title="Court fines platform", text="regulators fined the platform heavily")
    unrelated = features(title="Quantum research pact", text="laboratories share qubit results")

    assert signature(left) == signature(right)
    assert similarity(signature(left), signature(right)) == 1.0
    assert similarity(signature(left), signature(unrelated)) < 0.1
    assert signature(set()) is None


def test_signature_values_follow_the_stored_formula():
    # Signatures already stored must stay comparable: value i is the low 32 bits of
    # min((a_i * h + b_i) mod (2**61 - 1)) over the 64-bit blake2b hashes h of the stems,
    # computed here with Python's exact integers.
    from articles.grouping import dedupe

    stems = {"regul", "platf", "fine", "court", "z", "ä€x"} | {f"s{i}" for i in range(200)}
    hashes = [
        int.from_bytes(hashlib.blake2b(s.encode(), digest_size=8).digest(), "big") for s in stems
    ]
    expected = array(
        "I",
        (
            min((a * h + b) % ((1 << 61) - 1) for h in hashes) & 0xFFFFFFFF
            for a, b in dedupe._PERMUTATIONS
        ),
    )

    assert signature(stems) == expected.tobytes()


def test_features_ignore_stopwords_case_and_word_endings():
    stems = features(title="The Regulators", text="a regulator regulates REGULATION")

    assert stems == {"regul"}


def test_assign_story_group_query_count_is_bounded(django_assert_max_num_queries):
    for index in range(30):
        ArticleFactory(
            source=SourceFactory(),
            published_at=timezone.now(),
            minhash=signature(features(title=f"Unrelated story {index}", text="text words")),
        )
    ingest(SourceFactory(), story("wsis-plus-20-review", 0))
    article = ArticleFactory(
        source=SourceFactory(), published_at=timezone.now(), **story("wsis-plus-20-review", 1)
    )

    # One read of all candidates' signatures, then group creation and two updates
    # (plus the savepoint pair of the atomic block).
    with django_assert_max_num_queries(6):
        assign_story_group(article=article)

    article.refresh_from_db()
    assert article.group_id is not None
