"""Full-text extraction from fetched page bytes."""

from __future__ import annotations

import socket
from datetime import UTC, datetime, timedelta

import pytest

from articles.cleaning.extraction import ExtractionError, extract_article

URL = "https://policywire.example/2025/04/eu-fines"

STORY = [
    "The European Commission on Friday fined three large technology companies a combined "
    "1.2 billion euros for transferring personal data of European users to servers abroad "
    "without adequate safeguards, according to a decision published in Brussels.",
    "The decision, which follows a two-year investigation, found that the companies had "
    "relied on contractual clauses that no longer provided sufficient protection after a "
    "2020 ruling by the Court of Justice of the European Union.",
    "Consumer groups welcomed the fine but said enforcement remained too slow, noting that "
    "complaints about the transfers had been filed with national regulators as early as 2018.",
]


def page(*, head: str = "", body_extra: str = "", lang: str = "en") -> str:
    paragraphs = "".join(f"<p>{text}</p>" for text in STORY)
    return f"""<!doctype html><html lang="{lang}"><head>
    <meta charset="utf-8"><title>EU fines Big Tech over data transfers | Policy Wire</title>
    <meta property="og:title" content="EU fines Big Tech over data transfers">
    <meta name="author" content="Jane Doe">
    {head}
    </head><body>
    <header><nav><a href="/">Home</a> <a href="/ai">AI</a></nav></header>
    <main><article>
    <h1>EU fines Big Tech over data transfers</h1>
    {paragraphs}
    {body_extra}
    </article></main>
    <footer><p>Copyright Policy Wire. All rights reserved.</p></footer>
    </body></html>"""


@pytest.fixture
def no_network(monkeypatch):
    """Fail the test if anything tries to open a network connection."""

    def refuse(*args, **kwargs):
        raise AssertionError("extraction tried to open a network connection")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)


def test_extracts_text_title_author_and_language(no_network):
    article = extract_article(html=page(), url=URL)

    assert article.title == "EU fines Big Tech over data transfers"
    assert article.author == "Jane Doe"
    assert article.language == "en"
    assert article.body_text.split("\n\n") == STORY
    assert article.body_html.count("<p>") == 3


def test_headline_repeating_the_title_is_left_out_of_the_body(no_network):
    article = extract_article(html=page(), url=URL)

    assert "EU fines Big Tech" not in article.body_text
    assert "<h2>EU fines" not in article.body_html


def test_body_keeps_headings_lists_quotes_and_absolute_links(no_network):
    extra = (
        "<h2>Industry reaction</h2><ul><li>One company said it would appeal.</li>"
        "<li>Another said it had already changed its practices.</li></ul>"
        "<blockquote>We will comply, said a spokesperson for one of the firms.</blockquote>"
        '<p>Read the <a href="../decision.pdf">full decision</a> published by the Commission'
        " on its website this morning.</p>"
    )
    article = extract_article(html=page(body_extra=extra), url=URL)

    assert "<h2>Industry reaction</h2>" in article.body_html
    assert "<li>One company said it would appeal.</li>" in article.body_html
    assert "<blockquote>" in article.body_html
    assert 'href="https://policywire.example/2025/decision.pdf"' in article.body_html
    assert 'rel="noopener noreferrer nofollow"' in article.body_html
    assert "- One company said it would appeal." in article.body_text


def test_hostile_markup_inside_the_article_is_sanitised(no_network):
    extra = (
        '<p onclick="alert(1)">A paragraph with a <a href="javascript:alert(1)">bad link</a>'
        ' and an <img src="x.png" onerror="alert(2)"> image, plus more words to keep it.</p>'
        "<script>alert(3)</script><iframe src='https://evil.example/'></iframe>"
        '<p style="display:none">Styled paragraph that also carries enough words here.</p>'
    )
    article = extract_article(html=page(body_extra=extra), url=URL)

    lowered = article.body_html.lower()
    for needle in ("javascript:", "onclick", "onerror", "<script", "<iframe", "style="):
        assert needle not in lowered
    assert "alert" not in article.body_text


