"""How close the stored article text comes to the true text: the pipeline vs bare trafilatura.

Two evaluation sets, each a table:

1. ``../shared/eval/zyte-dev/`` (next to the repository; ``--zyte DIR`` to point elsewhere):
   88 real news pages with human ground truth, the development half of the Zyte
   article-extraction benchmark. Skipped with a note when the folder is absent.
2. ``tests/data/extraction/``: 17 pages written for this project (five fictional outlets
   with their own templates and trailers).

Both are scored with the benchmark's own metric: tokens are ``\\w+`` runs (case kept),
every run of 4 tokens is a shingle, per page the shared / extra / missing shingle counts
are divided by their sum, precision and recall are averaged over pages (pages with
nothing predicted are left out of precision, pages with no truth out of recall) and F1
is computed from the two averages.

The pipeline side is the real one. Every page is served on 127.0.0.1 by an HTTP server
that answers for the page's own host name (the fetcher's resolver is pointed at
loopback; the scheme becomes http), each outlet (registrable domain) gets a feed listing
its pages in order, and ``poll_source`` polls each feed: safe fetch of feed and pages,
extraction, cleaning (trailers learnt per outlet), grouping, storage. The text compared
is ``Article.body_text`` read back from the database. The bare side is
``trafilatura.extract(page, url=url)`` with its defaults, as the benchmark ran it.

    .venv/bin/python bench/extraction_quality.py               # in-memory SQLite
    .venv/bin/python bench/extraction_quality.py --worst 15    # more of the worst pages
    .venv/bin/python bench/extraction_quality.py --use-configured-database   # DATABASE_URL
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import re
import statistics
import sys
import threading
from collections import Counter
from dataclasses import dataclass, field
from html import escape
from html import unescape as html_unescape
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parent.parent
SELF_MADE = ROOT / "tests" / "data" / "extraction"
ZYTE = ROOT.parent / "shared" / "eval" / "zyte-dev"
_TOKEN = re.compile(r"\w+", re.UNICODE)
_TITLE = re.compile(rb"<title[^>]*>(.*?)</title>", re.IGNORECASE | re.DOTALL)


# ------------------------------------------------------------------ the metric


def shingles(text: str, size: int = 4) -> Counter[tuple[str, ...]]:
    """Every run of ``size`` consecutive ``\\w+`` tokens, counted (a shorter text is one)."""
    tokens = _TOKEN.findall(text or "")
    return Counter(
        tuple(tokens[start : start + size]) for start in range(max(1, len(tokens) - size + 1))
    ) - Counter({(): 1})


@dataclass(frozen=True)
class PageScore:
    """Shared, extra and missing shingles of one page, as shares of their sum."""

    true_positive: float
    false_positive: float
    false_negative: float

    @property
    def precision(self) -> float:
        tp, fp, fn = self.true_positive, self.false_positive, self.false_negative
        if fp == fn == 0:
            return 1.0
        return tp / (tp + fp) if tp + fp else 0.0

    @property
    def recall(self) -> float:
        tp, fp, fn = self.true_positive, self.false_positive, self.false_negative
        if fp == fn == 0:
            return 1.0
        return tp / (tp + fn) if tp + fn else 0.0

    @property
    def f1(self) -> float:
        p, r = self.precision, self.recall
        return 2 * p * r / (p + r) if p + r else 0.0


def score_page(predicted: str, truth: str) -> PageScore:
    got, want = shingles(predicted), shingles(truth)
    tp = sum((got & want).values())
    fp = sum((got - want).values())
    fn = sum((want - got).values())
    total = tp + fp + fn
    return PageScore(tp / total, fp / total, fn / total) if total else PageScore(0, 0, 0)


@dataclass(frozen=True)
class Summary:
    precision: float
    recall: float

    @property
    def f1(self) -> float:
        p, r = self.precision, self.recall
        return 2 * p * r / (p + r) if p + r else 0.0


def summarise(scores: list[PageScore]) -> Summary:
    """Precision and recall averaged over pages, as the benchmark does."""
    precisions = [s.precision for s in scores if s.true_positive + s.false_positive > 0]
    recalls = [s.recall for s in scores if s.true_positive + s.false_negative > 0]
    return Summary(
        statistics.mean(precisions) if precisions else 0.0,
        statistics.mean(recalls) if recalls else 0.0,
    )


def differences(predicted: str, truth: str, limit: int = 3) -> tuple[list[str], list[str]]:
    """The longest runs of text only the prediction has (added) and only the truth has
    (dropped), as token strings."""

    def runs(text: str, other: Counter) -> list[str]:
        tokens = _TOKEN.findall(text or "")
        found, current = [], []
        for start in range(max(0, len(tokens) - 3)):
            if tuple(tokens[start : start + 4]) in other:
                if current:
                    found.append(" ".join(current))
                current = []
            else:
                current.append(tokens[start])
        if current:
            found.append(" ".join(current + tokens[-3:]))
        return sorted(found, key=len, reverse=True)[:limit]

    return runs(predicted, shingles(truth)), runs(truth, shingles(predicted))


# --------------------------------------------------------------- the pages


@dataclass(frozen=True)
class Page:
    name: str
    outlet: str
    url: str
    html: bytes
    truth: str


@dataclass
class Outlet:
    key: str
    name: str
    site: str
    strip_patterns: str = ""
    pages: list[Page] = field(default_factory=list)


def zyte_outlets(directory: Path) -> list[Outlet]:
    """The Zyte pages grouped by outlet (registrable domain), in ground-truth order."""
    from articles.grouping.canonical import registrable_domain

    truth = json.loads((directory / "ground-truth.json").read_text(encoding="utf-8"))
    outlets: dict[str, Outlet] = {}
    for name, entry in truth.items():
        url = entry["url"]
        outlet = registrable_domain(url)
        html = gzip.decompress((directory / "html" / f"{name}.html.gz").read_bytes())
        page = Page(name, outlet, url, html, entry.get("articleBody") or "")
        host = urlsplit(url).hostname or outlet
        outlets.setdefault(outlet, Outlet(outlet, outlet, f"https://{host}/")).pages.append(page)
    return list(outlets.values())


def self_made_outlets(directory: Path = SELF_MADE) -> list[Outlet]:
    manifest = json.loads((directory / "manifest.json").read_text(encoding="utf-8"))
    outlets = {
        key: Outlet(key, value["name"], value["site"], value.get("strip_patterns", ""))
        for key, value in manifest["sources"].items()
    }
    for entry in manifest["pages"]:
        outlets[entry["source"]].pages.append(
            Page(
                entry["name"],
                entry["source"],
                entry["url"],
                (directory / "pages" / f"{entry['name']}.html").read_bytes(),
                (directory / "truth" / f"{entry['name']}.txt").read_text(encoding="utf-8"),
            )
        )
    return list(outlets.values())


# ------------------------------------------------------- serving and polling


def served_url(url: str, port: int) -> str:
    """The page's own address, over http on the loopback server's port."""
    parts = urlsplit(url)
    return urlunsplit(("http", f"{parts.hostname}:{port}", parts.path or "/", parts.query, ""))


def _feed(outlet: Outlet, port: int) -> bytes:
    items = []
    for page in outlet.pages:
        match = _TITLE.search(page.html)
        title = re.sub(r"\s+", " ", match.group(1).decode("utf-8", "replace")) if match else ""
        link = served_url(page.url, port)
        items.append(
            f"<item><title>{escape(title.strip() or page.name)}</title>"
            f"<link>{escape(link)}</link><guid>{escape(page.name)}</guid></item>"
        )
    return (
        '<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel>'
        f"<title>{escape(outlet.name)}</title><link>{escape(outlet.site)}</link>"
        f"{''.join(items)}</channel></rss>"
    ).encode()


def feed_url(outlet: Outlet, port: int) -> str:
    host = urlsplit(outlet.site).hostname
    return f"http://{host}:{port}/__evaluation_feed/{outlet.key}.xml"


class _Site(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, outlets: list[Outlet]) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        port = self.server_address[1]
        self.routes: dict[tuple[str, str], tuple[bytes, str]] = {}
        for outlet in outlets:
            feed = urlsplit(feed_url(outlet, port))
            self.routes[(feed.hostname, feed.path)] = (_feed(outlet, port), "application/rss+xml")
            for page in outlet.pages:
                parts = urlsplit(served_url(page.url, port))
                path = parts.path + (f"?{parts.query}" if parts.query else "")
                # No charset: the page is decoded as it declares itself, as in the wild.
                self.routes[(parts.hostname, path)] = (page.html, "text/html")


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def do_GET(self) -> None:  # noqa: N802 (http.server's naming)
        host = (self.headers.get("Host") or "").rsplit(":", 1)[0].lower()
        found = self.server.routes.get((host, self.path))
        if found is None:
            self.send_error(404)
            return
        body, kind = found
        self.send_response(200)
        self.send_header("Content-Type", kind)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Connection", "close")
        self.end_headers()
        self.wfile.write(body)
        self.close_connection = True

    def log_message(self, format: str, *args) -> None:  # noqa: A002
        pass


def pipeline_texts(
    outlets: list[Outlet], removed: list[str] | None = None, stored: dict | None = None
) -> dict[str, str]:
    """Poll every outlet's feed through the real pipeline; each page's stored body text.
    Needs a migrated database; every host name resolves to the loopback server. What
    cleaning removed is appended to ``removed`` when given, and each page's stored title,
    author and publication time are put in ``stored``."""
    import ipaddress

    from articles.fetching import client as fetching
    from articles.grouping.canonical import canonicalize_url
    from articles.ingestion import poll
    from articles.models import Article, Source

    original_clean_body = poll.clean_body

    def clean_body(**kwargs):
        cleaned = original_clean_body(**kwargs)
        if removed is not None:
            removed.extend(cleaned.removed)
        return cleaned

    site = _Site(outlets)
    port = site.server_address[1]
    thread = threading.Thread(target=site.serve_forever, daemon=True)
    thread.start()
    original_resolve = fetching.resolve
    fetching.resolve = lambda host, port: [ipaddress.ip_address("127.0.0.1")]
    poll.clean_body = clean_body
    try:
        for outlet in outlets:
            source = Source.objects.create(
                name=outlet.name,
                url=feed_url(outlet, port),
                site_url=outlet.site,
                strip_patterns=outlet.strip_patterns,
            )
            result = poll.poll_source(source=source)
            if result.status != "ok":
                print(f"poll of {outlet.name} failed: {result.error}", file=sys.stderr)
    finally:
        fetching.resolve = original_resolve
        poll.clean_body = original_clean_body
        site.shutdown()
        site.server_close()
    keys = {
        canonicalize_url(served_url(page.url, port)): page.name
        for outlet in outlets
        for page in outlet.pages
    }
    rows = Article.objects.filter(canonical_url__in=keys).values_list(
        "canonical_url", "body_text", "title", "author", "published_at", "fetched_at"
    )
    texts = {}
    for url, text, title, author, published_at, fetched_at in rows:
        texts[keys[url]] = text
        if stored is not None:
            # A time equal to the fetch time is the "now" given to an undated article.
            dated = published_at if published_at != fetched_at else None
            stored[keys[url]] = {"title": title, "author": author, "published": dated}
    return {name: texts.get(name, "") for name in keys.values()}


def bare_texts(outlets: list[Outlet]) -> dict[str, str]:
    import trafilatura

    return {
        page.name: trafilatura.extract(page.html, url=page.url) or ""
        for outlet in outlets
        for page in outlet.pages
    }


@dataclass
class Evaluation:
    pages: list[Page]
    bare: dict[str, str]
    ours: dict[str, str]
    removed: list[str] = field(default_factory=list)
    """Every paragraph or closing sentence the trailer/boilerplate cleaning removed."""
    stored: dict[str, dict] = field(default_factory=dict)
    """Each page's stored title, author and publication time."""

    def removed_but_true(self) -> list[str]:
        """Removed text that the ground truth has as (part of) its article text."""
        truths = [" ".join(_TOKEN.findall(page.truth)) for page in self.pages]
        found = []
        for text in self.removed:
            flat = " ".join(_TOKEN.findall(text))
            if flat and any(flat in truth for truth in truths):
                found.append(text)
        return found

    def score(self, side: str, page: Page) -> PageScore:
        return score_page(getattr(self, side)[page.name], page.truth)

    def summary(self, side: str) -> Summary:
        return summarise([self.score(side, page) for page in self.pages])


