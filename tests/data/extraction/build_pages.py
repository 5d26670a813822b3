# ruff: noqa: E501 - the page templates are HTML, kept one element to a line as written
"""Build the extraction evaluation pages from articles.json.

Five fictional outlets, each with its own page template (navigation, cookie
banner, sidebars, related links, footer) and its own habits at the end of a
story: a chatbot promotion and share box (policywire), a membership appeal and a
newsletter line plus a "listen" line at the top (techledger), a closing sentence
glued to the last paragraph and a photo credit (brusselsbytes), and none at all
(asiadigital, whose short closing paragraphs are story text and must stay), and a
chatbot promotion whose wording changes with each story after a short closing
paragraph that only looks like a trailer ("Shares in…", "Sign-up rates…") (dwatch).

Run it after editing articles.json; the generated pages/ and truth/ files are
committed so the evaluation does not depend on this script's exact output:

    .venv/bin/python tests/data/extraction/build_pages.py
"""

from __future__ import annotations

import html
import json
from pathlib import Path

HERE = Path(__file__).resolve().parent

SOURCES = {
    "policywire": {"name": "Policy Wire", "site": "https://policywire.example"},
    "techledger": {"name": "Tech Ledger", "site": "https://www.techledger.example"},
    "brusselsbytes": {"name": "Brussels Bytes", "site": "https://brusselsbytes.example"},
    "asiadigital": {"name": "Asia Digital Review", "site": "https://asiadigital.example"},
    "dwatch": {"name": "Digital Watch Updates", "site": "https://dwatch.example"},
}


def body_html(blocks: list[str]) -> str:
    out: list[str] = []
    list_items: list[str] = []
    table_rows: list[list[str]] = []

    def flush() -> None:
        if list_items:
            out.append(
                "<ul>" + "".join(f"<li>{html.escape(i)}</li>" for i in list_items) + "</ul>"
            )
            list_items.clear()
        if table_rows:
            head, *rows = table_rows
            cells = "".join(f"<th>{html.escape(c)}</th>" for c in head)
            body = "".join(
                "<tr>" + "".join(f"<td>{html.escape(c)}</td>" for c in row) + "</tr>"
                for row in rows
            )
            out.append(f"<table><thead><tr>{cells}</tr></thead><tbody>{body}</tbody></table>")
            table_rows.clear()

    for block in blocks:
        if block.startswith("- "):
            if table_rows:
                flush()
            list_items.append(block[2:])
            continue
        if block.startswith("| "):
            if list_items:
                flush()
            table_rows.append([c.strip() for c in block.strip("| ").split(" | ")])
            continue
        flush()
        if block.startswith("## "):
            out.append(f"<h2>{html.escape(block[3:])}</h2>")
        elif block.startswith("> "):
            out.append(f"<blockquote><p>{html.escape(block[2:])}</p></blockquote>")
        else:
            out.append(f"<p>{html.escape(block)}</p>")
    flush()
    return "\n".join(out)


def true_text(blocks: list[str]) -> str:
    lines = []
    for block in blocks:
        for prefix in ("## ", "- ", "> "):
            if block.startswith(prefix):
                block = block[len(prefix) :]
        if block.startswith("| "):
            block = " ".join(c.strip() for c in block.strip("| ").split(" | "))
        lines.append(block)
    return "\n\n".join(lines) + "\n"


