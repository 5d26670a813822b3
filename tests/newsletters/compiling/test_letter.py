"""The editorial letter: Markdown in, sanitised HTML out, site links absolute."""

from __future__ import annotations

import pytest

from newsletters.compiling.letter import article_link, render_letter
from tests.factories import ArticleFactory


def test_markdown_becomes_paragraphs_and_emphasis():
    html = render_letter("Dear readers,\n\nThis week was *busy*.")
    assert "<p>Dear readers,</p>" in html
    assert "<em>busy</em>" in html


def test_link_to_an_article_path_becomes_an_absolute_site_link(settings):
    settings.SITE_URL = "https://digest.example.org"
    html = render_letter("Read [the ruling](/articles/12-eu-fines/).")
    assert 'href="https://digest.example.org/articles/12-eu-fines/"' in html
    assert ">the ruling</a>" in html


def test_outside_links_are_kept():
    html = render_letter("See [the act](https://eur-lex.europa.eu/eli/reg/2024/1689).")
    assert 'href="https://eur-lex.europa.eu/eli/reg/2024/1689"' in html


def test_raw_html_and_script_urls_in_markdown_are_removed():
    text = (
        "Hello <script>alert(1)</script> <img src=x onerror=alert(2)>\n\n"
        "[click](javascript:alert(3)) <a href='#' onclick='alert(4)'>x</a>"
    )
    html = render_letter(text).lower()
    assert "<script" not in html
    assert "onerror" not in html
    assert "onclick" not in html
    assert "javascript:" not in html
    assert "click" in html


def test_empty_letter_renders_nothing():
    assert render_letter("   \n") == ""


@pytest.mark.django_db
def test_story_picker_reference_follows_the_article_after_a_slug_change(settings):
    settings.SITE_URL = "https://digest.example.org"
    article = ArticleFactory(title="EU fines [big] platform", slug="eu-fines")
    text = f"Read {article_link(article)}."
    assert text == f"Read [EU fines (big) platform](article:{article.pk})."
    article.slug = "eu-fines-platform-record"
    article.save()
    html = render_letter(text)
    assert (
        f'href="https://digest.example.org/articles/{article.pk}-eu-fines-platform-record/"'
        in html
    )


@pytest.mark.django_db
def test_reference_to_a_deleted_article_leaves_no_link(django_assert_max_num_queries):
    with django_assert_max_num_queries(1):
        html = render_letter("See [gone](article:987654).")
    assert "gone" in html
    assert "987654" not in html
