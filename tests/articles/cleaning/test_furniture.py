"""Page furniture: headline, teasers and related-story links leave the body, story stays."""

from __future__ import annotations

import lxml.html

from articles.cleaning import furniture

URL = "https://www.outlet.example/2025/story"


def body(html: str):
    return lxml.html.fragment_fromstring(html, create_parent="div")


def texts(container) -> list[str]:
    return [furniture.block_text(child) for child in container]


def test_headline_repeating_the_title_and_its_kicker_go_keeping_following_text():
    container = body("<p>World</p><h2>Big fine for a platform</h2>Lead text.<p>Story.</p>")

    furniture.drop_headline(container, title="Big fine for a platform")

    assert texts(container) == ["Story."]
    assert container.text == "Lead text."


def test_headline_inside_a_section_label_is_recognised_but_not_a_longer_heading():
    assert furniture._is_headline(
        "Is football violence a crime?", "Opinion | Is Football Violence a Crime?"
    )
    assert furniture._is_headline(
        "Big fine for a platform", "Big fine for a platform - The Outlet"
    )
    assert not furniture._is_headline("Background", "Background checks for online sellers")
    container = body("<h2>What the law says</h2><p>Story.</p>")

    furniture.drop_headline(container, title="Court rules on what the law says about apps")

    assert texts(container) == ["What the law says", "Story."]


def test_related_links_are_links_to_the_same_outlet_only():
    outlet = "outlet.example"
    related = body('<p><a href="https://news.outlet.example/x">Earlier: a fine</a></p>')[0]
    labelled = body('<p>SEE MORE: <a href="/y">Ten things</a></p>')[0]
    cited = body('<p><a href="https://court.example/ruling.pdf">The ruling</a></p>')[0]
    prose = body(
        '<p>The regulator <a href="https://www.outlet.example/z">said on Monday</a> that '
        "it would appeal, and several member states backed it.</p>"
    )[0]

    assert furniture.is_related_link(related, outlet=outlet)
    # Relative links were made absolute by extraction; a bare path has no outlet.
    assert not furniture.is_related_link(labelled, outlet=outlet)
    assert not furniture.is_related_link(cited, outlet=outlet)
    assert not furniture.is_related_link(prose, outlet=outlet)


def test_drop_related_links_removes_blocks_and_link_lists_and_reports_them():
    container = body(
        "<p>Story one.</p>"
        '<p><strong>Read more:</strong> <a href="https://www.outlet.example/a">A story</a></p>'
        '<ul><li><a href="https://www.outlet.example/b">B</a></li>'
        '<li><a href="https://www.outlet.example/c">C</a></li></ul>'
        '<ul><li><a href="https://www.outlet.example/d">D</a></li><li>Plain item</li></ul>'
        "<p>Story two.</p>"
    )

    removed = furniture.drop_related_links(container, page_url=URL)

    assert removed == ["Read more: A story", "BC"]
    assert texts(container) == ["Story one.", "DPlain item", "Story two."]


def test_teaser_repeating_the_next_paragraph_goes():
    container = body(
        "<p>The Commission said on Friday that…</p><p>The Commission said on "
        "Friday that it would fine the firm.</p>"
    )

    furniture.drop_teasers(container)

    assert texts(container) == ["The Commission said on Friday that it would fine the firm."]
