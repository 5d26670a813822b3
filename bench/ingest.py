"""Benchmark: the whole ingestion pipeline against the bare libraries, same bytes.

    .venv/bin/python bench/ingest.py [--articles 500] [--per-feed 25]
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/NAME .venv/bin/python bench/ingest.py

N realistic article pages (navigation, sidebar, a recurring promotional
trailer, 6-10 paragraphs) and their RSS feeds are written to a temporary
directory and served on 127.0.0.1 by a separate ``http.server`` process, as a
remote site would be. Then, in one run on the same bytes:

* bare: ``feedparser.parse`` of every feed plus ``trafilatura.extract`` of every
  page (with the options the pipeline's extractor uses), no network, no database;
  bare and pipeline alternate feed by feed so both see the same machine load, and
  which of them goes first alternates too (see "Order" below);
* pipeline: ``poll_source`` for every feed source: safe fetch of feed and pages,
  parse, sanitise, extract, boilerplate cleaning, near-duplicate grouping, topic
  suggestion, and storage in a fresh database (``bench_<name>``, dropped after).

It prints articles per second for each, their ratio, and the process's peak
RSS after the first fifth of the articles and after all of them (a flat peak
means memory does not grow with N).

``--breakdown`` adds the time of each pipeline stage and the *extraction cost*: the
CPU time of the calling thread (``time.thread_time``) spent in the pipeline's
``extract_article`` against bare ``trafilatura.extract`` of the same page. CPU time,
not wall time, because the pipeline fetches the next pages in threads while it
extracts, and wall time would charge their share of the interpreter to extraction.
The same comparison is then made on the real pages of ``../shared/eval/zyte-dev/``
when they are there (extraction only: no feed, fetch or database on that side).

Order: an extraction of a page the other side has just extracted costs less (on the
real pages, bare trafilatura run second cost about 14% less than run first, in one run;
trafilatura and htmldate keep caches of text they have processed). The side that goes
first therefore alternates, feed by feed here and page by page on the real pages.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import random
import resource
import socket
import subprocess
import sys
import tempfile
import threading
import time
from html import escape
from pathlib import Path

PROJECT_DIR = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(PROJECT_DIR))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "digest.settings")
# The benchmark's server is on loopback; allow exactly that, nothing else private.
os.environ["FETCH_ALLOW_PRIVATE_NETWORKS"] = "0"
os.environ["FETCH_ALLOWED_NETWORKS"] = "127.0.0.0/8"
os.environ.setdefault("LOG_LEVEL", "WARNING")

_VOCABULARY_TEXT = """
the a of to and in for on with by that is was be as from at its has have are will
regulator commission parliament data privacy platform competition antitrust
semiconductor export cyber security breach ransomware children online safety
content moderation algorithm transparency audit court ruling appeal fine
investigation merger acquisition cloud infrastructure cable satellite spectrum
telecom operator minister agency consultation draft law framework treaty
negotiation tariff trade customs cryptocurrency exchange stablecoin bank
payment identity biometric surveillance facial recognition health records
hospital encryption messaging backdoor election disinformation campaign
researchers report published warned experts industry association lobby group
european union united states china india brazil japan government company users
"""
VOCABULARY = _VOCABULARY_TEXT.split()

TRAILER = (
    "Would you like to learn more about AI, tech and digital diplomacy? "
    "If so, ask our Diplo chatbot!"
)


def paragraph(rng: random.Random) -> str:
    sentences = []
    for _ in range(rng.randint(3, 5)):
        words = [rng.choice(VOCABULARY) for _ in range(rng.randint(14, 24))]
        sentences.append(" ".join(words).capitalize() + ".")
    return " ".join(sentences)


def article_page(number: int, title: str, rng: random.Random) -> str:
    """About the size and shape of a real news page (~100 KB): scripts, a large menu,
    related stories and comments around 6-10 paragraphs of story."""
    nav = "".join(
        f'<li class="menu-item"><a class="menu-link" href="/section/{i}/sub/{j}">'
        f"Section {i} {rng.choice(VOCABULARY)}</a></li>"
        for i in range(12)
        for j in range(12)
    )
    script = "".join(
        f"function track{i}(e){{var d={{id:{i},k:'{rng.choice(VOCABULARY)}'}};"
        f"window.dataLayer=window.dataLayer||[];window.dataLayer.push(d);}}\n"
        for i in range(250)
    )
    related = "".join(
        f'<div class="teaser"><a href="/story/{rng.randint(0, 10**6)}">'
        f'<img src="/img/t{rng.randint(0, 999)}.jpg" alt=""></a>'
        f'<h3><a href="/story/{rng.randint(0, 10**6)}">{escape(paragraph(rng)[:80])}</a></h3>'
        f"<p>{escape(paragraph(rng)[:160])}</p></div>"
        for _ in range(12)
    )
    comments = "".join(
        f'<li class="comment"><span class="who">Reader {rng.randint(0, 999)}</span>'
        f"<p>{escape(paragraph(rng)[:200])}</p></li>"
        for _ in range(8)
    )
    body = "".join(f"<p>{escape(paragraph(rng))}</p>" for _ in range(rng.randint(6, 10)))
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>{escape(title)} | Bench Wire</title>
<meta property="og:title" content="{escape(title)}">
<meta property="og:image" content="/img/{number}.jpg">
<meta name="author" content="Reporter {number % 17}">
<meta property="article:published_time" content="2025-04-{1 + number % 28:02d}T10:00:00Z">
<script>{script}</script>
<style>body {{ font-family: sans-serif; }} .menu-item {{ display: inline; }}</style></head>
<body>
<header><a href="/">Bench Wire</a><nav><ul class="menu">{nav}</ul></nav></header>
<div class="cookie-banner">We use cookies to improve your experience.</div>
<main><article>
<h1>{escape(title)}</h1>
<p class="byline">By Reporter {number % 17}</p>
{body}
<p>{TRAILER}</p>
</article>
<section class="related"><h2>Related</h2>{related}</section>
<section class="comments"><h2>Comments</h2><ul>{comments}</ul></section>
<aside><h2>Most read</h2>{related[:3000]}</aside></main>
<footer><p>Copyright Bench Wire. All rights reserved.</p>
<ul><li><a href="/privacy">Privacy</a></li><li><a href="/terms">Terms</a></li></ul></footer>
</body></html>"""