def test_published_time_keeps_the_stated_offset(no_network):
    head = '<meta property="article:published_time" content="2025-04-18T09:30:00+02:00">'
    article = extract_article(html=page(head=head), url=URL)

    assert article.published_at == datetime(2025, 4, 18, 7, 30, tzinfo=UTC)
    assert article.published_at.utcoffset() == timedelta(hours=2)


def test_published_date_without_time_is_noon_utc(no_network):
    head = '<meta name="date" content="2025-04-18">'
    article = extract_article(html=page(head=head), url=URL)

    assert article.published_at == datetime(2025, 4, 18, 12, 0, tzinfo=UTC)


def test_lead_image_from_og_image_is_made_absolute(no_network):
    head = '<meta property="og:image" content="/img/lead.jpg">'
    article = extract_article(html=page(head=head), url=URL)

    assert article.image_url == "https://policywire.example/img/lead.jpg"


def test_lead_image_falls_back_to_the_first_image_in_the_text(no_network):
    extra = '<figure><img src="chart.png" alt="Fines by year"></figure><p>' + STORY[0] + "</p>"
    article = extract_article(html=page(body_extra=extra), url=URL)

    assert article.image_url == "https://policywire.example/2025/04/chart.png"


@pytest.mark.parametrize(
    "image", ["javascript:alert(1)", "data:image/png;base64,AAAA", "file:///etc/passwd"]
)
def test_lead_image_that_is_not_http_is_ignored(no_network, image):
    head = f'<meta property="og:image" content="{image}">'
    article = extract_article(html=page(head=head), url=URL)

    assert article.image_url == ""


def test_title_and_author_are_plain_text(no_network):
    html = page().replace(
        '<meta property="og:title" content="EU fines Big Tech over data transfers">',
        '<meta property="og:title" content="EU &lt;b&gt;fines&lt;/b&gt; Big Tech">',
    )
    html = html.replace("Jane Doe", "Jane &lt;b&gt;Doe&lt;/b&gt;")
    article = extract_article(html=html, url=URL)

    assert article.title == "EU fines Big Tech"
    assert article.author == "Jane Doe"


def test_latin1_bytes_are_decoded_from_the_meta_charset(no_network):
    html = page(lang="fr").replace('<meta charset="utf-8">', '<meta charset="iso-8859-1">')
    html = html.replace(STORY[1], "La décision évoque des données transférées à l'étranger. " * 4)
    article = extract_article(html=html.encode("latin-1"), url=URL)

    assert "La décision évoque des données" in article.body_text
    assert article.language == "fr"


@pytest.mark.parametrize(
    "html",
    [
        b"",
        "   ",
        "<html><body><nav><a href='/'>Home</a></nav></body></html>",
        b"\x00\x01\x02\x03",
    ],
)
def test_page_without_main_text_raises_a_readable_error(no_network, html):
    with pytest.raises(ExtractionError) as error:
        extract_article(html=html, url=URL)

    assert str(error.value)


def test_published_at_is_always_aware(no_network):
    head = '<meta property="article:published_time" content="2025-04-18T09:30:00">'
    article = extract_article(html=page(head=head), url=URL)

    assert article.published_at is not None
    assert article.published_at.tzinfo is not None
    assert article.published_at.astimezone(UTC).date().isoformat() == "2025-04-18"


def test_relative_links_follow_the_pages_base_href(no_network):
    head = '<base href="https://cdn.policywire.example/archive/">'
    extra = (
        '<p>Read the <a href="decision.pdf">full decision</a> and the '
        '<a href="https://other.example/x">reaction</a> published this morning in Brussels.</p>'
    )
    article = extract_article(html=page(head=head, body_extra=extra), url=URL)

    assert 'href="https://cdn.policywire.example/archive/decision.pdf"' in article.body_html
    assert 'href="https://other.example/x"' in article.body_html