def evaluate(outlets: list[Outlet]) -> Evaluation:
    """Bare and pipeline texts of every page (the database must be migrated)."""
    pages = [page for outlet in outlets for page in outlet.pages]
    removed: list[str] = []
    stored: dict[str, dict] = {}
    ours = pipeline_texts(outlets, removed, stored)
    return Evaluation(
        pages=pages, bare=bare_texts(outlets), ours=ours, removed=removed, stored=stored
    )


def page_metadata(html: bytes) -> dict[str, object]:
    """What the page itself declares (JSON-LD, then meta tags): headline, author's name,
    publication time. The reference for the metadata table; None where not declared."""
    import lxml.html
    from django.utils.dateparse import parse_datetime

    tree = lxml.html.fromstring(html)
    found: dict[str, object] = {"title": None, "author": None, "published": None}

    def visit(node: object) -> None:
        if isinstance(node, list):
            for item in node:
                visit(item)
        elif isinstance(node, dict):
            kind = node.get("@type")
            kinds = kind if isinstance(kind, list) else [kind]
            if any(str(k).endswith(("Article", "BlogPosting", "Report")) for k in kinds):
                found["title"] = found["title"] or node.get("headline")
                author = node.get("author")
                author = author[0] if isinstance(author, list) and author else author
                name = author.get("name") if isinstance(author, dict) else author
                found["author"] = found["author"] or (name if isinstance(name, str) else None)
                found["published"] = found["published"] or node.get("datePublished")
            for value in node.values():
                if isinstance(value, (list, dict)):
                    visit(value)

    for script in tree.xpath("//script[@type='application/ld+json']/text()"):
        try:
            visit(json.loads(script))
        except ValueError:
            continue
    for name, xpath in (
        ("title", "//meta[@property='og:title']/@content"),
        ("published", "//meta[@property='article:published_time']/@content"),
        ("author", "//meta[@name='author']/@content"),
    ):
        values = tree.xpath(xpath)
        if not found[name] and values:
            found[name] = values[0]
    if isinstance(found["published"], str):
        try:
            found["published"] = parse_datetime(found["published"].strip())
        except ValueError:
            found["published"] = None
    return found