def feed(base: str, feed_number: int, items: list[tuple[str, str, str]]) -> str:
    entries = "".join(
        f"<item><title>{escape(title)}</title><link>{escape(link)}</link>"
        f'<guid isPermaLink="false">bench-{escape(guid)}</guid>'
        f"<description>{escape(title)}: a summary.</description>"
        "<pubDate>Fri, 18 Apr 2025 10:00:00 GMT</pubDate></item>"
        for title, link, guid in items
    )
    return (
        '<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel>'
        f"<title>Bench feed {feed_number}</title><link>{base}/</link>{entries}</channel></rss>"
    )


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def write_site(
    directory: Path, base: str, articles: int, per_feed: int
) -> list[tuple[str, list[str]]]:
    """Write pages and feeds; return each feed's URL with the URLs of its pages."""
    rng = random.Random(20250418)
    (directory / "story").mkdir()
    feed_urls = []
    items: list[tuple[str, str, str]] = []
    for number in range(articles):
        title = f"Story {number}: " + " ".join(rng.choice(VOCABULARY[40:]) for _ in range(6))
        (directory / "story" / f"{number}.html").write_text(article_page(number, title, rng))
        items.append((title, f"{base}/story/{number}.html?utm_source=rss", str(number)))
        if len(items) == per_feed or number == articles - 1:
            feed_number = len(feed_urls)
            (directory / f"feed-{feed_number}.xml").write_text(feed(base, feed_number, items))
            feed_urls.append(
                (f"{base}/feed-{feed_number}.xml", [link.split("?")[0] for _t, link, _g in items])
            )
            items = []
    return feed_urls