def policywire(a: dict, index: int) -> str:
    return f"""<!DOCTYPE html>
<html lang="en-GB">
<head>
<meta charset="utf-8">
<title>{html.escape(a["title"])} - Policy Wire</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta property="og:type" content="article">
<meta property="og:title" content="{html.escape(a["title"])}">
<meta property="og:image" content="/wp-content/uploads/2025/04/{a["slug"]}.jpg">
<meta property="article:published_time" content="{a["date"]}">
<meta name="author" content="{html.escape(a["author"])}">
<link rel="stylesheet" href="/wp-content/themes/wire/style.css">
<script>window.dataLayer = window.dataLayer || []; dataLayer.push({{"page": "{a["slug"]}"}});</script>
</head>
<body class="post-template-default single single-post">
<div id="cookie-notice" role="dialog"><p>We use cookies to give you the best experience on our website. You can change your settings at any time.</p><button>Accept all</button><button>Settings</button></div>
<header class="site-header">
  <a class="logo" href="/">Policy Wire</a>
  <nav class="main-nav"><ul>
    <li><a href="/topics/ai/">AI</a></li><li><a href="/topics/privacy/">Privacy</a></li>
    <li><a href="/topics/cybersecurity/">Cybersecurity</a></li><li><a href="/topics/trade/">Trade</a></li>
    <li><a href="/events/">Events</a></li><li><a href="/about/">About</a></li>
  </ul></nav>
  <form class="search" action="/"><input name="s" placeholder="Search"></form>
</header>
<div class="breadcrumbs"><a href="/">Home</a> &raquo; <a href="/updates/">Updates</a> &raquo; {html.escape(a["title"])}</div>
<main id="main" class="site-main">
<article id="post-{1000 + index}" class="post type-post status-publish">
  <header class="entry-header">
    <h1 class="entry-title">{html.escape(a["title"])}</h1>
    <div class="entry-meta">Published on <time datetime="{a["date"]}">{a["date"][:10]}</time> by <span class="author">{html.escape(a["author"])}</span></div>
  </header>
  <div class="entry-content">
{body_html(a["blocks"])}
<p>Would you like to learn more about AI, tech and digital diplomacy? If so, ask our Diplo chatbot!</p>
  </div>
  <div class="share-box"><p>Share this article</p><a href="https://facebook.example/share">Facebook</a> <a href="https://x.example/share">X</a> <a href="https://linkedin.example/share">LinkedIn</a></div>
  <footer class="entry-footer"><span class="tags">Tags: <a href="/tag/policy/">policy</a>, <a href="/tag/regulation/">regulation</a></span></footer>
</article>
<section class="related-posts"><h2>Related updates</h2><ul>
  <li><a href="/updates/g7-digital-ministers/">G7 digital ministers agree on AI reporting framework for developers</a></li>
  <li><a href="/updates/oecd-ai-principles/">OECD updates its AI principles to cover general-purpose systems</a></li>
  <li><a href="/updates/itu-council/">ITU council meets to discuss the future of internet governance</a></li>
</ul></section>
</main>
<aside class="sidebar"><h3>Upcoming events</h3><ul><li><a href="/events/igf/">Internet Governance Forum, 23 June</a></li><li><a href="/events/wsis/">WSIS+20 review, 7 July</a></li></ul>
<div class="newsletter-widget"><h3>Weekly newsletter</h3><p>Subscribe to our newsletter and get the digest every Friday.</p><form><input type="email"><button>Subscribe</button></form></div></aside>
<footer class="site-footer"><p>&copy; 2025 Policy Wire. All rights reserved.</p><p><a href="/privacy/">Privacy policy</a> | <a href="/contact/">Contact</a></p></footer>
<script src="/wp-includes/js/wire.min.js"></script>
</body>
</html>
"""


def techledger(a: dict, index: int) -> str:
    minutes = 3 + index % 4
    return f"""<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>{html.escape(a["title"])} | Tech Ledger</title>
<meta name="description" content="{html.escape(a["blocks"][0][:150])}">
<meta property="og:title" content="{html.escape(a["title"])}">
<meta property="og:image" content="https://cdn.techledger.example/images/{a["slug"]}/lead.jpg">
<script type="application/ld+json">{{"@context": "https://schema.org", "@type": "NewsArticle", "headline": {json.dumps(a["title"])}, "datePublished": "{a["date"]}", "author": {{"@type": "Person", "name": {json.dumps(a["author"])}}}}}</script>
</head>
<body>
<div class="consent-banner"><p>This site uses cookies to personalise content and to analyse our traffic.</p><a href="/cookies">Manage cookies</a></div>
<div class="topbar"><a href="/">Tech Ledger</a><ul class="sections"><li><a href="/policy">Policy</a></li><li><a href="/business">Business</a></li><li><a href="/science">Science</a></li><li><a href="/opinion">Opinion</a></li></ul><a class="btn" href="/membership">Become a member</a></div>
<div class="page">
<div class="story">
  <div class="story-header">
    <span class="kicker"><a href="/policy">Policy</a></span>
    <h1>{html.escape(a["title"])}</h1>
    <p class="dek">{html.escape(a["blocks"][0][:90])}&hellip;</p>
    <div class="byline">By <a href="/authors/{a["author"].lower().replace(" ", "-")}">{html.escape(a["author"])}</a> &middot; {a["date"][:10]}</div>
  </div>
  <div class="story-body">
<p class="listen">Listen to this article: {minutes} minutes</p>
{body_html(a["blocks"])}
<p><em>Tech Ledger is reader-funded. Become a member today and support independent reporting on technology and power.</em></p>
<p>Sign up for our weekly newsletter, The Ledger, for more analysis.</p>
  </div>
  <div class="more-on"><h3>More on this topic</h3>
    <div class="card"><a href="/policy/ai-liability">Why the AI liability directive was withdrawn</a><p>Analysis by the policy desk</p></div>
    <div class="card"><a href="/policy/gdpr-reform">The GDPR procedural regulation explained</a><p>Explainer</p></div>
  </div>
</div>
<div class="rail"><h3>Most read</h3><ol><li><a href="/a">Satellite internet licences auctioned</a></li><li><a href="/b">Quantum-safe encryption deadline set</a></li><li><a href="/c">Telecom merger cleared with conditions</a></li></ol></div>
</div>
<div class="footer"><ul><li><a href="/about">About us</a></li><li><a href="/jobs">Jobs</a></li><li><a href="/ethics">Ethics policy</a></li></ul><p>Copyright 2025 Tech Ledger Media Ltd. All rights reserved.</p></div>
</body>
</html>
"""


