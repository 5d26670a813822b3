"""Reader-site throughput: gunicorn on loopback, a PostgreSQL world of realistic size.

    .venv/bin/python bench/web.py                      # 50,000 articles, 30 topics, 200 issues
    .venv/bin/python bench/web.py --articles 5000 --duration 5
    .venv/bin/python bench/web.py --reseed             # drop and rebuild the data

What it does:

1. Creates the database (default ``digest_bench_web``) if needed, migrates it and,
   unless it already holds the requested world, fills it with ``bulk_create``:
   articles with ~250-word bodies over four years, 30 topics, 200 sent issues of 19
   items each, story groups and events.
2. Renders each page type once in-process with an empty cache and prints its query
   count and time: the cost of a cache miss, with the full data set.
3. Starts gunicorn (2 sync workers, DEBUG off, Redis cache) on 127.0.0.1 and
   measures requests per second and p50/p95 latency for the home, topic, article,
   issue and search pages and for ``/healthz`` (a view that does nothing), with
   ``wrk`` when installed (one thread, a Lua script rotating through many URLs),
   else a threaded http.client loop. Page URLs are warmed first, so the four reader
   pages are measured as cached. Search is measured twice: the same searches again
   ("repeated": answered from the page cache, as a popular search is) and each request
   a search of its own ("computed": an ignored parameter new on every request, so
   nothing comes from the cache); the in-process costs are all computed.

Aims: cached pages at least half the trivial view's throughput; search p95 with 8
connections under 30 ms at 50,000 articles and under 100 ms at 500,000.
"""

from __future__ import annotations

import argparse
import os
import random
import secrets
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from datetime import UTC, datetime, timedelta
from http.client import HTTPConnection
from pathlib import Path
from urllib.parse import urlencode

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from search_vocabulary import (  # noqa: E402 - bench/ is the script's own directory
    POLICY_WORDS,
    Vocabulary,
    make_body,
    make_title,
    search_queries,
)

TOPIC_NAMES = [
    "Artificial intelligence", "Data protection", "Cybersecurity", "Competition",
    "Content policy", "Child safety online", "E-commerce and trade", "Semiconductors",
    "Cryptocurrencies", "Digital finance", "Infrastructure", "Health tech",
    "Geopolitics", "Digital diplomacy", "Telecoms", "Cloud", "Platform work",
    "Elections online", "Digital identity", "Open source", "Quantum", "Space",
    "Surveillance", "Encryption", "Standards", "Taxation", "Digital rights",
    "Internet governance", "Disinformation", "Connectivity",
]  # fmt: skip


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--articles", type=int, default=50_000)
    parser.add_argument("--topics", type=int, default=30)
    parser.add_argument("--issues", type=int, default=200)
    parser.add_argument("--database", default="digest_bench_web")
    parser.add_argument("--pg", default="postgres://postgres@127.0.0.1:5432")
    parser.add_argument("--redis", default="redis://127.0.0.1:6379/5")
    parser.add_argument("--duration", type=int, default=9, help="seconds per page, all rounds")
    parser.add_argument("--connections", type=int, default=8)
    parser.add_argument("--rounds", type=int, default=3, help="interleaved rounds per page")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--port", type=int, default=0, help="0 picks a free port")
    parser.add_argument(
        "--version-check-seconds",
        type=float,
        default=0.0,
        help="READER_PAGE_VERSION_CHECK_SECONDS for the server (0: read it every request)",
    )
    parser.add_argument("--reseed", action="store_true", help="delete and rebuild the data")
    parser.add_argument("--python-client", action="store_true", help="do not use wrk")
    parser.add_argument(
        "--search-only", action="store_true", help="load only search and /healthz (big worlds)"
    )
    return parser.parse_args()


def server_environment(args: argparse.Namespace) -> dict[str, str]:
    env = dict(os.environ)
    env.update(
        DATABASE_URL=f"{args.pg}/{args.database}",
        REDIS_URL=args.redis,
        CACHE_KEY_PREFIX=args.database,
        DJANGO_DEBUG="0",
        DJANGO_SECRET_KEY=secrets.token_urlsafe(64),
        DJANGO_ALLOWED_HOSTS="127.0.0.1,localhost",
        DJANGO_SECURE_SSL_REDIRECT="0",
        DJANGO_HSTS_SECONDS="0",
        LOG_LEVEL="WARNING",
        READER_PAGE_VERSION_CHECK_SECONDS=str(args.version_check_seconds),
        READER_SEARCH_PER_MINUTE="0",  # one client hammering search on purpose
    )
    return env


