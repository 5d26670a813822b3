"""Headline, blurb and image an item starts with."""

from __future__ import annotations

import pytest

from newsletters.compiling.blurbs import (
    BLURB_MAX_CHARS,
    blurb_from_text,
    prefill_from_article,
    split_sentences,
)
from tests.factories import ArticleFactory


def test_two_short_sentences_make_the_blurb():
    text = "The EU fined a platform. The fine is the largest yet. Appeals are expected."
    assert blurb_from_text(text) == "The EU fined a platform. The fine is the largest yet."


def test_second_sentence_left_out_when_both_do_not_fit():
    first = "Regulators in Brussels opened an inquiry into " + "very " * 30 + "large platforms."
    second = "It could take a year, officials said, " + "and more " * 20 + "."
    blurb = blurb_from_text(f"{first} {second}")
    assert blurb == first
    assert len(blurb) <= BLURB_MAX_CHARS


def test_blurb_ends_on_a_sentence_boundary_and_within_the_limit():
    text = " ".join(f"Sentence number {n} says something about policy." for n in range(20))
    blurb = blurb_from_text(text)
    assert len(blurb) <= BLURB_MAX_CHARS
    assert blurb.endswith(".")
    assert text.startswith(blurb)


def test_abbreviations_do_not_end_a_sentence():
    text = "The U.S. Senate met Dr. Jones on e.g. AI rules. A vote follows."
    assert split_sentences(text) == [
        "The U.S. Senate met Dr. Jones on e.g. AI rules.",
        "A vote follows.",
    ]


def test_question_and_quote_endings_are_boundaries():
    text = 'Is the law enough? "No," said the minister. Debate goes on.'
    assert split_sentences(text)[:2] == ["Is the law enough?", '"No," said the minister.']


def test_overlong_first_sentence_is_cut_at_a_word_with_an_ellipsis():
    text = "The ministers agreed " + "on a long list of measures " * 20 + "today."
    blurb = blurb_from_text(text)
    assert blurb.endswith("…")
    assert len(blurb) <= BLURB_MAX_CHARS
    assert text.startswith(blurb[:-1])


def test_empty_text_gives_empty_blurb():
    assert blurb_from_text("  ") == ""


@pytest.mark.django_db
def test_prefill_takes_title_image_and_opening_sentences():
    article = ArticleFactory(
        title="Court halts <b>data</b> transfer deal",
        image_url="https://img.example.org/court.jpg",
        body_text="Court halts data transfer deal\n\nA court suspended the deal on Monday. "
        "Companies must stop transfers. More hearings follow in June.",
    )

    prefill = prefill_from_article(article=article)

    assert prefill.headline == "Court halts data transfer deal"
    assert prefill.blurb == "A court suspended the deal on Monday. Companies must stop transfers."
    assert prefill.image_url == "https://img.example.org/court.jpg"


@pytest.mark.django_db
def test_prefill_falls_back_to_the_feed_summary():
    article = ArticleFactory(
        body_text="",
        body_html="",
        summary="<p>Parliament adopted the act. It enters into force soon.</p>",
    )
    assert prefill_from_article(article=article).blurb == (
        "Parliament adopted the act. It enters into force soon."
    )


@pytest.mark.django_db
def test_prefill_skips_a_dateline_and_a_repeated_headline_ending_in_a_full_stop():
    article = ArticleFactory(
        title="Senate passes chip subsidies.",
        body_text="Senate passes chip subsidies.\nWASHINGTON\n"
        "Lawmakers approved the package late on Tuesday. The House votes next.",
    )
    assert prefill_from_article(article=article).blurb == (
        "Lawmakers approved the package late on Tuesday. The House votes next."
    )


@pytest.mark.django_db
def test_prefill_does_not_repeat_the_standfirst_or_the_title():
    article = ArticleFactory(
        title="Retailer breach exposes customers",
        body_text=(
            "Retailer breach exposes customers\n"
            "About 90,000 customers had their data exposed.\n"
            "About 90,000 customers had their data exposed.\n"
            "The company notified the regulator on Monday."
        ),
    )
    blurb = prefill_from_article(article=article).blurb
    assert blurb == (
        "About 90,000 customers had their data exposed. "
        "The company notified the regulator on Monday."
    )


def test_blurb_length_follows_the_setting(settings):
    settings.NEWSLETTER_BLURB_MAX_CHARS = 60
    text = "A first sentence that is fairly long on its own. A second one."
    assert blurb_from_text(text) == "A first sentence that is fairly long on its own."


@pytest.mark.django_db
def test_a_long_title_is_kept_whole_in_the_prefill_and_the_stored_item():
    from newsletters.compiling.items import add_article_item
    from tests.factories import IssueFactory

    title = "Regulators " + "and ministers " * 22 + "agree on the rules!!"  # 339 characters
    assert len(title) == 339
    article = ArticleFactory(title=title, body_text="A deal was struck. More follows.")

    assert prefill_from_article(article=article).headline == title
    item = add_article_item(issue=IssueFactory(), article=article)
    item.refresh_from_db()
    assert item.headline == title