def _same(left: str, right: str) -> bool:
    return _TOKEN.findall((left or "").casefold()) == _TOKEN.findall((right or "").casefold())


def report_metadata(evaluation: Evaluation) -> None:
    """Stored title, author and time against what each page declares, where it does; the
    title also as the evaluation feed gave it (the page's <title>, site label and all)."""
    counts = Counter()
    for page in evaluation.pages:
        declared = page_metadata(page.html)
        stored = evaluation.stored.get(page.name) or {}
        if declared["title"]:
            counts["title pages"] += 1
            match = _TITLE.search(page.html)
            feed_title = match.group(1).decode("utf-8", "replace") if match else ""
            counts["title feed"] += _same(html_unescape(feed_title), declared["title"])
            counts["title stored"] += _same(stored.get("title", ""), declared["title"])
        if declared["author"]:
            counts["author pages"] += 1
            words = set(_TOKEN.findall(declared["author"].casefold()))
            got = set(_TOKEN.findall((stored.get("author") or "").casefold()))
            counts["author stored"] += bool(words) and words <= got
        published = declared["published"]
        if published is not None and published.tzinfo is not None:
            counts["time pages"] += 1
            mine = stored.get("published")
            counts["time stored"] += (
                mine is not None and abs(mine - published).total_seconds() < 60
            )
    print("  metadata against what the page declares (JSON-LD or meta), where it does:")
    print(
        f"    title  {counts['title stored']}/{counts['title pages']} stored "
        f"(the feed's <title> would give {counts['title feed']})"
    )
    print(f"    author {counts['author stored']}/{counts['author pages']} stored")
    print(f"    time   {counts['time stored']}/{counts['time pages']} stored (feed gave none)")


