"""How long the issue's admin pages take with a full issue and a big candidate pool.

Builds, in the configured database, an issue of ``--items`` items (Radar, Reading
corner and events) whose period holds ``--articles`` unused articles (a third of
them folded into story groups, every one with a topic), then loads the issue's
change page through the full Django stack (middleware, admin, templates) as a
logged-in superuser ``--runs`` times, unfiltered and with a text filter on the
pool. Prints the query count and the timings; the target is under 0.5 s.

Then the compile screen: its page (target: median under 200 ms) and each partial
update it makes without a reload (target: each under 50 ms): a pool filter, saving
an item's blurb, saving the letter, reordering a section, adding a story from the
pool and removing it again, the presence heartbeat and the letter preview. Each line
gives the queries one request makes.

Meant for PostgreSQL (it refuses SQLite unless ``--allow-sqlite``). The rows it
makes are marked and removed at the end (``--keep`` leaves them).

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/digest_edit \\
        .venv/bin/python bench/editorial.py
    .venv/bin/python bench/editorial.py --articles 3000 --items 60 --runs 30
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from datetime import date, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

MARK = "bench-editorial"
ISSUE_NUMBER = 990_001
PERIOD_START = date(1999, 1, 4)
PERIOD_END = date(1999, 1, 10)


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--articles", type=int, default=1000, help="unused articles in the pool")
    parser.add_argument("--items", type=int, default=50, help="items in the issue")
    parser.add_argument("--runs", type=int, default=20, help="timed page loads per case")
    parser.add_argument("--keep", action="store_true", help="leave the rows in the database")
    parser.add_argument("--allow-sqlite", action="store_true", help="run on SQLite anyway")
    parser.add_argument("--host", default="127.0.0.1", help="Host header (must be allowed)")
    return parser.parse_args()


def setup_django() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "digest.settings")
    import django

    django.setup()


def remove_rows() -> None:
    from django.contrib.auth.models import User

    from articles.models import Article, Event, Source, StoryGroup, Topic
    from newsletters.models import Issue

    Issue.objects.filter(number=ISSUE_NUMBER).delete()
    Article.objects.filter(canonical_url__startswith=f"https://{MARK}.invalid/").delete()
    Event.objects.filter(uid__startswith=MARK).delete()
    Source.objects.filter(url__startswith=f"https://{MARK}.invalid/").delete()
    StoryGroup.objects.filter(articles__isnull=True).delete()
    Topic.objects.filter(slug__startswith=MARK).delete()
    User.objects.filter(username=MARK).delete()


def build_world(*, article_count: int, item_count: int):
    """Make the issue, its items and its pool; return (issue, superuser)."""
    from django.contrib.auth.models import User
    from django.utils import timezone

    from articles.models import Article, ArticleTopic, Event, Source, StoryGroup, Topic
    from newsletters.models import Issue, IssueItem

    zone = timezone.get_current_timezone()
    topics = Topic.objects.bulk_create(
        [Topic(name=f"Bench topic {n}", slug=f"{MARK}-{n}") for n in range(10)]
    )
    sources = Source.objects.bulk_create(
        [
            Source(
                name=f"Bench outlet {n:02d}",
                url=f"https://{MARK}.invalid/feed-{n}.xml",
                category=Source.Category.ANALYSIS if n % 6 == 0 else Source.Category.NEWS,
            )
            for n in range(24)
        ]
    )
    groups = StoryGroup.objects.bulk_create([StoryGroup() for _ in range(article_count // 9)])
    body = "Regulators discussed the proposal at length. " * 40
    used = item_count  # the items' own articles are in the period too, but used
    articles = Article.objects.bulk_create(
        [
            Article(
                source=sources[n % len(sources)],
                canonical_url=f"https://{MARK}.invalid/story-{n}",
                guid=f"{MARK}-{n}",
                title=f"Bench story {n}: ministers agree on digital rules",
                slug=f"bench-story-{n}",
                summary="<p>A summary.</p>",
                body_html=f"<p>{body}</p>",
                body_text=body,
                image_url=f"https://{MARK}.invalid/img-{n}.jpg",
                published_at=datetime.combine(PERIOD_START, datetime.min.time(), tzinfo=zone)
                + timedelta(minutes=9 * n % (7 * 24 * 60)),
                group=groups[n % len(groups)] if groups and n % 3 == 0 else None,
            )
            for n in range(article_count + used)
        ],
        batch_size=500,
    )
    ArticleTopic.objects.bulk_create(
        [
            ArticleTopic(article=article, topic=topics[n % len(topics)])
            for n, article in enumerate(articles)
        ],
        batch_size=1000,
    )
    issue = Issue.objects.create(
        number=ISSUE_NUMBER,
        title="Benchmark issue",
        period_start=PERIOD_START,
        period_end=PERIOD_END,
        letter="Dear readers,\n\nA long week.",
        sign_off="The Editors",
    )
    event_start = datetime.combine(PERIOD_END, datetime.min.time(), tzinfo=zone)
    events = Event.objects.bulk_create(
        [
            Event(
                title=f"Bench forum {n}",
                uid=f"{MARK}-{n}",
                starts_at=event_start + timedelta(days=2 + n, hours=14),
                ends_at=event_start + timedelta(days=2 + n, hours=16),
                time_zone="Europe/Zurich",
                is_online=n % 2 == 0,
                place="" if n % 2 == 0 else "Geneva",
            )
            for n in range(20)
        ]
    )
    sections = (IssueItem.Section.RADAR, IssueItem.Section.READING, IssueItem.Section.EVENTS)
    items = []
    for n in range(item_count):
        section = sections[n % 3]
        if section == IssueItem.Section.EVENTS and n // 3 < len(events):
            event = events[n // 3]
            items.append(
                IssueItem(issue=issue, section=section, order=n, event=event, headline=event.title)
            )
        else:
            article = articles[article_count + n]
            items.append(
                IssueItem(
                    issue=issue,
                    section=IssueItem.Section.RADAR if section == "events" else section,
                    order=n,
                    article=article,
                    headline=article.title,
                    blurb="Regulators discussed the proposal at length.",
                    image_url=article.image_url,
                )
            )
    IssueItem.objects.bulk_create(items)
    user = User.objects.create_superuser(MARK, f"{MARK}@example.org", None)
    return issue, user


def measure(client, url: str, runs: int, *, htmx: bool = False) -> tuple[list[float], int, int]:
    """Time ``runs`` loads of ``url``; return seconds per load, queries and page size."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    headers = {"HTTP_HX_REQUEST": "true"} if htmx else {}
    for _ in range(2):  # warm caches, templates, connections
        response = client.get(url, **headers)
        assert response.status_code == 200, response.status_code
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url, **headers)
    queries, size = len(captured), len(response.content)
    timings = []
    for _ in range(runs):
        started = time.perf_counter()
        response = client.get(url, **headers)
        timings.append(time.perf_counter() - started)
        assert response.status_code == 200
    return timings, queries, size


