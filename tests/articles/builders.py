"""Builders for feeds and article pages served by the loopback server in tests."""

from __future__ import annotations

import random
from html import escape

_VOCABULARY = """
regulator commission parliament data privacy platform competition antitrust
semiconductor export cyber security breach ransomware children online safety
content moderation algorithm transparency audit court ruling appeal fine
investigation merger acquisition cloud infrastructure cable satellite spectrum
telecom operator minister agency consultation draft law framework treaty
negotiation tariff trade customs cryptocurrency exchange stablecoin bank
payment identity biometric surveillance facial recognition health records
hospital encryption messaging backdoor election disinformation campaign
researchers report published warned experts industry association lobby group
"""
_WORDS = _VOCABULARY.split()


def story_paragraphs(seed: int, count: int = 5) -> list[str]:
    """Distinct, plausible paragraphs: different seeds give unrelated text."""
    rng = random.Random(seed)
    paragraphs = []
    for _ in range(count):
        sentences = []
        for _ in range(3):
            words = [rng.choice(_WORDS) for _ in range(rng.randint(12, 18))]
            sentences.append(" ".join(words).capitalize() + ".")
        paragraphs.append(" ".join(sentences))
    return paragraphs


def article_page(
    title: str,
    paragraphs: list[str],
    *,
    extra_body: str = "",
    head: str = "",
    charset: str = "utf-8",
) -> bytes:
    """A realistic article page: navigation, header, the article, a footer."""
    body = "".join(f"<p>{escape(paragraph)}</p>" for paragraph in paragraphs)
    html = f"""<!doctype html>
<html lang="en"><head><meta charset="{charset}"><title>{escape(title)} | Policy Wire</title>
<meta property="og:title" content="{escape(title)}">{head}</head>
<body>
<nav><ul><li><a href="/">Home</a></li><li><a href="/topics">Topics</a></li></ul></nav>
<main><article>
<h1>{escape(title)}</h1>
<p class="byline">By Jane Roe</p>
{body}
{extra_body}
</article></main>
<footer><p>Copyright Policy Wire. All rights reserved.</p></footer>
</body></html>"""
    return html.encode(charset, errors="xmlcharrefreplace")


def rss_item(
    *,
    title: str,
    link: str | None = None,
    guid: str | None = None,
    description: str = "",
    content: str = "",
    pub_date: str | None = "Fri, 18 Apr 2025 10:00:00 GMT",
) -> str:
    parts = [f"<title>{escape(title)}</title>"]
    if link is not None:
        parts.append(f"<link>{escape(link)}</link>")
    if guid is not None:
        parts.append(f'<guid isPermaLink="false">{escape(guid)}</guid>')
    if description:
        parts.append(f"<description>{escape(description)}</description>")
    if content:
        parts.append(f"<content:encoded><![CDATA[{content}]]></content:encoded>")
    if pub_date:
        parts.append(f"<pubDate>{pub_date}</pubDate>")
    return "<item>" + "".join(parts) + "</item>"


def rss_feed(items: list[str], *, title: str = "Policy Wire", encoding: str = "utf-8") -> bytes:
    declaration = f'<?xml version="1.0" encoding="{encoding}"?>' if encoding else ""
    text = (
        f'{declaration}<rss version="2.0" '
        'xmlns:content="http://purl.org/rss/1.0/modules/content/"><channel>'
        f"<title>{escape(title)}</title><link>https://policywire.example/</link>"
        + "".join(items)
        + "</channel></rss>"
    )
    return text.encode(encoding or "utf-8", errors="xmlcharrefreplace")


def serve_story_feed(server, prefix: str, count: int, *, seed: int = 0, etag: str = "") -> str:
    """Serve a feed at ``/{prefix}/feed.xml`` with ``count`` stories and their pages."""
    items = []
    for number in range(count):
        title = f"Story {prefix} {number}: regulators act on {_WORDS[(seed + number) % 40]}"
        path = f"/{prefix}/story-{number}.html"
        server.serve(path, article_page(title, story_paragraphs(seed * 1000 + number)))
        items.append(
            rss_item(
                title=title,
                link=server.url(path) + "?utm_source=rss&utm_medium=feed",
                guid=f"{prefix}-{number}",
                description=f"Summary of story {number}.",
            )
        )
    return server.serve(
        f"/{prefix}/feed.xml",
        rss_feed(items),
        content_type="application/rss+xml",
        etag=etag,
    )
