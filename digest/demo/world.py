"""A small demo world, built without the network.

The feeds, article pages and calendar in ``digest/demo/demo_data/site/`` stand in
for four outlets at ``https://demo.digest.invalid/``. ``demo_fetch`` serves them
with the same signature as the safe fetcher, and ``build_demo_world`` hands it
to the real ingestion pipeline, so parsing, extraction, boilerplate stripping,
topic suggestion and near-duplicate grouping all run on the demo as they would
on the web. Dates in those files are written relative to today
(``{{iso:-3 09:30}}``: three days ago at 09:30 UTC) and filled in when served.

Building is idempotent: topics and sources are matched by slug and URL,
articles by their canonical URL, issues by number, subscribers by email; an
existing issue is left as it is.
"""

from __future__ import annotations

import mimetypes
import re
import secrets
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from urllib.parse import urlsplit

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils import timezone

from articles.fetching.client import FetchResult, HTTPStatusError
from articles.models import Article, Event, Source, Topic

DEMO_HOST = "demo.digest.invalid"
DEMO_ROOT = Path(__file__).resolve().parent / "demo_data" / "site"
# Printed by the command and used only when DEBUG is on (a local demo).
DEMO_PASSWORD = "digest-demo"  # noqa: S105
ADMIN_USERNAME = "editor"

TOPICS: list[tuple[str, str, str, list[str]]] = [
    (
        "Artificial intelligence",
        "artificial-intelligence",
        "Rules for AI models and systems, AI safety, and AI in public services.",
        [
            "artificial intelligence",
            "AI",
            "machine learning",
            "general-purpose model",
            "language model",
            "chatbot",
            "algorithm",
        ],
    ),
    (
        "E-commerce and trade",
        "e-commerce-and-trade",
        "Online marketplaces, digital trade agreements, customs and data flows in trade.",
        [
            "e-commerce",
            "online marketplace",
            "digital trade",
            "trade agreement",
            "customs",
            "tariff",
            "e-invoicing",
        ],
    ),
    (
        "Competition",
        "competition",
        "Antitrust cases, merger control and rules for gatekeeper platforms.",
        [
            "antitrust",
            "competition authority",
            "competition",
            "dominant position",
            "gatekeeper",
            "gatekeepers",
            "merger",
            "self-preferencing",
        ],
    ),
    (
        "Content policy",
        "content-policy",
        "Content moderation, disinformation, platform transparency and online speech.",
        [
            "content moderation",
            "disinformation",
            "takedown",
            "transparency report",
            "code of practice",
            "hate speech",
            "online platform",
        ],
    ),
    (
        "Child safety online",
        "child-safety-online",
        "Age assurance, design codes and protection of children on online services.",
        [
            "child safety",
            "children",
            "minors",
            "age verification",
            "age assurance",
            "age checks",
            "parental consent",
        ],
    ),
    (
        "Data protection and privacy",
        "data-protection",
        "Personal data, privacy regulators and surveillance.",
        [
            "data protection",
            "privacy",
            "personal data",
            "data protection authority",
            "surveillance",
            "biometric",
        ],
    ),
    (
        "Cybersecurity",
        "cybersecurity",
        "Cyberattacks, ransomware, vulnerabilities and cybercrime cooperation.",
        [
            "cybersecurity",
            "ransomware",
            "cyberattack",
            "vulnerability",
            "cybercrime",
            "incident response",
        ],
    ),
    (
        "Cryptocurrencies and digital finance",
        "digital-finance",
        "Crypto-assets, stablecoins, central bank digital currencies and payments.",
        [
            "cryptocurrency",
            "crypto",
            "stablecoin",
            "digital currency",
            "central bank",
            "exchange",
            "digital payments",
        ],
    ),
    (
        "Semiconductors",
        "semiconductors",
        "Chips, fabrication plants, subsidies and export controls.",
        [
            "semiconductor",
            "chip",
            "chips",
            "chipmaking",
            "fabrication plant",
            "foundry",
            "export controls",
            "lithography",
        ],
    ),
    (
        "Geopolitics and digital diplomacy",
        "digital-diplomacy",
        "Treaties, multilateral forums and technology in foreign policy.",
        [
            "diplomacy",
            "geopolitical",
            "treaty",
            "negotiations",
            "multilateral",
            "Global Digital Forum",
            "delegations",
            "capacity building",
        ],
    ),
    (
        "Infrastructure",
        "infrastructure",
        "Broadband, subsea cables, data centres, cloud and connectivity.",
        [
            "infrastructure",
            "broadband",
            "subsea cable",
            "cables",
            "data centre",
            "cloud computing",
            "cloud providers",
            "connectivity",
            "satellite",
        ],
    ),
    (
        "Health tech",
        "health-tech",
        "Digital health, telemedicine and health data.",
        [
            "health data",
            "digital health",
            "telemedicine",
            "hospital",
            "hospitals",
            "patient records",
            "medical",
        ],
    ),
]


