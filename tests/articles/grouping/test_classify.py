"""Topic suggestions: keywords, title weight, source defaults, editor rows untouched."""

from __future__ import annotations

import pytest

from articles.grouping.classify import (
    MIN_SCORE,
    TITLE_WEIGHT,
    score_topic,
    source_default_topic_ids,
    suggest_topics,
)
from articles.models import ArticleTopic
from tests.factories import ArticleFactory, SourceFactory, TopicFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def ai():
    return TopicFactory(name="AI", keywords="AI\nartificial intelligence\nmachine learning")


@pytest.fixture
def privacy():
    return TopicFactory(name="Privacy", keywords="GDPR\ndata protection\nprivacy")


@pytest.fixture
def crypto():
    return TopicFactory(name="Crypto", keywords="crypto\nbitcoin\nstablecoin")


def rows(article) -> dict[str, tuple[str, float]]:
    return {
        row.topic.name: (row.origin, row.score)
        for row in ArticleTopic.objects.filter(article=article).select_related("topic")
    }


def test_keyword_in_the_title_suggests_the_topic(ai, privacy):
    article = ArticleFactory(title="New rules for AI developers", body_text="Nothing else.")

    assert suggest_topics(article=article) == [ai]
    assert rows(article) == {"AI": (ArticleTopic.Origin.SUGGESTED, float(TITLE_WEIGHT))}


def test_title_counts_more_than_the_text(ai):
    in_title = ArticleFactory(title="AI rules", body_text="Nothing.")
    in_text = ArticleFactory(title="Rules", body_text="AI is mentioned once.")

    assert score_topic(ai, title=in_title.title, text=in_title.body_text) == TITLE_WEIGHT
    assert score_topic(ai, title=in_text.title, text=in_text.body_text) == 1
    assert suggest_topics(article=in_text) == []


def test_repeated_mentions_in_the_text_suggest_the_topic(privacy):
    article = ArticleFactory(
        title="Regulator acts",
        body_text="The GDPR applies. Data protection officers agree. Privacy matters.",
    )

    assert suggest_topics(article=article) == [privacy]
    assert rows(article)["Privacy"][1] == MIN_SCORE


def test_keywords_match_whole_words_only_case_insensitively(ai, crypto):
    article = ArticleFactory(
        title="Said the chairman: cryptography and cryptocurrency are not keywords",
        body_text="AIDS research, maintain, FAIR, paid, Crypto-art? no: CRYPTO!",
    )

    assert score_topic(ai, title=article.title, text=article.body_text) == 0
    # "Crypto" in "Crypto-art" is a whole word before the hyphen; "CRYPTO" another.
    assert score_topic(crypto, title=article.title, text=article.body_text) == 2


def test_phrase_keywords_match_across_whitespace_and_case(ai):
    article = ArticleFactory(
        title="Artificial\n  Intelligence office opens", body_text="machine learning"
    )

    assert score_topic(ai, title=article.title, text=article.body_text) == TITLE_WEIGHT + 1


def test_keywords_are_literal_text_not_regular_expressions():
    topic = TopicFactory(keywords="C++\n.*\n(a+)+$\ne-commerce")
    article = ArticleFactory(title="E-commerce rules and C++ tooling", body_text="a" * 5000)

    assert score_topic(topic, title=article.title, text=article.body_text) == 2 * TITLE_WEIGHT


def test_source_default_topics_are_suggested_without_keywords(ai, crypto):
    source = SourceFactory(default_topics=[crypto])
    article = ArticleFactory(source=source, title="Markets", body_text="No keyword here.")

    assert suggest_topics(article=article) == [crypto]
    assert rows(article) == {"Crypto": (ArticleTopic.Origin.SUGGESTED, float(MIN_SCORE))}


