"""Agreement of two opinions: disputed blocks come back only inside the article."""

from __future__ import annotations

import lxml.html

from articles.cleaning.agreement import marked_body_text, merge_opinions
from articles.cleaning.furniture import block_text


def body(*blocks: str):
    return lxml.html.fragment_fromstring("".join(blocks), create_parent="div")


def texts(container) -> list[str]:
    return [block_text(child) for child in container]


def test_block_between_agreed_ones_is_put_back_in_place():
    precise = body("<p>One.</p>", "<p>Three.</p>")
    balanced = body("<p>One.</p>", "<p>Two, with a <a href='/x'>link</a>.</p>", "<p>Three.</p>")

    restored = merge_opinions(precise, balanced)

    assert restored == ["Two, with a link."]
    assert texts(precise) == ["One.", "Two, with a link.", "Three."]


def test_blocks_at_the_edges_stay_out_unless_the_publisher_marks_them_as_body():
    precise = body("<p>One.</p>", "<p>Two.</p>")
    balanced = body("<p>Menu line</p>", "<p>One.</p>", "<p>Two.</p>", "<p>Sign up now</p>")

    assert merge_opinions(precise, balanced) == []
    assert texts(precise) == ["One.", "Two."]

    marked = marked_body_text(
        lxml.html.fromstring(
            '<html><body><div itemprop="articleBody"><p>Menu line</p><p>One.</p><p>Two.</p>'
            "</div><p>Sign up now</p></body></html>"
        )
    )
    assert merge_opinions(precise, balanced, marked_text=marked) == ["Menu line"]
    assert texts(precise) == ["Menu line", "One.", "Two."]


def test_tables_precision_dropped_are_not_put_back():
    precise = body("<p>One.</p>", "<p>Two.</p>")
    balanced = body("<p>One.</p>", "<table><tr><td>Player</td></tr></table>", "<p>Two.</p>")

    assert merge_opinions(precise, balanced) == []


def test_paragraph_precision_kept_without_its_link_text_is_taken_whole():
    precise = body("<p>One.</p>", "<p>The insider reported that for his role.</p>", "<p>Two.</p>")
    balanced = body(
        "<p>One.</p>",
        "<p>The insider reported that <a href='/x'>the league will fine him</a> for his role.</p>",
        "<p>Two.</p>",
    )

    merge_opinions(precise, balanced)

    assert texts(precise) == [
        "One.",
        "The insider reported that the league will fine him for his role.",
        "Two.",
    ]


def test_a_different_paragraph_is_not_taken_for_a_fuller_one():
    precise = body("<p>One.</p>", "<p>Short line here.</p>", "<p>Two.</p>")
    balanced = body("<p>One.</p>", "<p>Another paragraph entirely, longer.</p>", "<p>Two.</p>")

    merge_opinions(precise, balanced)

    assert texts(precise) == [
        "One.",
        "Short line here.",
        "Another paragraph entirely, longer.",
        "Two.",
    ]


def test_opinions_that_agree_block_for_block_leave_the_body_as_it_is():
    precise = body("<p>One.</p>", "<p>Two, with a <a href='/x'>link</a>.</p>")
    balanced = body("<p>One.</p>", "<p>Two, with a <a href='/y'>link</a>.</p>")

    assert merge_opinions(precise, balanced) == []
    assert lxml.html.tostring(precise) == (
        b'<div><p>One.</p><p>Two, with a <a href="/x">link</a>.</p></div>'
    )


def test_blocks_differing_only_in_spacing_count_as_the_same():
    precise = body("<p>One  word\n apart.</p>", "<p>Three.</p>")
    balanced = body("<p>One word apart.</p>", "<p>Three.</p>")

    assert merge_opinions(precise, balanced) == []
    assert texts(precise) == ["One word apart.", "Three."]