@dataclass(frozen=True)
class DemoSource:
    name: str
    path: str
    site_path: str
    kind: str
    category: str
    strip_patterns: str = ""


SOURCES: list[DemoSource] = [
    DemoSource(
        "Policy Wire",
        "policy-wire/feed.rss",
        "policy-wire/",
        Source.Kind.FEED,
        Source.Category.NEWS,
    ),
    DemoSource(
        "NetGov Observer",
        "netgov-observer/atom.xml",
        "netgov-observer/",
        Source.Kind.FEED,
        Source.Category.NEWS,
        # An editor's own pattern; the other outlets' trailers are recognised unaided.
        strip_patterns=r"^Want the week's digital policy news in your inbox\?",
    ),
    DemoSource(
        "Digital Commons Review",
        "digital-commons/index.rdf",
        "digital-commons/",
        Source.Kind.FEED,
        Source.Category.ANALYSIS,
    ),
    DemoSource(
        "Digital policy events",
        "events/calendar.ics",
        "events/",
        Source.Kind.ICAL,
        Source.Category.EVENTS,
    ),
]

SUBSCRIBERS: list[tuple[str, str, list[str]]] = [
    ("amira.haddad@example.org", "active", []),
    ("ben.okoro@example.org", "active", ["artificial-intelligence", "data-protection"]),
    ("chen.wei@example.net", "active", []),
    ("dora.lindgren@example.com", "active", ["semiconductors", "e-commerce-and-trade"]),
    ("emil.novak@example.org", "pending", []),
    ("farah.qureshi@example.net", "unsubscribed", []),
]

ISSUE_ONE_TITLE = "Guidance for AI models, age checks for social media, and cables under the sea"
ISSUE_ONE_LETTER = """Dear readers,

Two regulators set the tone this week. The Meridian Union's AI Office published its \
[first guidance for developers of general-purpose models]({ai_office}), and \
[Caldoria's parliament voted]({age_checks}) to require age checks on social media. \
Both raise the question our Reading corner returns to: how much can be checked \
before a product is used, and how much only afterwards?

Infrastructure reminded us that it is physical. [Two subsea cables were cut]({cables}) \
in the Strait of Lunaria, and [a ransomware attack]({ransomware}) postponed \
operations at three hospitals in Port Sable.

As always, Upcoming events lists where these debates continue.
"""
ISSUE_TWO_LETTER = """Dear readers,

A first draft for this week: the privacy regulator's decision on Kestrel Systems, \
the new export controls on chipmaking tools, and CoinHarbor's collapse.

"""
SIGN_OFF = "The Digital Policy Weekly team"


# --------------------------------------------------------------------- serving