def test_relative_links_without_base_href_follow_the_page(no_network):
    extra = (
        '<p>Read the <a href="decision.pdf">full decision</a>, the <a href="../annex">annex</a>,'
        ' the <a href="/press/statement">statement</a> and the '
        '<a href="//cdn.policywire.example/chart.png">chart</a> published this morning.</p>'
        '<p><img src="figures/fine.jpg" alt="Fine"> The figure shows the fine per company.</p>'
    )
    article = extract_article(html=page(body_extra=extra), url=URL)

    assert 'href="https://policywire.example/2025/04/decision.pdf"' in article.body_html
    assert 'href="https://policywire.example/2025/annex"' in article.body_html
    assert 'href="https://policywire.example/press/statement"' in article.body_html
    assert 'href="https://cdn.policywire.example/chart.png"' in article.body_html
    # Images are not part of the body; the first one in the article is the lead image.
    assert "<img" not in article.body_html
    assert article.image_url == "https://policywire.example/2025/04/figures/fine.jpg"


def test_trafilatura_caches_are_reset_periodically(no_network, monkeypatch):
    import trafilatura.meta

    from articles.cleaning import extraction

    resets = []
    monkeypatch.setattr(extraction, "RESET_CACHES_EVERY", 3)
    monkeypatch.setattr(extraction, "_extractions", 0)
    monkeypatch.setattr(trafilatura.meta, "reset_caches", lambda: resets.append(1))

    for _ in range(7):
        extract_article(html=page(), url=URL)

    assert len(resets) == 2


def test_teaser_repeating_the_first_paragraph_is_left_out(no_network):
    html = page().replace(
        "<h1>EU fines Big Tech over data transfers</h1>",
        "<h1>EU fines Big Tech over data transfers</h1>"
        f'<p class="dek">{STORY[0][:80]}&hellip;</p>',
    )
    article = extract_article(html=html, url=URL)

    assert article.body_text.split("\n\n") == STORY


def test_figure_captions_credits_and_galleries_never_become_paragraphs(no_network):
    extra = (
        '<figure><img src="/img/court.jpg" alt="The court">'
        "<figcaption>The Court of Justice in Luxembourg. (Photo: Jane Roe/Agency)</figcaption>"
        "</figure>"
        '<div class="gallery"><figure><img src="/g/1.jpg">'
        "<figcaption>Slide 1 of 12: protesters outside the Commission</figcaption></figure>"
        '<figure><img src="/g/2.jpg"><figcaption>Slide 2 of 12: the press room</figcaption>'
        "</figure></div>"
        f"<p>{STORY[0]}</p>"
    )
    article = extract_article(html=page(body_extra=extra), url=URL)

    assert STORY[2] in article.body_text
    for caption in ("Luxembourg", "Jane Roe", "Slide 1 of 12", "press room"):
        assert caption not in article.body_text
        assert caption not in article.body_html


def test_related_story_links_of_the_outlet_are_dropped_prose_with_links_kept(no_network):
    extra = (
        '<p><strong>Read more:</strong> <a href="/2025/03/earlier-fine">Brussels fined a '
        "cloud provider last month</a></p>"
        '<ul><li><a href="https://www.policywire.example/a">Five things to know about '
        'transfers</a></li><li><a href="https://news.policywire.example/b">What the ruling '
        "means</a></li></ul>"
        '<p>The court <a href="https://www.policywire.example/court">explained its reasoning'
        "</a> in a long statement that was read out to the parties on Friday morning.</p>"
        f"<p>{STORY[1]} It was the second such decision this year.</p>"
    )
    article = extract_article(html=page(body_extra=extra), url=URL)

    assert "cloud provider last month" not in article.body_text
    assert "Five things to know" not in article.body_text
    assert "What the ruling means" not in article.body_text
    assert "explained its reasoning in a long statement" in article.body_text
    assert "second such decision" in article.body_text


def test_headline_with_a_section_label_in_the_title_is_left_out(no_network):
    html = (
        page()
        .replace(
            "<title>EU fines Big Tech over data transfers | Policy Wire</title>",
            "<title>Analysis | EU fines Big Tech over data transfers</title>",
        )
        .replace('<meta property="og:title" content="EU fines Big Tech over data transfers">', "")
    )
    article = extract_article(html=html, url=URL)

    assert article.title.endswith("EU fines Big Tech over data transfers")
    assert not article.body_text.startswith("EU fines")
    assert article.body_text.startswith(STORY[0][:40])