def measure_posts(client, make_request, runs: int) -> tuple[list[float], int, int]:
    """Time ``runs`` htmx POSTs, the n-th to ``make_request(n)`` -> (url, data), after two
    warm-ups and one counted request; return seconds per request, queries, answer size."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    def post(n: int):
        url, data = make_request(n)
        response = client.post(url, data, HTTP_HX_REQUEST="true")
        assert response.status_code in (200, 204), (url, response.status_code)
        return response

    post(0)
    post(1)
    with CaptureQueriesContext(connection) as captured:
        response = post(2)
    queries, size = len(captured), len(response.content)
    timings = []
    for n in range(3, runs + 3):
        started = time.perf_counter()
        post(n)
        timings.append(time.perf_counter() - started)
    return timings, queries, size


def measure_compile(client, issue, runs: int) -> None:
    """The compile screen and each of its partial updates."""
    from django.urls import reverse

    from newsletters.compiling.pool import candidate_pool
    from newsletters.models import Issue, IssueItem

    def url(name: str, *args) -> str:
        return reverse(f"admin:newsletters_issue_{name}", args=[issue.pk, *args])

    report("compile page", *measure(client, url("compile"), runs), limit=0.2)
    pool_url = url("compile_pool") + "?q=ministers"
    report("update: pool filter", *measure(client, pool_url, runs, htmx=True), limit=0.05)

    item = issue.items.filter(article__isnull=False).order_by("order").first()

    def item_save(n: int):
        version = IssueItem.objects.values_list("version", flat=True).get(pk=item.pk)
        data = {"version": version, "blurb": f"Edited blurb, take {n}."}
        return url("compile_item_save", item.pk), data

    report("update: save a blurb", *measure_posts(client, item_save, runs), limit=0.05)

    def letter_save(n: int):
        version = Issue.objects.values_list("version", flat=True).get(pk=issue.pk)
        data = {"version": version, "letter": f"Dear readers,\n\nDraft {n}."}
        return url("compile_save_issue"), data

    report("update: save the letter", *measure_posts(client, letter_save, runs), limit=0.05)

    radar = list(
        issue.items.filter(section="radar").order_by("order").values_list("id", flat=True)
    )

    def reorder(n: int):
        ids = radar[n % 2 :] + radar[: n % 2]
        # Based on the order version stored now, as the screen's last answer said.
        version = Issue.objects.values_list("order_version", flat=True).get(pk=issue.pk)
        data = {"section": "radar", "items": ",".join(map(str, ids)), "order_version": version}
        return url("compile_reorder"), data

    report("update: reorder Radar", *measure_posts(client, reorder, runs), limit=0.05)

    candidates = [
        story.article.pk for story in candidate_pool(issue=issue, per_page=runs + 5).stories
    ]

    def add(n: int):
        return url("compile_add"), {"article": candidates[n], "section": "reading"}

    report("update: add from pool", *measure_posts(client, add, runs), limit=0.05)
    added = list(issue.items.filter(article_id__in=candidates).values_list("id", flat=True))

    def remove(n: int):
        return url("compile_remove", added[n]), {}

    report("update: remove an item", *measure_posts(client, remove, runs), limit=0.05)

    def beat(n: int):
        return url("compile_presence"), {}

    report("update: heartbeat", *measure_posts(client, beat, runs), limit=0.05)
    letter = "Dear readers,\n\n" + f"A [story](article:{candidates[0]}) and more. " * 20

    def preview(n: int):
        return url("compile_letter"), {"letter": f"{letter}{n}"}

    report("update: letter preview", *measure_posts(client, preview, runs), limit=0.05)


def report(
    label: str, timings: list[float], queries: int, size: int, *, limit: float = 0.5
) -> None:
    if not timings:
        return
    ordered = sorted(timings)
    p95 = ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]
    median = statistics.median(timings)
    verdict = "OK" if median < limit else f"SLOWER THAN {limit * 1000:.0f} ms"
    print(
        f"{label:<28} queries {queries:>3}  page {size / 1024:6.0f} KiB  "
        f"min {ordered[0] * 1000:6.1f} ms  median {statistics.median(timings) * 1000:6.1f} ms  "
        f"p95 {p95 * 1000:6.1f} ms  max {ordered[-1] * 1000:6.1f} ms  {verdict}"
    )


def main() -> int:
    args = parse_args()
    setup_django()
    from django.core.management import call_command
    from django.db import connection
    from django.test import Client
    from django.urls import reverse

    if connection.vendor != "postgresql" and not args.allow_sqlite:
        print("Set DATABASE_URL to a PostgreSQL database (or pass --allow-sqlite).")
        return 2
    call_command("migrate", verbosity=0)
    remove_rows()
    started = time.perf_counter()
    issue, user = build_world(article_count=args.articles, item_count=args.items)
    print(
        f"{connection.vendor}: built an issue of {issue.items.count()} items and a pool of "
        f"{args.articles} articles in {time.perf_counter() - started:.1f} s"
    )
    try:
        client = Client(HTTP_HOST=args.host)
        client.force_login(user)
        url = reverse("admin:newsletters_issue_change", args=[issue.pk])
        report("issue page", *measure(client, url, args.runs))
        report("issue page, text filter", *measure(client, f"{url}?pool_q=ministers", args.runs))
        report("issue page, pool page 10", *measure(client, f"{url}?pool_page=10", args.runs))
        measure_compile(client, issue, args.runs)
    finally:
        if not args.keep:
            remove_rows()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