# ------------------------------------------------------------------ report


def report(title: str, evaluation: Evaluation, *, worst: int) -> None:
    bare, ours = evaluation.summary("bare"), evaluation.summary("ours")
    print(f"\n{title}: {len(evaluation.pages)} pages")
    print(f"  {'':28} {'F1':>6} {'precision':>9} {'recall':>7}")
    print(f"  {'bare trafilatura':28} {bare.f1:6.4f} {bare.precision:9.4f} {bare.recall:7.4f}")
    print(
        f"  {'pipeline (stored text)':28} {ours.f1:6.4f} {ours.precision:9.4f} {ours.recall:7.4f}"
    )
    rows = [
        (evaluation.score("ours", page), evaluation.score("bare", page), page)
        for page in evaluation.pages
    ]
    below = [row for row in rows if row[0].f1 < row[1].f1 - 0.02]
    print(
        f"  pages where the pipeline is below bare by more than 0.02: {len(below)}"
        + (f" ({', '.join(page.name[:8] for _o, _b, page in below)})" if below else "")
    )
    wrongly = evaluation.removed_but_true()
    print(
        f"  removed by trailer/boilerplate cleaning: {len(evaluation.removed)} texts, "
        f"{len(wrongly)} of them article text by the ground truth"
    )
    for text in wrongly:
        print(f"        ! {text[:110]}")
    shown = sorted(rows, key=lambda row: row[0].f1)[:worst]
    shown += [row for row in sorted(below, key=lambda r: r[0].f1 - r[1].f1) if row not in shown]
    if shown:
        print("  worst pages (pipeline F1, bare F1):")
    for our_score, bare_score, page in shown:
        print(f"  {our_score.f1:.3f} {bare_score.f1:.3f}  {page.name[:12]}  {page.url[:70]}")
        added, dropped = differences(evaluation.ours[page.name], page.truth)
        for text in added:
            print(f"        + {text[:110]}")
        for text in dropped:
            print(f"        - {text[:110]}")