def test_text_following_the_headline_in_the_same_block_is_kept(no_network):
    html = page().replace(
        "<h1>EU fines Big Tech over data transfers</h1>",
        "<div><h1>EU fines Big Tech over data transfers</h1>"
        "Officials in Brussels described the decision as the largest of its kind so far "
        "and said more cases were being prepared against other firms.</div>",
    )
    article = extract_article(html=html, url=URL)

    assert "largest of its kind so far" in article.body_text


def test_publication_time_the_page_declares_is_taken_with_its_offset(no_network):
    head = '<meta property="article:published_time" content="2019-11-20T04:31:13-06:00">'
    article = extract_article(html=page(head=head), url=URL)

    assert article.published_at == datetime(2019, 11, 20, 10, 31, 13, tzinfo=UTC)


def test_publication_time_in_json_ld_is_taken(no_network):
    head = (
        '<script type="application/ld+json">{"@type": "NewsArticle", '
        '"datePublished": "2019-11-19T07:03:25+00:00"}</script>'
    )
    article = extract_article(html=page(head=head), url=URL)

    assert article.published_at == datetime(2019, 11, 19, 7, 3, 25, tzinfo=UTC)


def test_placeholder_publication_time_is_not_taken(no_network):
    head = (
        '<script type="application/ld+json">{"@type": "NewsArticle", '
        '"datePublished": "0001-01-01T00:00:00+00:00"}</script>'
    )
    article = extract_article(html=page(head=head), url=URL)

    assert article.published_at is None or article.published_at.year >= 1990


def test_trafilatura_leaves_the_tree_it_is_given_unchanged(no_network):
    # extract_article hands its one parsed tree to both trafilatura passes and reads the
    # page's own metadata from it afterwards; that holds only while trafilatura works
    # on a copy. A version that prunes the tree in place would fail here.
    from lxml import etree
    from trafilatura.utils import load_html

    from articles.cleaning.extraction import _trafilatura

    tree = load_html(page(body_extra='<div class="comments"><p>A reader comment.</p></div>'))
    before = etree.tostring(tree)
    for favor_precision in (True, False):
        _trafilatura(tree, url=URL, favor_precision=favor_precision, with_metadata=True)
    _trafilatura(tree, url=URL, favor_precision=False, with_metadata=False, fast=True)
    assert etree.tostring(tree) == before


def test_related_link_only_the_balanced_pass_kept_is_dropped_by_its_resolved_address(
    no_network,
):
    # Precision mode drops this link-only paragraph and the balanced pass, which is not
    # given the page address, keeps it with the link as written; it is put back between
    # agreed paragraphs, and only once its link is resolved to the page's own outlet is it
    # recognised as a related-story link.
    related = (
        '<p>Read: <a href="/press/decision">The full decision on the data transfers '
        "published by the Commission</a></p>"
    )
    paragraphs = f"<p>{STORY[0]}</p>{related}<p>{STORY[1]}</p><p>{STORY[2]}</p>"
    html = (
        '<html lang="en"><head><title>EU fines</title></head><body><nav><a href="/">Home</a>'
        f"</nav><main><article><h1>EU fines</h1>{paragraphs}</article></main></body></html>"
    )
    article = extract_article(html=html, url=URL)

    assert STORY[1] in article.body_text
    assert "full decision" not in article.body_text


def test_page_chrome_dropped_before_the_balanced_pass_keeps_json_ld_and_following_text():
    import lxml.html

    from articles.cleaning.extraction import _drop_page_chrome

    tree = lxml.html.document_fromstring(
        '<html><head><script type="application/ld+json">{"@type": "NewsArticle"}</script>'
        "<script>track()</script><style>p {}</style></head><body>"
        "<nav><a href='/'>Home</a></nav>Text after the menu."
        "<article><p>Story.</p><aside>Most read</aside><svg><text>chart</text></svg></article>"
        "<footer>Copyright</footer></body></html>"
    )
    _drop_page_chrome(tree)

    assert [element.tag for element in tree.iter("script")] == ["script"]
    assert tree.find(".//script").get("type") == "application/ld+json"
    assert not tree.xpath("//nav | //aside | //svg | //footer | //style")
    assert tree.body.text_content() == "Text after the menu.Story."