def brusselsbytes(a: dict, index: int) -> str:
    blocks = list(a["blocks"])
    closing = " Brussels Bytes will keep following this file closely."
    paragraphs = body_html(blocks[:-1])
    last = f"<p>{html.escape(blocks[-1])}{closing}</p>"
    credits = ["European Parliament", "Council of the EU", "Audiovisual Service"][index % 3]
    return f"""<html>
<head>
<meta http-equiv="Content-Type" content="text/html; charset=utf-8">
<title>Brussels Bytes :: {html.escape(a["title"])}</title>
<meta name="date" content="{a["date"]}">
<meta name="author" content="{html.escape(a["author"])}">
<meta name="twitter:image" content="img/{a["slug"]}-wide.png">
</head>
<body>
<table class="layout" width="100%"><tr>
<td class="left-menu" valign="top">
  <p><a href="/">Front page</a></p><p><a href="/archive">Archive</a></p><p><a href="/files">Legislative files</a></p><p><a href="/glossary">Glossary</a></p>
</td>
<td class="content" valign="top">
  <div class="post">
    <h1>{html.escape(a["title"])}</h1>
    <div class="meta">{a["date"]} &mdash; {html.escape(a["author"])}</div>
    <div class="post-text">
<figure><img src="img/{a["slug"]}.jpg" alt=""><figcaption>Photo: {credits}</figcaption></figure>
<p>Photo: {credits} / press service</p>
{paragraphs}
{last}
    </div>
    <div class="post-nav"><a href="/prev">&laquo; Previous post</a> <a href="/next">Next post &raquo;</a></div>
    <div class="comments"><h3>2 comments</h3>
      <div class="comment"><p>Great summary, thanks. Any idea when the trilogues start?</p></div>
      <div class="comment"><p>The Council position is still not public, isn't it?</p></div>
    </div>
  </div>
</td>
<td class="right-menu" valign="top"><h4>Files we follow</h4><ul><li>AI Act</li><li>Cyber Resilience Act</li><li>Data Act</li><li>CSAM regulation</li></ul></td>
</tr></table>
<div class="foot">Brussels Bytes is an independent newsletter. Contact: desk@brusselsbytes.example</div>
</body>
</html>
"""


def asiadigital(a: dict, index: int) -> str:
    return f"""<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="UTF-8">
<title>{html.escape(a["title"])} — Asia Digital Review</title>
<meta property="og:title" content="{html.escape(a["title"])}">
<meta property="og:image" content="https://asiadigital.example/media/{a["slug"]}.webp">
<meta property="article:published_time" content="{a["date"]}">
<meta property="article:author" content="{html.escape(a["author"])}">
<style>.hidden{{display:none}}</style>
</head>
<body>
<header><div class="brand"><a href="/">Asia Digital Review</a></div>
<nav><a href="/region/east-asia">East Asia</a> <a href="/region/southeast-asia">Southeast Asia</a> <a href="/region/south-asia">South Asia</a> <a href="/topics">Topics</a></nav></header>
<div class="container">
  <main>
    <article class="article">
      <h1 class="headline">{html.escape(a["title"])}</h1>
      <p class="byline"><span>{html.escape(a["author"])}</span> <time datetime="{a["date"]}">{a["date"][:10]}</time></p>
      <section class="article-body">
{body_html(a["blocks"])}
      </section>
      <section class="author-box"><h4>About the author</h4><p>{html.escape(a["author"])} covers technology regulation for Asia Digital Review.</p></section>
    </article>
    <section class="recommended"><h3>Recommended</h3>
      <article class="teaser"><h4><a href="/r1">Indonesia's data centre boom meets power limits</a></h4></article>
      <article class="teaser"><h4><a href="/r2">Taiwan tightens rules on chip engineers moving abroad</a></h4></article>
    </section>
  </main>
  <aside><h3>Newsletter</h3><p>Get our weekly briefing delivered to your inbox.</p><form><input type="email"></form></aside>
</div>
<footer><p>Asia Digital Review &copy; 2025</p><nav><a href="/terms">Terms</a> <a href="/privacy">Privacy</a></nav></footer>
</body>
</html>
"""