def test_stale_suggestions_are_removed_and_scores_updated(ai, privacy):
    article = ArticleFactory(title="AI rules", body_text="")
    suggest_topics(article=article)

    article.title = "GDPR and AI and AI"
    suggest_topics(article=article)
    assert rows(article) == {
        "AI": (ArticleTopic.Origin.SUGGESTED, 2.0 * TITLE_WEIGHT),
        "Privacy": (ArticleTopic.Origin.SUGGESTED, float(TITLE_WEIGHT)),
    }

    article.title = "GDPR fine"
    suggest_topics(article=article)
    assert set(rows(article)) == {"Privacy"}


def test_editor_topics_are_never_changed_and_suggestions_stop(ai, privacy, crypto):
    article = ArticleFactory(title="AI and GDPR", body_text="")
    ArticleTopic.objects.create(
        article=article, topic=crypto, origin=ArticleTopic.Origin.EDITOR, score=0
    )
    ArticleTopic.objects.create(
        article=article, topic=ai, origin=ArticleTopic.Origin.EDITOR, score=7
    )

    suggested = suggest_topics(article=article)

    assert set(suggested) == {ai, privacy}  # still reported ...
    assert rows(article) == {  # ... but the editor's choice stands, untouched
        "Crypto": (ArticleTopic.Origin.EDITOR, 0.0),
        "AI": (ArticleTopic.Origin.EDITOR, 7.0),
    }


def test_editor_row_set_after_suggestions_freezes_them(ai, privacy):
    article = ArticleFactory(title="AI and GDPR", body_text="")
    suggest_topics(article=article)
    ArticleTopic.objects.filter(article=article, topic=ai).update(
        origin=ArticleTopic.Origin.EDITOR
    )

    article.title = "Nothing relevant"
    suggest_topics(article=article)

    assert rows(article) == {
        "AI": (ArticleTopic.Origin.EDITOR, float(TITLE_WEIGHT)),
        "Privacy": (ArticleTopic.Origin.SUGGESTED, float(TITLE_WEIGHT)),
    }


def test_results_are_ranked_by_score(ai, privacy):
    article = ArticleFactory(title="GDPR", body_text="AI, AI, AI, AI and AI.")

    assert suggest_topics(article=article) == [ai, privacy]


def test_topics_without_keywords_are_never_suggested_by_text():
    TopicFactory(keywords="")
    article = ArticleFactory(title="Anything at all", body_text="")

    assert suggest_topics(article=article) == []


def test_batch_use_loads_topics_once_and_keeps_queries_bounded(
    ai, privacy, crypto, django_assert_max_num_queries
):
    topics = [ai, privacy, crypto] + [TopicFactory(keywords=f"word{i}") for i in range(30)]
    articles = [ArticleFactory(title=f"AI and GDPR number {i}", body_text="") for i in range(3)]

    for article in articles:
        with django_assert_max_num_queries(4):
            suggest_topics(article=article, topics=topics)

    assert all(set(rows(article)) == {"AI", "Privacy"} for article in articles)


def test_fresh_article_is_classified_without_reading_its_topic_rows(
    ai, privacy, django_assert_num_queries
):
    topics = [ai, privacy]
    article = ArticleFactory(title="AI and GDPR", body_text="")

    # The source's default topics and the insert of the suggestions.
    with django_assert_num_queries(2):
        suggested = suggest_topics(article=article, topics=topics, fresh=True)

    assert set(suggested) == {ai, privacy}
    assert set(rows(article)) == {"AI", "Privacy"}


def test_default_topic_ids_given_by_a_batch_are_not_read_again(
    ai, crypto, django_assert_num_queries
):
    source = SourceFactory(default_topics=[crypto])
    defaults = source_default_topic_ids(source.pk)
    article = ArticleFactory(source=source, title="AI rules", body_text="")

    # Only the insert of the suggestions.
    with django_assert_num_queries(1):
        suggested = suggest_topics(
            article=article, topics=[ai, crypto], default_topic_ids=defaults, fresh=True
        )

    assert suggested == [ai, crypto]
    assert set(rows(article)) == {"AI", "Crypto"}
