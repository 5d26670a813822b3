"""Building the demo world: topics, sources, ingested stories, issues, subscribers, an editor.

``build_demo_world`` creates the rows described in ``digest.demo.data`` and
hands the fake outlets of ``digest.demo.outlets`` to the real ingestion
pipeline, so parsing, extraction, boilerplate stripping, topic suggestion and
near-duplicate grouping all run on the demo as they would on the web.

Building is idempotent: topics and sources are matched by slug and URL,
articles by their canonical URL, issues by number, subscribers by email; an
existing issue is left as it is.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils import timezone

from articles.fetching.client import FetchResult
from articles.ingestion.poll import PollStatus, poll_source
from articles.models import Article, Event, Source, Topic
from digest.demo.data import (
    ADMIN_USERNAME,
    DEMO_PASSWORD,
    ISSUE_ONE_LETTER,
    ISSUE_ONE_TITLE,
    ISSUE_TWO_LETTER,
    LETTER_LINK_SLUGS,
    SIGN_OFF,
    SOURCES,
    SUBSCRIBERS,
    TOPICS,
)
from digest.demo.outlets import DEMO_HOST, demo_url, make_demo_fetch
from newsletters.compiling.drafting import auto_draft_issue, radar_stories
from newsletters.compiling.items import ItemError, add_article_item
from newsletters.models import Delivery, Issue, IssueItem, IssueStatusChange, Subscriber

# --------------------------------------------------------------------- serving


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
    links = {}
    for key, slug in LETTER_LINK_SLUGS.items():
        article = _article_by_slug(slug)
        links[key] = article.get_absolute_url() if article else "/issues/"
    return links


def ensure_issues(*, today: date) -> list[int]:
    """Sent issue #1 (last week), draft issue #2 (this week); existing ones are kept."""
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
