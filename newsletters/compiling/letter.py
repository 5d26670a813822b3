"""The editorial letter: Markdown written in the admin, shown as sanitised HTML.

Editors link to stories with the compile screen's story picker, which writes an
article reference: ``[the ruling](article:12)``. A reference is resolved to the
article's current page when the letter is rendered, so it survives a slug change.
Ordinary links to a page's path (``[the ruling](/articles/12-eu-fines/)``) or a full
address work too. Paths come out as absolute links to the site (``SITE_URL``), so the
same HTML works on the web page and in the email.
"""

from __future__ import annotations

import re

import markdown
from django.conf import settings

from articles.cleaning.sanitising import sanitize_html
from articles.models import Article

# Markdown's "extra" covers what a letter needs (footnotes, tables, abbreviations);
# sane_lists keeps numbered lists numbered.
_MARKDOWN_EXTENSIONS = ["extra", "sane_lists"]
# The link target of a Markdown link written by the story picker: "](article:12)".
ARTICLE_REFERENCE = re.compile(r"\]\(article:(\d+)\)")


def article_link(article: Article) -> str:
    """The Markdown the story picker inserts for ``article``."""
    title = article.title.replace("[", "(").replace("]", ")")
    return f"[{title}](article:{article.pk})"


def resolve_article_references(text: str) -> str:
    """``text`` with each ``](article:ID)`` pointing at that article's page now (one
    query); a reference to an article that is gone becomes plain text's empty link."""
    ids = {int(match) for match in ARTICLE_REFERENCE.findall(text)}
    if not ids:
        return text
    paths = {
        article.pk: article.get_absolute_url()
        for article in Article.objects.filter(pk__in=ids).only("id", "slug")
    }
    return ARTICLE_REFERENCE.sub(lambda m: f"]({paths.get(int(m.group(1)), '')})", text)


def render_letter(text: str) -> str:
    """Return the letter's Markdown ``text`` as safe HTML.

    Promises: the output passed through the project's one sanitiser (no scripts,
    event handlers, styles or dangerous URLs, whatever the Markdown held); article
    references point at the article's current page; links to the site given as paths
    are made absolute with ``SITE_URL``.
    """
    if not text.strip():
        return ""
    html = markdown.markdown(resolve_article_references(text), extensions=_MARKDOWN_EXTENSIONS)
    return sanitize_html(html, base_url=settings.SITE_URL + "/")
