"""The editorial letter: Markdown written in the admin, shown as sanitised HTML.

Editors link to stories on the site with ordinary Markdown links to the page's path
(``[the ruling](/articles/12-eu-fines/)``) or its full address. Paths come out as
absolute links to the site (``SITE_URL``), so the same HTML works on the web page
and in the email.
"""

from __future__ import annotations

import markdown
from django.conf import settings

from articles.cleaning.sanitising import sanitize_html

# Markdown's "extra" covers what a letter needs (footnotes, tables, abbreviations);
# sane_lists keeps numbered lists numbered.
_MARKDOWN_EXTENSIONS = ["extra", "sane_lists"]


def render_letter(text: str) -> str:
    """Return the letter's Markdown ``text`` as safe HTML.

    Promises: the output passed through the project's one sanitiser (no scripts,
    event handlers, styles or dangerous URLs, whatever the Markdown held); links to
    the site given as paths are made absolute with ``SITE_URL``.
    """
    if not text.strip():
        return ""
    html = markdown.markdown(text, extensions=_MARKDOWN_EXTENSIONS)
    return sanitize_html(html, base_url=settings.SITE_URL + "/")
