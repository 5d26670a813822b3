"""Boilerplate removal: trailers and recurring lines go, story text never does."""

from __future__ import annotations

import logging
import time

import pytest

from articles.cleaning.trailers import clean_body, is_generic_trailer
from articles.models import Article
from tests.factories import ArticleFactory, SourceFactory

pytestmark = pytest.mark.django_db

STORIES = [
    [
        "The European Commission opened an investigation on Monday into whether a large "
        "search engine favours its own comparison services over those of its rivals.",
        "Officials said they would examine ranking data covering the past three years "
        "and interview competitors in several member states.",
    ],
    [
        "Parliament approved new rules on political advertising online that require "
        "platforms to label sponsored messages and publish who paid for them.",
        "The rules apply from next autumn, ahead of several national elections.",
    ],
    [
        "A court in Paris ordered a telecom operator to block access to three pirate "
        "streaming services within fifteen days of the judgment.",
        "Rights holders said the decision would save the industry millions of euros.",
    ],
    [
        "Japan and the United States agreed to coordinate research on quantum-safe "
        "encryption and to share test results with allied governments.",
        "Negotiators said a formal agreement could be signed before the end of the year.",
    ],
    [
        "Brazil's data protection authority suspended the use of personal data to train "
        "artificial intelligence models by a large social network.",
        "The company said it disagreed and would appeal against the order.",
    ],
]

TRAILER = "The Daily Circuit is read by policy makers in forty countries every morning."


def html(*paragraphs: str) -> str:
    return "".join(f"<p>{text}</p>" for text in paragraphs)


def store(source, body_html: str) -> Article:
    """Clean a body and store the article as the ingestion pipeline does."""
    cleaned = clean_body(source=source, body_html=body_html)
    return ArticleFactory(source=source, body_html=cleaned.html, body_text=cleaned.text)


def test_generic_chatbot_trailer_is_removed_from_a_new_sources_first_article():
    source = SourceFactory()
    trailer = (
        "Would you like to learn more about AI, tech and digital diplomacy? "
        "If so, ask our Diplo chatbot!"
    )

    cleaned = clean_body(source=source, body_html=html(*STORIES[0], trailer))

    assert cleaned.removed == [trailer]
    assert cleaned.html == html(*STORIES[0])
    assert cleaned.text == "\n\n".join(STORIES[0])


@pytest.mark.parametrize(
    "line",
    [
        "Subscribe to our newsletter",
        "Sign up for our free weekly newsletter to get the top stories every Friday.",
        "Share this article",
        "Share on Facebook Twitter LinkedIn",
        "We use cookies to improve your experience on our website.",
        "This site uses cookies and similar technologies to analyse traffic.",
        "Accept all cookies",
        "Get the latest news delivered straight to your inbox.",
        "Sign up for The Water Coolest today to get the free daily newsletter delivered.",
        "Like this story? Share it with a friend!",
        "Follow Newsbeat on Instagram, Facebook, Twitter and YouTube.",
    ],
)
def test_generic_trailers_at_the_end_are_removed(line):
    cleaned = clean_body(source=SourceFactory(), body_html=html(*STORIES[1], line))

    assert cleaned.removed == [line]
    assert cleaned.text == "\n\n".join(STORIES[1])


def test_generic_patterns_never_match_story_sentences_about_the_same_things():
    story = [
        "Regulators said websites that use cookies to track children must ask for consent "
        "first, and that a newsletter sign-up form cannot be used as a pretext.",
        "Readers who subscribe to our newsletter are not affected, the company said.",
        "Ministers asked platforms to share this article of the treaty with their users.",
        "We use cookies to track users across sites, the company admitted in court.",
        "Reject all cookies, the regulator told the publishers in its guidance.",
        "Shares in the company fell after the fine was announced.",
        "Sign-up rates for the digital identity app fell in March.",
        "Follow the money on Facebook, investigators told the committee in a long hearing.",
        "Users who like this story share it with friends less often, the study found.",
    ]
    for line in story:
        assert not is_generic_trailer(line)

    cleaned = clean_body(source=SourceFactory(), body_html=html(*story))

    assert cleaned.removed == []