def dwatch(a: dict, index: int) -> str:
    return f"""<!DOCTYPE html>
<html lang="en-US">
<head>
<meta charset="UTF-8">
<title>{html.escape(a["title"])} | Digital Watch Updates</title>
<meta property="og:title" content="{html.escape(a["title"])}">
<meta property="og:image" content="https://dwatch.example/wp-content/uploads/2025/04/{a["slug"]}-1024x576.jpg">
<meta property="article:published_time" content="{a["date"]}">
</head>
<body class="updates-template">
<div class="top-strip"><a href="/newsletter">Newsletter</a> <a href="/events">Events</a> <a href="/actors">Actors</a> <a href="/processes">Processes</a></div>
<header><a href="/" class="logo">Digital Watch</a>
<nav><ul><li><a href="/topics/infrastructure">Infrastructure</a></li><li><a href="/topics/cybersecurity">Cybersecurity</a></li><li><a href="/topics/human-rights">Human rights</a></li><li><a href="/topics/economic">Economic</a></li></ul></nav></header>
<div class="wrapper">
<div class="main-column">
  <div class="update">
    <div class="update-meta"><span class="date">{a["date"][:10]}</span> <span class="topics"><a href="/topics/x">Topic</a></span></div>
    <h1>{html.escape(a["title"])}</h1>
    <div class="update-content">
{body_html(a["blocks"])}
<p><strong>{html.escape(a["trailer"])}</strong></p>
    </div>
    <div class="update-actors"><h4>Actors</h4><a href="/actors/a">Actor one</a> <a href="/actors/b">Actor two</a></div>
  </div>
  <div class="more-updates"><h3>More updates</h3><ul><li><a href="/u/1">Council adopts position on telecoms package</a></li><li><a href="/u/2">New submarine cable lands in West Africa</a></li></ul></div>
</div>
<div class="side-column"><div class="widget"><h3>Weekly newsletter</h3><p>Get the weekly digest in your inbox.</p></div><div class="widget"><h3>Ask the chatbot</h3><p>Questions about digital policy? Our assistant answers.</p></div></div>
</div>
<footer><p>Digital Watch observatory. Content under CC BY-NC-ND.</p></footer>
</body>
</html>
"""


TEMPLATES = {
    "policywire": policywire,
    "techledger": techledger,
    "brusselsbytes": brusselsbytes,
    "asiadigital": asiadigital,
    "dwatch": dwatch,
}

# Editor patterns the evaluation gives each source (the photo credit is different on
# each page, so recurrence cannot find it; the editor's pattern does).
STRIP_PATTERNS = {"brusselsbytes": r"^Photo: .{1,80}/ press service$"}


def main() -> None:
    articles = json.loads((HERE / "articles.json").read_text())
    (HERE / "pages").mkdir(exist_ok=True)
    (HERE / "truth").mkdir(exist_ok=True)
    manifest = []
    counters: dict[str, int] = {}
    for article in articles:
        source = article["source"]
        index = counters.get(source, 0)
        counters[source] = index + 1
        name = f"{source}-{article['slug']}"
        page = TEMPLATES[source](article, index)
        (HERE / "pages" / f"{name}.html").write_text(page, encoding="utf-8")
        (HERE / "truth" / f"{name}.txt").write_text(true_text(article["blocks"]), encoding="utf-8")
        manifest.append(
            {
                "name": name,
                "source": source,
                "url": f"{SOURCES[source]['site']}/2025/04/{article['slug']}/",
            }
        )
    sources = {
        key: {**value, "strip_patterns": STRIP_PATTERNS.get(key, "")}
        for key, value in SOURCES.items()
    }
    (HERE / "manifest.json").write_text(
        json.dumps({"sources": sources, "pages": manifest}, indent=2) + "\n", encoding="utf-8"
    )
    print(f"wrote {len(manifest)} pages")


if __name__ == "__main__":
    main()