def _setup_django() -> None:
    sys.path.insert(0, str(ROOT))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "digest.settings")
    os.environ.setdefault("LOG_LEVEL", "ERROR")
    # The evaluation server is on loopback: allow exactly that, nothing else private.
    os.environ["FETCH_ALLOW_PRIVATE_NETWORKS"] = "0"
    os.environ["FETCH_ALLOWED_NETWORKS"] = "127.0.0.0/8"
    # A throwaway in-memory database unless one is given explicitly.
    if "--use-configured-database" not in sys.argv:
        os.environ["DATABASE_URL"] = "sqlite://:memory:"
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0, interactive=False)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--zyte", type=Path, default=ZYTE, help="the zyte-dev folder")
    parser.add_argument("--worst", type=int, default=8, help="worst pages shown per set")
    parser.add_argument(
        "--use-configured-database",
        action="store_true",
        help="use DATABASE_URL instead of in-memory SQLite (rows are left behind)",
    )
    args = parser.parse_args()
    _setup_django()
    import logging

    logging.disable(logging.WARNING)  # trafilatura's per-page warnings
    if (args.zyte / "ground-truth.json").is_file():
        zyte = evaluate(zyte_outlets(args.zyte))
        report("Zyte development set", zyte, worst=args.worst)
        report_metadata(zyte)
    else:
        print(f"\n{args.zyte} not found: Zyte development set skipped")
    report("Self-made set (tests/data/extraction)", evaluate(self_made_outlets()), worst=3)


if __name__ == "__main__":
    main()