def test_copyright_line_is_not_a_generic_trailer_but_is_learnt_when_it_recurs():
    source = SourceFactory()
    line = "Copyright 2019 Hawaii News Now. All rights reserved."

    first = clean_body(source=source, body_html=html(*STORIES[0], line))
    assert first.removed == []
    results = [clean_body(source=source, body_html=html(*story, line)) for story in STORIES[1:3]]

    assert [result.removed for result in results] == [[], [line]]


def test_generic_line_in_the_middle_of_the_story_is_kept():
    body = html(STORIES[2][0], "Share this article", STORIES[2][1])

    cleaned = clean_body(source=SourceFactory(), body_html=body)

    assert cleaned.removed == []
    assert cleaned.html == body


def test_recurring_trailer_is_learnt_without_configuration():
    source = SourceFactory()
    results = [clean_body(source=source, body_html=html(*story, TRAILER)) for story in STORIES]

    assert [result.removed for result in results] == [[], [], [TRAILER], [TRAILER], [TRAILER]]
    assert results[4].text == "\n\n".join(STORIES[4])


def test_earliest_articles_lose_the_trailer_once_it_is_recognised():
    source = SourceFactory()
    first, second = (store(source, html(*story, TRAILER)) for story in STORIES[:2])
    assert TRAILER in first.body_text  # nothing to compare with yet

    store(source, html(*STORIES[2], TRAILER))

    first.refresh_from_db()
    second.refresh_from_db()
    assert first.body_html == html(*STORIES[0])
    assert first.body_text == "\n\n".join(STORIES[0])
    assert TRAILER not in second.body_text


def test_other_sources_trailers_do_not_count():
    sources = [SourceFactory() for _ in STORIES]

    results = [
        clean_body(source=source, body_html=html(*story, TRAILER))
        for source, story in zip(sources, STORIES, strict=True)
    ]

    assert all(result.removed == [] for result in results)


def test_recurring_numbers_are_compared_as_numbers():
    source = SourceFactory()
    results = [
        clean_body(source=source, body_html=html(f"Reading time: {i + 2} minutes", *story))
        for i, story in enumerate(STORIES[:3])
    ]

    assert results[2].removed == ["Reading time: 4 minutes"]


def test_recurring_leading_paragraph_is_removed():
    source = SourceFactory()
    lead = "This article is part of our series on the future of the internet."
    results = [clean_body(source=source, body_html=html(lead, *story)) for story in STORIES]

    assert results[3].removed == [lead]
    assert results[3].html == html(*STORIES[3])


def test_recurring_closing_sentence_is_cut_from_the_last_paragraph():
    source = SourceFactory()
    closing = "The Daily Circuit will keep following this file closely."
    results = [
        clean_body(source=source, body_html=html(story[0], f"{story[1]} {closing}"))
        for story in STORIES[:3]
    ]

    assert results[2].removed == [closing]
    assert results[2].html == html(*STORIES[2])


def test_closing_sentence_after_a_link_is_cut_leaving_the_link():
    source = SourceFactory()
    closing = "Would you like to learn more about cybersecurity? If so, ask our chatbot!"
    body = (
        f"<p>{STORIES[0][0]}</p><p>Read the "
        '<a href="https://e.org/d" rel="noopener noreferrer nofollow">decision</a>'
        f" online. {closing}</p>"
    )

    cleaned = clean_body(source=source, body_html=body)

    assert cleaned.removed == [closing]
    assert cleaned.html.endswith('">decision</a> online.</p>')