def ensure_database(args: argparse.Namespace) -> None:
    import psycopg

    with psycopg.connect(f"{args.pg}/postgres", autocommit=True) as connection:
        exists = connection.execute(
            "SELECT 1 FROM pg_database WHERE datname = %s", [args.database]
        ).fetchone()
        if not exists:
            connection.execute(f'CREATE DATABASE "{args.database}"')


def setup_django(env: dict[str, str]) -> None:
    os.environ.update(env)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "digest.settings")
    import django

    django.setup()


def seed(args: argparse.Namespace) -> None:
    """Fill the database with the requested world unless it is already there."""
    from django.db import connection, transaction
    from django.utils.text import slugify

    from articles.models import Article, ArticleTopic, Event, Source, StoryGroup, Topic
    from articles.search_index import POSTGRES_DATE_VECTOR_INDEX, POSTGRES_TOPIC_IDS_BACKFILL
    from newsletters.models import Issue, IssueItem

    have = (Article.objects.count(), Topic.objects.count(), Issue.objects.count())
    if not args.reseed and have == (args.articles, args.topics, args.issues):
        print(f"data: reusing {have[0]:,} articles, {have[1]} topics, {have[2]} issues")
        return
    if not args.reseed and have[0]:
        # A world of another size is there (a 500,000 seed takes half an hour): never
        # replace it because of a forgotten --articles.
        raise SystemExit(
            f"{args.database} holds {have[0]:,} articles, {have[1]} topics and {have[2]} "
            f"issues, not {args.articles:,}/{args.topics}/{args.issues}: pass the same "
            "--articles/--topics/--issues to reuse it, or --reseed to replace it."
        )
    started = time.perf_counter()
    with connection.cursor() as cursor:
        cursor.execute(
            "TRUNCATE articles_article, articles_topic, articles_source, articles_storygroup, "
            "articles_event, newsletters_issue RESTART IDENTITY CASCADE"
        )
        # A bulk load fills the search index faster built once at the end than row by
        # row, and the topics of the narrow search table faster in one statement than by
        # the per-row trigger (one GIN update per topic link). The trigger is back on,
        # and the index the migrations create rebuilt, before anything is measured.
        cursor.execute("DROP INDEX IF EXISTS articlesearch_date_vector_gin")
        cursor.execute("DROP INDEX IF EXISTS articlesearch_vector_gin")  # an older layout's
    rng = random.Random(20250425)
    vocabulary = Vocabulary()
    now = datetime.now(UTC)
    names = (TOPIC_NAMES * (args.topics // len(TOPIC_NAMES) + 1))[: args.topics]
    with transaction.atomic():
        # Inside the transaction: a failed seed rolls back to the trigger switched on.
        with connection.cursor() as cursor:
            cursor.execute(
                "ALTER TABLE articles_articletopic DISABLE TRIGGER articles_articlesearch_topics"
            )
        topics = Topic.objects.bulk_create(
            Topic(
                name=name if index < len(TOPIC_NAMES) else f"{name} {index}",
                slug=slugify(name if index < len(TOPIC_NAMES) else f"{name} {index}"),
                description=f"News and analysis on {name.lower()}.",
                position=index,
            )
            for index, name in enumerate(names)
        )
        sources = Source.objects.bulk_create(
            Source(name=f"Outlet {index}", url=f"https://outlet{index}.example.org/feed")
            for index in range(100)
        )
        groups = StoryGroup.objects.bulk_create(StoryGroup() for _ in range(args.articles // 10))
        span = timedelta(weeks=max(args.issues, 12) + 4)
        batch: list[Article] = []
        # Only ids, dates and titles are kept: 500,000 bodies do not fit in memory.
        created: list[tuple[int, datetime, str]] = []
        links: list[ArticleTopic] = []
        link_count = 0

        def flush() -> None:
            nonlocal link_count
            for article in Article.objects.bulk_create(batch):
                created.append((article.pk, article.published_at, article.title))
                for topic in rng.sample(topics, rng.choice((1, 1, 2))):
                    links.append(ArticleTopic(article_id=article.pk, topic=topic))
            ArticleTopic.objects.bulk_create(links, batch_size=5000)
            link_count += len(links)
            links.clear()
            batch.clear()
            if sys.stdout.isatty():
                rate = len(created) / (time.perf_counter() - started)
                print(f"\rdata: {len(created):,} articles ({rate:,.0f}/s)", end="", flush=True)

        for index in range(args.articles):
            title = make_title(rng, index)
            body = make_body(rng, vocabulary)
            batch.append(
                Article(
                    source=sources[index % len(sources)],
                    canonical_url=f"https://news.example.org/{index}",
                    guid=f"guid-{index}",
                    title=title,
                    slug=slugify(title)[:200],
                    summary=f"<p>{title}: what happened and why it matters.</p>",
                    body_text=body,
                    body_html="".join(f"<p>{part}</p>" for part in body.split("\n\n")),
                    published_at=now - span * rng.random(),
                    extraction_status=Article.Extraction.EXTRACTED,
                    group=groups[rng.randrange(len(groups))] if rng.random() < 0.2 else None,
                    language="en",
                )
            )
            if len(batch) == 2000:
                flush()
        flush()
        if sys.stdout.isatty():
            print()
        events = Event.objects.bulk_create(
            Event(
                title=f"Forum on {rng.choice(POLICY_WORDS)} {index}",
                url=f"https://events.example.org/{index}",
                starts_at=(start := now + timedelta(days=rng.randint(-700, 90), hours=index % 9)),
                ends_at=start + timedelta(hours=2),
                is_online=index % 2 == 0,
                place="" if index % 2 == 0 else "Geneva",
                description="<p>A discussion.</p>",
            )
            for index in range(400)
        )
        by_week = sorted(created, key=lambda row: row[1], reverse=True)
        items = []
        issues = []
        for number in range(1, args.issues + 1):
            end = (now - timedelta(weeks=args.issues - number)).date()
            issues.append(
                Issue(
                    number=number,
                    title=f"Weekly {number}: {' and '.join(rng.sample(POLICY_WORDS, 2))}",
                    slug=f"weekly-{number}",
                    period_start=end - timedelta(days=6),
                    period_end=end,
                    letter="Dear readers,\n\n" + make_body(rng, vocabulary),
                    sign_off="The Editors",
                    status=Issue.Status.SENT,
                    sent_at=now - timedelta(weeks=args.issues - number),
                )
            )
        issues = Issue.objects.bulk_create(issues)
        per_issue = max(1, len(by_week) // max(args.issues, 1))
        for index, issue in enumerate(reversed(issues)):
            pool = by_week[index * per_issue : (index + 1) * per_issue]
            chosen = rng.sample(pool, min(16, len(pool)))
            for order, (article_id, _, title) in enumerate(chosen):
                section = IssueItem.Section.RADAR if order < 12 else IssueItem.Section.READING
                items.append(
                    IssueItem(
                        issue=issue,
                        section=section,
                        order=order,
                        article_id=article_id,
                        headline=title,
                        blurb="Why it matters, in two sentences.",
                    )
                )
            for order, event in enumerate(rng.sample(events, 3)):
                items.append(
                    IssueItem(
                        issue=issue,
                        section=IssueItem.Section.EVENTS,
                        order=order,
                        event=event,
                        headline=event.title,
                    )
                )
        IssueItem.objects.bulk_create(items, batch_size=5000)
        with connection.cursor() as cursor:
            # The foreign keys' deferred checks run now: ALTER TABLE waits for none.
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
            cursor.execute(POSTGRES_TOPIC_IDS_BACKFILL)
            cursor.execute(
                "ALTER TABLE articles_articletopic ENABLE TRIGGER articles_articlesearch_topics"
            )
    with connection.cursor() as cursor:
        cursor.execute(POSTGRES_DATE_VECTOR_INDEX)
        cursor.execute("VACUUM ANALYZE")
    print(
        f"data: seeded {len(created):,} articles, {link_count:,} topic links, "
        f"{len(issues)} issues, {len(items):,} items in {time.perf_counter() - started:.0f} s"
    )


def search_urls(topics: list[str]) -> dict[str, list[str]]:
    """Search URLs by kind of query (``search_vocabulary.search_queries``), many pages."""
    rng = random.Random(7)
    kinds: dict[str, list[str]] = {}
    for kind, queries in search_queries(Vocabulary()).items():
        urls = []
        for query in queries:
            params = {"q": query.removesuffix(" @topic")}
            if query.endswith(" @topic"):
                params["topic"] = rng.choice(topics)
            urls.append("/search/?" + urlencode(params))
            # Readers sort by date now and then, and go to a later page.
            urls.append("/search/?" + urlencode({**params, "sort": "newest"}))
            urls.append("/search/?" + urlencode({**params, "page": 2}))
        kinds[kind] = urls
    return kinds


def sample_urls(args: argparse.Namespace) -> dict[str, list[str]]:
    from articles.models import Article, Topic
    from newsletters.models import Issue

    article_urls = [
        f"/articles/{pk}-{slug}/"
        for pk, slug in Article.objects.published().order_by("?").values_list("pk", "slug")[:300]
    ]
    topics = list(Topic.objects.values_list("slug", flat=True))
    issue_numbers = list(Issue.objects.published().values_list("number", flat=True))
    searches = [url for urls in search_urls(topics).values() for url in urls]
    pages = {
        "home": ["/"],
        "topic": [f"/topics/{slug}/" for slug in topics],
        "article": article_urls,
        "issue": [f"/issues/{number}/" for number in issue_numbers[-100:]],
        "search": searches,
        "trivial (/healthz)": ["/healthz"],
    }
    if args.search_only:
        return {name: pages[name] for name in ("search", "trivial (/healthz)")}
    return pages


def in_process_costs(urls: dict[str, list[str]]) -> None:
    """Render one URL of each page with an empty cache: queries and milliseconds."""
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    from digest.core.page_cache import invalidate_pages

    client = Client()
    print("\nuncached render, in-process (cost of a cache miss):")
    client.get("/", HTTP_HOST="127.0.0.1")  # compile templates, import lazily loaded modules
    for name, paths in urls.items():
        timings, queries = [], 0
        for path in (paths * 5)[:5]:
            invalidate_pages()
            with CaptureQueriesContext(connection) as captured:
                started = time.perf_counter()
                response = client.get(path, HTTP_HOST="127.0.0.1")
                timings.append((time.perf_counter() - started) * 1000)
            assert response.status_code == 200, (path, response.status_code)
            queries = max(queries, len(captured.captured_queries))
        print(f"  {name:<20} {queries:>2} queries  median {statistics.median(timings):6.1f} ms")


def buffers_touched(queries: list[dict]) -> int:
    """Shared buffers (8 kB pages, hit or read) the searches' queries touch, by EXPLAIN
    ANALYZE: a measure of work that does not depend on how busy the machine is."""
    import json

    from django.db import connection

    total = 0
    with connection.cursor() as cursor:
        for entry in queries:
            if not entry["sql"].lstrip().upper().startswith("SELECT"):
                continue
            cursor.execute("EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON) " + entry["sql"])
            (document,) = cursor.fetchone()
            document = json.loads(document) if isinstance(document, str) else document
            plan = document[0]["Plan"]
            total += plan.get("Shared Hit Blocks", 0) + plan.get("Shared Read Blocks", 0)
    return total


def backend_cpu_seconds() -> float | None:
    """CPU seconds the PostgreSQL backend serving this process has used (user + system,
    from /proc: the server runs on this machine), or None where that cannot be read."""
    import os

    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        (pid,) = cursor.fetchone()
    try:
        with open(f"/proc/{pid}/stat") as stat:
            fields = stat.read().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def search_costs() -> None:
    """Each kind of search query, in-process: queries, median and worst milliseconds,
    CPU milliseconds per search of this process and of its PostgreSQL backend (means:
    unlike wall-clock time, barely moved by other load on a shared machine), the 8 kB
    pages its queries touch (median), and the count a reader sees (first page,
    relevance; the kind's URLs also sort by newest and go to page 2)."""
    import re

    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    from articles.models import Topic

    client = Client()
    topics = list(Topic.objects.values_list("slug", flat=True))
    print("\nsearch, in-process, per kind of query (each URL twice, warm):")
    print(
        f"  {'kind':<16} {'urls':>4} {'queries':>7} {'median ms':>9} {'max ms':>7} "
        f"{'cpu ms':>6} {'pg cpu':>6} {'pages':>6}  counts seen"
    )
    for kind, urls in search_urls(topics).items():
        timings, queries, counts, pages = [], 0, [], []
        # Each request with an ignored parameter of its own: computed, never a cache hit.
        for n, path in enumerate(urls):  # warm, and what each search's queries touch
            with CaptureQueriesContext(connection) as captured:
                response = client.get(f"{path}&fresh=w{n}", HTTP_HOST="127.0.0.1")
            assert response.status_code == 200, (path, response.status_code)
            pages.append(buffers_touched(captured.captured_queries))
            queries = max(queries, len(captured.captured_queries))
            if "page=" not in path and "sort=" not in path:
                found = re.search(
                    r'id="results-title"[^>]*>([^<]*?) (?:results?) for', response.content.decode()
                )
                counts.append(found.group(1) if found else "0")
        cpu, backend = time.thread_time(), backend_cpu_seconds()
        for n, path in enumerate(urls):
            started = time.perf_counter()
            client.get(f"{path}&fresh=t{n}", HTTP_HOST="127.0.0.1")
            timings.append((time.perf_counter() - started) * 1000)
        cpu = (time.thread_time() - cpu) * 1000 / len(urls)
        after = backend_cpu_seconds()
        pg_cpu = (
            f"{(after - backend) * 1000 / len(urls):6.1f}" if backend is not None else "     -"
        )
        print(
            f"  {kind:<16} {len(urls):>4} {queries:>7} {statistics.median(timings):9.1f} "
            f"{max(timings):7.1f} {cpu:6.1f} {pg_cpu} {statistics.median(pages):6.0f}  "
            f"{', '.join(counts)}"
        )


# Search measured twice: the same searches asked for again (answered from the page
# cache, as a reader who repeats a popular search is), and every request a search of
# its own (an ignored parameter new on each request): the cost of computing it.
SEARCH_CACHED = "search, repeated"
SEARCH_COMPUTED = "search, computed"


def free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_for(port: int, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            connection = HTTPConnection("127.0.0.1", port, timeout=2)
            connection.request("GET", "/healthz")
            if connection.getresponse().status == 200:
                return
        except OSError:
            time.sleep(0.2)
    raise SystemExit("gunicorn did not start")


def fetch(port: int, path: str) -> int:
    connection = HTTPConnection("127.0.0.1", port, timeout=30)
    connection.request("GET", path)
    response = connection.getresponse()
    response.read()
    connection.close()
    return response.status


WRK_SCRIPT = """
local paths = {%s}
local fresh = "%s"
local counter = 0
request = function()
  counter = counter + 1
  local path = paths[(counter %% #paths) + 1]
  if fresh ~= "" then path = path .. "&fresh=" .. fresh .. counter end
  return wrk.format("GET", path)
end
done = function(summary, latency, requests)
  io.write(string.format("RESULT %%d %%f %%d %%d %%d\\n", summary.requests,
    summary.duration / 1e6, latency:percentile(50), latency:percentile(95),
    summary.errors.status + summary.errors.connect + summary.errors.read
    + summary.errors.write + summary.errors.timeout))
end
"""


def fresh_token(fresh: bool) -> str:
    """A prefix for the ``fresh`` parameter of one run ("" for none): a parameter the
    view ignores, new on every request, so that no request is a page-cache hit."""
    return secrets.token_hex(4) + "-" if fresh else ""


def run_wrk(
    port: int, paths: list[str], args: argparse.Namespace, fresh: bool = False
) -> tuple[float, float, float, int]:
    quoted = ", ".join(f'"{path}"' for path in paths)
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as script:
        script.write(WRK_SCRIPT % (quoted, fresh_token(fresh)))
    try:
        output = subprocess.run(
            [
                "wrk", "-t1", f"-c{args.connections}", f"-d{args.duration}s", "--timeout", "10s",
                "-s", script.name, f"http://127.0.0.1:{port}",
            ],
            capture_output=True, text=True, check=True,
        ).stdout  # fmt: skip
    finally:
        os.unlink(script.name)
    line = next(line for line in output.splitlines() if line.startswith("RESULT"))
    _, requests, seconds, p50, p95, errors = line.split()
    return int(requests) / float(seconds), int(p50) / 1000, int(p95) / 1000, int(errors)


def run_python_client(
    port: int, paths: list[str], args: argparse.Namespace, fresh: bool = False
) -> tuple[float, float, float, int]:
    token = fresh_token(fresh)
    latencies: list[float] = []
    errors = 0
    lock = threading.Lock()
    deadline = time.monotonic() + args.duration

    def worker(offset: int) -> None:
        nonlocal errors
        index = offset
        while time.monotonic() < deadline:
            path = paths[index % len(paths)]
            if token:
                path += f"&fresh={token}{index}"
            index += args.connections
            started = time.perf_counter()
            status = fetch(port, path)
            elapsed = (time.perf_counter() - started) * 1000
            with lock:
                latencies.append(elapsed)
                errors += status != 200

    started = time.monotonic()
    threads = [threading.Thread(target=worker, args=(n,)) for n in range(args.connections)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    seconds = time.monotonic() - started
    cuts = statistics.quantiles(latencies, n=100)
    return len(latencies) / seconds, cuts[49], cuts[94], errors


def main() -> None:
    args = parse_args()
    env = server_environment(args)
    ensure_database(args)
    setup_django(env)
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    seed(args)
    urls = sample_urls(args)
    call_command("collectstatic", interactive=False, verbosity=0)
    in_process_costs(urls)
    search_costs()

    port = args.port or free_port()
    gunicorn = shutil.which("gunicorn", path=str(ROOT / ".venv" / "bin")) or "gunicorn"
    server = subprocess.Popen(
        [
            gunicorn, "digest.wsgi:application", "--workers", str(args.workers),
            "--bind", f"127.0.0.1:{port}", "--log-level", "warning",
        ],
        cwd=ROOT, env=env,
    )  # fmt: skip
    use_wrk = shutil.which("wrk") and not args.python_client
    try:
        wait_for(port)
        from digest.core.page_cache import invalidate_pages

        invalidate_pages()
        for paths in urls.values():
            for path in paths:  # warm the page cache (searches too: asked for again)
                status = fetch(port, path)
                if status != 200:
                    raise SystemExit(f"{path} answered {status}")
        client = "wrk" if use_wrk else "python threads"
        print(
            f"\ngunicorn {args.workers} sync workers on 127.0.0.1:{port}; {client}, "
            f"{args.connections} connections, {args.duration:g} s per page in "
            f"{args.rounds} rounds (p50/p95: median over rounds), "
            f"page version read every {args.version_check_seconds:g} s (0: every request)"
        )
        measure = run_wrk if use_wrk else run_python_client
        # The machine may be shared: pages are measured in interleaved rounds, so a
        # burst of outside load lands on every page alike rather than on one.
        rounds = max(1, args.rounds)
        per_round = argparse.Namespace(
            **{**vars(args), "duration": max(1, args.duration // rounds)}
        )
        unqueued = argparse.Namespace(**{**vars(per_round), "connections": args.workers})
        jobs = [
            (SEARCH_CACHED if name == "search" else name, paths, per_round, False)
            for name, paths in urls.items()
        ]
        jobs.append((SEARCH_COMPUTED, urls["search"], per_round, True))
        jobs.append((f"search (c={args.workers})", urls["search"], unqueued, True))
        samples: dict[str, list[tuple[float, float, float, int]]] = {name: [] for name, *_ in jobs}
        for _ in range(rounds):
            for name, paths, options, fresh in jobs:
                samples[name].append(measure(port, paths, options, fresh))
        print(f"  {'page':<20} {'req/s':>8} {'p50 ms':>8} {'p95 ms':>8} {'errors':>7}")
        results = {}
        for name, runs in samples.items():
            rate = statistics.mean(run[0] for run in runs)
            p50 = statistics.median(run[1] for run in runs)
            p95 = statistics.median(run[2] for run in runs)
            errors = sum(run[3] for run in runs)
            results[name] = rate
            print(f"  {name:<20} {rate:8.0f} {p50:8.1f} {p95:8.1f} {errors:7d}")
        trivial = results["trivial (/healthz)"]
        print("\nthroughput relative to the trivial view (aim: cached pages >= 0.50):")
        for name in [
            name
            for name in results
            if name in ("home", "topic", "article", "issue", SEARCH_CACHED, SEARCH_COMPUTED)
        ]:
            print(f"  {name:<20} {results[name] / trivial:5.2f}")
    finally:
        server.terminate()
        server.wait(timeout=10)


if __name__ == "__main__":
    main()