_PLACEHOLDER = re.compile(r"\{\{(\w+)(?::([+-]?\d+) (\d\d):(\d\d))?\}\}")
_CONTENT_TYPES = {
    ".rss": "application/rss+xml",
    ".xml": "application/atom+xml",
    ".rdf": "application/rdf+xml",
    ".ics": "text/calendar",
    ".html": "text/html",
}


def render_demo_text(text: str, *, today: date, site_url: str) -> str:
    """Fill the date and site placeholders of a demo file for ``today``."""

    def moment(match: re.Match) -> datetime:
        days, hours, minutes = int(match[2]), int(match[3]), int(match[4])
        return datetime.combine(today + timedelta(days=days), time(hours, minutes), tzinfo=UTC)

    def replace(match: re.Match) -> str:
        kind = match[1]
        if kind == "site_url":
            return site_url
        if match[2] is None:
            return match[0]
        value = moment(match)
        if kind == "iso":
            return value.isoformat().replace("+00:00", "Z")
        if kind == "rfc822":
            return value.strftime("%a, %d %b %Y %H:%M:%S +0000")
        if kind == "long":
            return f"{value.day} {value:%B %Y}"
        if kind == "ical":  # a local time, the file names its TZID
            return value.strftime("%Y%m%dT%H%M%S")
        if kind == "icalutc":
            return value.strftime("%Y%m%dT%H%M%SZ")
        return match[0]

    return _PLACEHOLDER.sub(replace, text)


def demo_url(path: str) -> str:
    return f"https://{DEMO_HOST}/{path}"


def demo_file(url: str) -> Path | None:
    """The file under ``DEMO_ROOT`` that serves ``url``, or None."""
    parts = urlsplit(url)
    if parts.hostname != DEMO_HOST:
        return None
    relative = parts.path.lstrip("/")
    if ".." in relative.split("/"):
        return None
    for candidate in (relative, relative + ".html", relative.rstrip("/") + ".html"):
        path = DEMO_ROOT / candidate
        if candidate and path.is_file():
            return path
    return None


def make_demo_fetch(*, today: date | None = None) -> Callable[..., FetchResult]:
    """A fetch function with the safe fetcher's signature that serves the demo files."""
    day = today or timezone.now().astimezone(UTC).date()

    def demo_fetch(url: str, *, etag=None, last_modified=None, **_options) -> FetchResult:
        path = demo_file(url)
        if path is None:
            raise HTTPStatusError(f"{url} is not part of the demo (404).", url=url, status=404)
        text = render_demo_text(
            path.read_text(encoding="utf-8"), today=day, site_url=settings.SITE_URL
        )
        content_type = _CONTENT_TYPES.get(path.suffix) or (
            mimetypes.guess_type(path.name)[0] or "application/octet-stream"
        )
        return FetchResult(
            url=url,
            status=200,
            content=text.encode("utf-8"),
            headers={"content-type": f"{content_type}; charset=utf-8"},
            content_type=content_type,
            encoding="utf-8",
        )

    return demo_fetch


# -------------------------------------------------------------------- building


@dataclass
class DemoSummary:
    topics: int = 0
    sources: int = 0
    new_articles: int = 0
    new_events: int = 0
    articles: int = 0
    events: int = 0
    issues_created: list[int] = field(default_factory=list)
    subscribers: int = 0
    admin_username: str = ADMIN_USERNAME
    admin_password: str = ""
    problems: list[str] = field(default_factory=list)

    def __str__(self) -> str:
        issues = (
            "issues " + ", ".join(f"#{n}" for n in self.issues_created) + " created"
            if self.issues_created
            else "issues already there"
        )
        return (
            f"Demo ready: {self.topics} topics, {self.sources} sources, "
            f"{self.articles} articles ({self.new_articles} new), "
            f"{self.events} events ({self.new_events} new), {issues}, "
            f"{self.subscribers} subscribers."
        )


Step = Callable[[str], None]


def _noop(_label: str) -> None:
    pass