def test_short_paragraph_repeated_in_the_middle_is_removed_long_one_kept():
    source = SourceFactory()
    aside = "Read also: our explainer on the Digital Services Act."
    background = (
        "The Digital Services Act, which applies to all online platforms operating in the "
        "European Union, requires them to assess systemic risks, give researchers access "
        "to data, explain how their recommender systems work, offer users a feed that is "
        "not based on profiling, and publish reports on content moderation twice a year, "
        "with fines of up to six percent of global turnover for the largest services."
    )
    results = [
        clean_body(source=source, body_html=html(story[0], aside, background, story[1]))
        for story in STORIES[:4]
    ]

    assert results[3].removed == [aside]
    assert background in results[3].text


def test_story_text_that_differs_between_articles_is_never_removed():
    source = SourceFactory()
    for story in STORIES:
        cleaned = clean_body(source=source, body_html=html(*story, "The law takes effect in May."))
        assert cleaned.removed[:1] != [story[0]]
        assert story[0] in cleaned.text and story[1] in cleaned.text


def test_body_made_only_of_boilerplate_is_left_unchanged():
    source = SourceFactory()
    body = html("Subscribe to our newsletter", "Share this article")

    cleaned = clean_body(source=source, body_html=body)

    assert cleaned.removed == []
    assert cleaned.html == body


def test_editor_patterns_remove_matching_paragraphs_anywhere():
    source = SourceFactory(strip_patterns="^Photo: .*$\n\n  Advertisement  \n")
    body = html(STORIES[0][0], "Photo: Reuters / J. Smith", "ADVERTISEMENT", STORIES[0][1])

    cleaned = clean_body(source=source, body_html=body)

    assert cleaned.removed == ["Photo: Reuters / J. Smith", "ADVERTISEMENT"]
    assert cleaned.html == html(*STORIES[0])


def test_invalid_editor_pattern_is_ignored_with_a_warning(caplog):
    source = SourceFactory(strip_patterns="([unclosed\n^Photo:")
    body = html(*STORIES[0], "Photo: AFP")

    with caplog.at_level(logging.WARNING, logger="articles.cleaning.trailers"):
        cleaned = clean_body(source=source, body_html=body)

    assert cleaned.removed == ["Photo: AFP"]
    assert "invalid strip pattern" in caplog.text


@pytest.mark.parametrize("pattern", ["", ".*", "x*", "^", "(?:)"])
def test_editor_pattern_matching_everything_is_ignored(pattern):
    source = SourceFactory(strip_patterns=f"{pattern}\n")

    cleaned = clean_body(source=source, body_html=html(*STORIES[1]))

    assert cleaned.removed == []


@pytest.mark.parametrize("pattern", [r"^(a+)+$", r"(\w+\s?)*$", r"^(a|aa)+$", r"(.*a){20}"])
def test_catastrophic_editor_pattern_neither_hangs_nor_removes(pattern):
    source = SourceFactory(strip_patterns=pattern)
    body = html(*STORIES[1], "a" * 3000 + "!", "aaaa aaaa " * 300 + "!")

    started = time.monotonic()
    cleaned = clean_body(source=source, body_html=body)

    assert time.monotonic() - started < 3
    assert STORIES[1][0] in cleaned.text


def test_overlong_editor_pattern_is_ignored():
    source = SourceFactory(strip_patterns="Photo" + "|x" * 400)

    cleaned = clean_body(source=source, body_html=html(*STORIES[1], "Photo: AFP"))

    assert cleaned.removed == []


def test_empty_body_is_returned_empty():
    assert clean_body(source=SourceFactory(), body_html="").html == ""
    assert clean_body(source=SourceFactory(), body_html="   ").removed == []


def test_query_count_is_bounded(django_assert_max_num_queries):
    source = SourceFactory()
    clean_body(source=source, body_html=html(*STORIES[0], TRAILER))

    with django_assert_max_num_queries(4):
        clean_body(source=source, body_html=html(*STORIES[1], TRAILER))