def serve(directory: Path, port: int) -> None:
    """Serve ``directory`` on loopback, each response in one write (no Nagle stalls)."""
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_GET(self) -> None:  # noqa: N802
            path = directory / self.path.split("?")[0].lstrip("/")
            if not path.is_file() or directory not in path.resolve().parents:
                self.send_error(404)
                return
            body = path.read_bytes()
            kind = "application/rss+xml" if path.suffix == ".xml" else "text/html; charset=utf-8"
            head = (
                f"HTTP/1.1 200 OK\r\nContent-Type: {kind}\r\n"
                f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n"
            ).encode()
            self.wfile.write(head + body)
            self.close_connection = True

        def log_message(self, format: str, *args) -> None:  # noqa: A002
            pass

    ThreadingHTTPServer(("127.0.0.1", port), Handler).serve_forever()


class StageTimer:
    """Wraps pipeline stages (module attributes) and adds up the time spent in each."""

    def __init__(self) -> None:
        self.seconds: dict[str, float] = {}
        self.cpu_seconds: dict[str, float] = {}
        self.lock = threading.Lock()

    def wrap(self, module, name: str, label: str) -> None:
        original = getattr(module, name)

        def timed(*args, **kwargs):
            started, started_cpu = time.perf_counter(), time.thread_time()
            try:
                return original(*args, **kwargs)
            finally:
                elapsed = time.perf_counter() - started
                cpu = time.thread_time() - started_cpu
                key = label
                if threading.current_thread() is not threading.main_thread():
                    key = f"{label}, in threads*"
                with self.lock:
                    self.seconds[key] = self.seconds.get(key, 0.0) + elapsed
                    self.cpu_seconds[key] = self.cpu_seconds.get(key, 0.0) + cpu

        setattr(module, name, timed)


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--articles", type=int, default=500)
    parser.add_argument("--per-feed", type=int, default=25)
    parser.add_argument(
        "--breakdown", action="store_true", help="Also print the time spent in each stage."
    )
    parser.add_argument("--serve", nargs=2, metavar=("DIR", "PORT"), help=argparse.SUPPRESS)
    options = parser.parse_args()
    if options.serve:
        serve(Path(options.serve[0]).resolve(), int(options.serve[1]))
        return

    import django

    django.setup()
    from django.conf import settings

    # As in production: with DEBUG on, Django keeps the last 9000 queries' SQL in memory,
    # which would show up as growth in the peak-memory figures.
    settings.DEBUG = False
    import feedparser
    import trafilatura
    from django.db import connection

    from articles.fetching import client as fetching
    from articles.ingestion import feed_parsing as feeds_module
    from articles.ingestion import poll as ingestion
    from articles.ingestion.poll import poll_source
    from articles.models import Article, Source

    stages = StageTimer()
    if options.breakdown:
        stages.wrap(fetching, "fetch", "fetch")
        stages.wrap(feeds_module, "parse_feed", "parse feed + sanitise entries")
        stages.wrap(ingestion, "extract_article", "extract (trafilatura + sanitise)")
        stages.wrap(ingestion, "clean_body", "boilerplate cleaning")
        stages.wrap(ingestion, "assign_story_group", "near-duplicate grouping")
        stages.wrap(ingestion, "suggest_topics", "topic suggestion")

    test_name = f"bench_{connection.settings_dict['NAME']}".replace("/", "_")
    if connection.vendor == "sqlite":
        test_name = str(Path(tempfile.gettempdir()) / "digest-bench.sqlite3")
    connection.settings_dict.setdefault("TEST", {})["NAME"] = test_name
    connection.creation.create_test_db(verbosity=0, autoclobber=True, keepdb=False)

    with tempfile.TemporaryDirectory() as tmp:
        directory = Path(tmp)
        port = free_port()
        base = f"http://127.0.0.1:{port}"
        feed_urls = write_site(directory, base, options.articles, options.per_feed)
        server = subprocess.Popen(
            [sys.executable, __file__, "--serve", str(directory), str(port)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            for _ in range(100):
                try:
                    socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                    break
                except OSError:
                    time.sleep(0.05)

            def local(url: str) -> bytes:
                return (directory / url.removeprefix(base + "/")).read_bytes()

            def feed_bytes_and_pages(number: int) -> tuple[bytes, list[tuple[str, bytes]]]:
                """One feed's bytes as the bare side reads them (loaded untimed, one feed
                at a time, so the process's peak memory is the pipeline's, not the site's)."""
                feed_url, page_urls = feed_urls[number]
                return local(feed_url), [(page, local(page)) for page in page_urls]

            bare_extract_cpu = 0.0

            def bare(feed_bytes: bytes, pages: list[tuple[str, bytes]]) -> None:
                nonlocal bare_extract_cpu
                feedparser.parse(feed_bytes)
                for url, content in pages:
                    started_cpu = time.thread_time()
                    bare_extract(trafilatura, content, url)
                    bare_extract_cpu += time.thread_time() - started_cpu

            # Warm both paths (imports, regex compilation) outside the timings.
            first_feed, first_pages = feed_bytes_and_pages(0)
            bare(first_feed, first_pages[:1])
            del first_feed, first_pages
            bare_extract_cpu = 0.0

            sources = [
                Source.objects.create(name=f"Bench feed {n}", url=url, site_url=base + "/")
                for n, (url, _pages) in enumerate(feed_urls)
            ]
            checkpoint = max(1, len(sources) // 5)
            early_peak = 0.0
            early_articles = 0
            bare_seconds = pipeline_seconds = 0.0
            # Bare and pipeline alternate feed by feed, so both see the same machine load;
            # the one that goes first (and meets caches the other has not warmed) alternates.
            for position, source in enumerate(sources, start=1):
                feed_bytes, pages = feed_bytes_and_pages(position - 1)
                bare_first = position % 2 == 1
                if bare_first:
                    started = time.perf_counter()
                    bare(feed_bytes, pages)
                    bare_seconds += time.perf_counter() - started
                started = time.perf_counter()
                result = poll_source(source=source)
                pipeline_seconds += time.perf_counter() - started
                if not bare_first:
                    started = time.perf_counter()
                    bare(feed_bytes, pages)
                    bare_seconds += time.perf_counter() - started
                if result.status != "ok":
                    raise SystemExit(f"poll of {source.url} failed: {result.error}")
                if position == checkpoint:
                    early_peak = peak_rss_mb()
                    early_articles = Article.objects.count()
            final_peak = peak_rss_mb()

            stored = Article.objects.count()
            extracted = Article.objects.filter(extraction_status="extracted").count()
            trailers = Article.objects.filter(body_text__contains="Diplo chatbot").count()
        finally:
            server.terminate()
            server.wait()
    connection.creation.destroy_test_db(test_name, verbosity=0)

    n = options.articles
    print(f"database: {connection.vendor}; {n} articles in {len(feed_urls)} feeds")
    print(f"stored {stored} articles, {extracted} extracted, {trailers} still with the trailer")
    print(
        f"bare feedparser+trafilatura: {n / bare_seconds:7.1f} articles/s ({bare_seconds:.1f} s)"
    )
    print(
        f"whole pipeline:              {n / pipeline_seconds:7.1f} articles/s "
        f"({pipeline_seconds:.1f} s)"
    )
    print(f"pipeline cost / bare cost:   {pipeline_seconds / bare_seconds:7.2f}x")
    print(
        f"peak RSS after {early_articles} articles: {early_peak:.0f} MB; "
        f"after {stored}: {final_peak:.0f} MB"
    )
    if stages.seconds:
        print(f"per article, bare: {1000 * bare_seconds / n:.1f} ms; pipeline stages:")
        accounted = 0.0
        for label, seconds in stages.seconds.items():
            if not label.endswith("*"):
                accounted += seconds
            print(f"  {label:<36} {1000 * seconds / n:6.1f} ms")
        rest = pipeline_seconds - accounted
        print(f"  {'storage, keys, waiting, the rest':<36} {1000 * rest / n:6.1f} ms")
        print("  * overlaps the stages above; not part of the sum")
        pipeline_extract_cpu = stages.cpu_seconds.get("extract (trafilatura + sanitise)", 0.0)
        print_extraction_cost(
            "these pages", n, bare_cpu=bare_extract_cpu, pipeline_cpu=pipeline_extract_cpu
        )
        real_pages = dev_set_pages()
        if real_pages:
            bare_cpu, pipeline_cpu = extraction_cpu_on(real_pages)
            print_extraction_cost(
                f"{len(real_pages)} real pages (zyte-dev) x {REAL_PAGE_ROUNDS}",
                len(real_pages) * REAL_PAGE_ROUNDS,
                bare_cpu=bare_cpu,
                pipeline_cpu=pipeline_cpu,
            )


def bare_extract(trafilatura, content: bytes, url: str) -> None:
    """Bare trafilatura with the options of the pipeline's extractor (links, formatting and
    tables kept; no images, whose captions the pipeline does not keep as text)."""
    trafilatura.extract(
        content,
        url=url,
        with_metadata=True,
        include_links=True,
        include_images=False,
        include_formatting=True,
        include_tables=True,
    )


DEV_SET = PROJECT_DIR.parent / "shared" / "eval" / "zyte-dev"
REAL_PAGE_ROUNDS = 2


def dev_set_pages() -> list[tuple[str, bytes]]:
    """The development set's pages as (url, bytes), or [] when it is not beside the project."""
    import gzip
    import json

    truth_file = DEV_SET / "ground-truth.json"
    if not truth_file.exists():
        return []
    truth = json.loads(truth_file.read_text(encoding="utf-8"))
    return [
        (truth[key]["url"], gzip.decompress((DEV_SET / "html" / f"{key}.html.gz").read_bytes()))
        for key in sorted(truth)
    ]


def extraction_cpu_on(pages: list[tuple[str, bytes]]) -> tuple[float, float]:
    """CPU seconds of bare trafilatura and of the pipeline's extractor over ``pages``,
    page by page alternately (the one that goes first alternates too), after one warm-up
    page each."""
    import logging

    import trafilatura

    from articles.cleaning.extraction import ExtractionError, extract_article

    # Real pages make trafilatura warn about odd markup, many lines a page; not a result.
    logging.getLogger("trafilatura").setLevel(logging.ERROR)

    def pipeline(content: bytes, url: str) -> None:
        # A page without text costs what it costs; it is not skipped.
        with contextlib.suppress(ExtractionError):
            extract_article(html=content, url=url)

    bare_extract(trafilatura, pages[0][1], pages[0][0])
    pipeline(pages[0][1], pages[0][0])
    bare_cpu = pipeline_cpu = 0.0
    for round_number in range(REAL_PAGE_ROUNDS):
        for position, (url, content) in enumerate(pages):
            bare_first = (round_number + position) % 2 == 0
            if bare_first:
                started = time.thread_time()
                bare_extract(trafilatura, content, url)
                bare_cpu += time.thread_time() - started
            started = time.thread_time()
            pipeline(content, url)
            pipeline_cpu += time.thread_time() - started
            if not bare_first:
                started = time.thread_time()
                bare_extract(trafilatura, content, url)
                bare_cpu += time.thread_time() - started
    return bare_cpu, pipeline_cpu


def print_extraction_cost(label: str, count: int, *, bare_cpu: float, pipeline_cpu: float) -> None:
    print(
        f"extraction CPU per page, {label}: bare trafilatura {1000 * bare_cpu / count:.1f} ms, "
        f"pipeline extract_article {1000 * pipeline_cpu / count:.1f} ms, "
        f"ratio {pipeline_cpu / bare_cpu:.2f}x"
    )


if __name__ == "__main__":
    main()