STEP_COUNT = 4 + len(SOURCES) + 2
"""How many times ``build_demo_world`` reports progress (for a progress bar)."""


def ensure_topics() -> dict[str, Topic]:
    topics = {}
    for position, (name, slug, description, keywords) in enumerate(TOPICS, start=1):
        topic, _ = Topic.objects.update_or_create(
            slug=slug,
            defaults={
                "name": name,
                "description": description,
                "keywords": "\n".join(keywords),
                "position": position * 10,
            },
        )
        topics[slug] = topic
    return topics


def ensure_sources() -> list[Source]:
    sources = []
    for spec in SOURCES:
        source, created = Source.objects.get_or_create(
            url=demo_url(spec.path),
            defaults={
                "name": spec.name,
                "site_url": demo_url(spec.site_path),
                "kind": spec.kind,
                "category": spec.category,
                "strip_patterns": spec.strip_patterns,
                "poll_interval": timedelta(hours=6),
            },
        )
        sources.append(source)
    return sources


def ingest_demo_sources(
    sources: list[Source], *, fetch: Callable[..., FetchResult], step: Step = _noop
) -> tuple[int, int, list[str]]:
    """Poll each demo source through the real pipeline; then switch them off.

    Switched off, no beat or ``ingest`` run tries to reach the invented host;
    ``build_demo_world`` polls them directly. Returns new articles, new events
    and the errors of sources that failed.
    """
    from articles.ingestion.poll import PollStatus, poll_source

    new_articles = new_events = 0
    problems = []
    for source in sources:
        step(f"ingesting {source.name}")
        result = poll_source(source=source, fetch=fetch)
        if result.status == PollStatus.FAILED:
            problems.append(f"{source.name}: {result.error}")
        new_articles += result.new_articles
        new_events += result.new_events
    Source.objects.filter(pk__in=[source.pk for source in sources]).update(
        active=False, next_poll_at=None
    )
    return new_articles, new_events, problems


def _article_by_slug(slug: str) -> Article | None:
    return Article.objects.filter(canonical_url__contains=f"/{slug}").first()


def _letter_links() -> dict[str, str]:
    slugs = {
        "ai_office": "ai-office-guidance-general-purpose-models",
        "age_checks": "caldoria-passes-social-media-age-verification-law",
        "cables": "two-subsea-cables-cut-strait-of-lunaria",
        "ransomware": "ransomware-attack-disrupts-port-sable-hospitals",
    }
    links = {}
    for key, slug in slugs.items():
        article = _article_by_slug(slug)
        links[key] = article.get_absolute_url() if article else "/issues/"
    return links


def ensure_issues(*, today: date) -> list[int]:
    """Sent issue #1 (last week), draft issue #2 (this week); existing ones are kept."""
    from newsletters.compiling.drafting import auto_draft_issue, radar_stories
    from newsletters.compiling.items import ItemError, add_article_item
    from newsletters.models import Delivery, Issue, IssueItem, IssueStatusChange, Subscriber

    created = []
    if not Issue.objects.filter(number=1).exists():
        sent_at = timezone.make_aware(datetime.combine(today - timedelta(days=6), time(7, 0)), UTC)
        with transaction.atomic():
            issue = Issue.objects.create(
                number=1,
                title=ISSUE_ONE_TITLE,
                period_start=today - timedelta(days=13),
                period_end=today - timedelta(days=7),
                letter=ISSUE_ONE_LETTER.format(**_letter_links()),
                sign_off=SIGN_OFF,
            )
            auto_draft_issue(issue=issue)
            # Sent last week: its record, as the sending pipeline would have left it.
            Issue.objects.filter(pk=issue.pk).update(
                status=Issue.Status.SENT, send_started_at=sent_at, sent_at=sent_at
            )
            for old, new in (("draft", "sending"), ("sending", "sent")):
                IssueStatusChange.objects.create(
                    issue=issue, from_status=old, to_status=new, note="Demo data"
                )
            receiving = Subscriber.objects.receiving().filter(confirmed_at__lt=sent_at)
            Delivery.objects.bulk_create(
                Delivery(
                    issue=issue,
                    subscriber=subscriber,
                    status=Delivery.Status.SENT,
                    attempts=1,
                    sent_at=sent_at,
                    message_id=f"<demo-1-{subscriber.pk}@{DEMO_HOST}>",
                )
                for subscriber in receiving
            )
        created.append(1)

    if not Issue.objects.filter(number=2).exists():
        with transaction.atomic():
            issue = Issue.objects.create(
                number=2,
                title="",
                period_start=today - timedelta(days=6),
                period_end=today,
                letter=ISSUE_TWO_LETTER,
                sign_off=SIGN_OFF,
            )
            # A start for the editor: three Radar stories; auto-draft in the admin adds more.
            articles = Article.objects.in_bulk(radar_stories(issue=issue, count=3))
            for article in articles.values():
                try:
                    add_article_item(issue=issue, article=article, section=IssueItem.Section.RADAR)
                except ItemError:
                    continue
        created.append(2)
    return created


def ensure_subscribers(*, topics: dict[str, Topic], today: date) -> int:
    from newsletters.models import Subscriber

    joined = timezone.make_aware(datetime.combine(today - timedelta(days=30), time(9)), UTC)
    for email, status, topic_slugs in SUBSCRIBERS:
        subscriber, created = Subscriber.objects.get_or_create(
            email__iexact=email,
            defaults={
                "email": email,
                "status": status,
                "confirmed_at": joined if status != "pending" else None,
                "unsubscribed_at": joined + timedelta(days=10)
                if status == "unsubscribed"
                else None,
                "consent_text": "Send me Digital Policy Weekly by email.",
                "consent_at": joined,
                "consent_source": "demo",
            },
        )
        if created and topic_slugs:
            subscriber.topics.set([topics[slug] for slug in topic_slugs])
    return len(SUBSCRIBERS)


def ensure_admin(*, password: str) -> None:
    """An ``editor`` superuser with ``password`` (reset if the account exists)."""
    user_model = get_user_model()
    user, _ = user_model.objects.get_or_create(
        username=ADMIN_USERNAME,
        defaults={"email": "editor@example.org", "first_name": "Demo", "last_name": "Editor"},
    )
    user.is_staff = True
    user.is_superuser = True
    user.is_active = True
    user.set_password(password)
    user.save()


def default_password() -> str:
    """The fixed demo password in development; a random one anywhere else."""
    return DEMO_PASSWORD if settings.DEBUG else secrets.token_urlsafe(12)


def build_demo_world(
    *,
    password: str | None = None,
    today: date | None = None,
    fetch: Callable[..., FetchResult] | None = None,
    step: Step = _noop,
) -> DemoSummary:
    """Create or complete the demo world and return what it holds.

    ``step`` is called ``STEP_COUNT`` times with a label, for progress display.
    Sources that fail to ingest are reported in ``problems``, not raised.
    """
    today = today or timezone.now().astimezone(UTC).date()
    fetch = fetch or make_demo_fetch(today=today)
    summary = DemoSummary(admin_password=password or default_password())

    step("topics")
    topics = ensure_topics()
    step("sources")
    sources = ensure_sources()
    summary.new_articles, summary.new_events, summary.problems = ingest_demo_sources(
        sources, fetch=fetch, step=step
    )
    step("subscribers")
    summary.subscribers = ensure_subscribers(topics=topics, today=today)
    step("issues")
    summary.issues_created = ensure_issues(today=today)
    step("admin account")
    ensure_admin(password=summary.admin_password)

    step("counting")
    summary.topics = len(topics)
    summary.sources = len(sources)
    summary.articles = Article.objects.filter(source__in=sources).count()
    summary.events = Event.objects.filter(source__in=sources).count()
    return summary
