"""Topics, sources, articles and events: what ingestion stores and readers see."""

from __future__ import annotations

from datetime import datetime, time, timedelta

from django.contrib.postgres.search import SearchVectorField
from django.db import models
from django.db.models import Q
from django.db.models.functions import Now
from django.urls import reverse
from django.utils import timezone
from django.utils.text import slugify
from taggit.managers import TaggableManager

from digest.core.models import TimestampedModel

# A source failing this many polls in a row is flagged in the admin.
SOURCE_FLAG_AFTER_FAILURES = 5


class Topic(TimestampedModel):
    name = models.CharField(max_length=100, unique=True)
    slug = models.SlugField(max_length=100, unique=True)
    description = models.TextField(blank=True)
    keywords = models.TextField(
        blank=True,
        help_text="Words or phrases that suggest this topic, one per line. Matched as "
        "whole words, case-insensitively; a match in the title counts more than in the body.",
    )
    position = models.PositiveIntegerField(default=0, help_text="Order on the site; low first.")

    class Meta:
        ordering = ["position", "name"]

    def __str__(self) -> str:
        return self.name

    def get_absolute_url(self) -> str:
        return reverse("articles:topic_detail", kwargs={"slug": self.slug})

    @property
    def keyword_list(self) -> list[str]:
        return [line.strip() for line in self.keywords.splitlines() if line.strip()]


class SourceQuerySet(models.QuerySet):
    def active(self) -> SourceQuerySet:
        return self.filter(active=True)

    def due(self, now=None) -> SourceQuerySet:
        now = now or timezone.now()
        return self.active().filter(Q(next_poll_at__isnull=True) | Q(next_poll_at__lte=now))


class Source(TimestampedModel):
    class Kind(models.TextChoices):
        FEED = "feed", "RSS/Atom feed"
        PAGE = "page", "Single article page"
        ICAL = "ical", "iCalendar (events)"

    class Category(models.TextChoices):
        NEWS = "news", "News"
        ANALYSIS = "analysis", "Analysis / blog"
        EVENTS = "events", "Events"

    name = models.CharField(max_length=200)
    url = models.URLField(max_length=2000, unique=True, help_text="The feed, page or .ics URL.")
    site_url = models.URLField(max_length=2000, blank=True)
    kind = models.CharField(max_length=10, choices=Kind.choices, default=Kind.FEED)
    category = models.CharField(
        max_length=10,
        choices=Category.choices,
        default=Category.NEWS,
        help_text="Analysis and blog sources feed the Reading corner when an issue is drafted.",
    )
    active = models.BooleanField(default=True)
    default_topics = models.ManyToManyField(Topic, blank=True, related_name="default_for_sources")
    poll_interval = models.DurationField(default=timedelta(hours=1))
    strip_patterns = models.TextField(
        blank=True,
        help_text="Extra text to remove from this source's articles, one regular expression "
        "per line (matched against each paragraph).",
    )

    # Fetch state, written only by the poller.
    etag = models.CharField(max_length=500, blank=True)
    last_modified = models.CharField(max_length=100, blank=True)
    last_polled_at = models.DateTimeField(null=True, blank=True)
    last_success_at = models.DateTimeField(null=True, blank=True)
    next_poll_at = models.DateTimeField(null=True, blank=True, db_index=True)
    poll_started_at = models.DateTimeField(
        null=True, blank=True, help_text="Set while a poll runs; guards against two at once."
    )
    consecutive_failures = models.PositiveIntegerField(default=0)
    last_error = models.TextField(blank=True)
    last_warning = models.TextField(
        blank=True,
        help_text="What was wrong with the last feed that was still read (ill-formed XML …).",
    )
    skipped_entries = models.PositiveIntegerField(
        default=0, help_text="Entries of the last poll that could not be stored."
    )
    skipped_entries_total = models.PositiveIntegerField(
        default=0, help_text="Entries skipped over all polls."
    )
    skip_reasons = models.TextField(
        blank=True, help_text="Why the last poll's entries were skipped, one reason a line."
    )

    objects = SourceQuerySet.as_manager()

    class Meta:
        ordering = ["name"]
        constraints = [
            models.CheckConstraint(
                condition=Q(poll_interval__gt=timedelta(0)), name="source_poll_interval_positive"
            ),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def is_flagged(self) -> bool:
        return self.consecutive_failures >= SOURCE_FLAG_AFTER_FAILURES


class BoilerplateSighting(models.Model):
    """One paragraph (or closing sentence) seen in one article body of an outlet.

    Written and read only by ``articles/cleaning/recurrence.py``: a text that recurs in
    the same place across several of an outlet's recent bodies is boilerplate. The
    outlet is the registrable domain of the source's site, so every feed of one outlet
    learns together. Bodies are identified by a digest of their raw HTML, so cleaning
    the same body twice counts once; only the outlet's most recent bodies are kept.
    """

    class Place(models.TextChoices):
        HEAD = "head", "Leading paragraph"
        TAIL = "tail", "Trailing paragraph"
        MIDDLE = "middle", "Paragraph in the middle"
        CLOSING = "closing", "Closing sentences of the last paragraph"

    source = models.ForeignKey(
        Source, on_delete=models.CASCADE, related_name="+", help_text="The feed that saw it."
    )
    outlet = models.CharField(
        max_length=253, default="", help_text="Registrable domain of the source's site."
    )
    body_digest = models.CharField(max_length=32)
    place = models.CharField(max_length=10, choices=Place.choices)
    digest = models.CharField(max_length=32, help_text="Digest of the normalised text.")
    seen_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["outlet", "body_digest", "place", "digest"],
                name="boilerplate_sighting_outlet_unique",
            ),
        ]
        indexes = [
            models.Index(fields=["outlet", "digest"]),
            models.Index(fields=["outlet", "-seen_at"]),
        ]

    def __str__(self) -> str:
        return f"{self.outlet} {self.place} {self.digest}"


class StoryGroup(TimestampedModel):
    """Near-duplicate articles: the same story as reported by several outlets."""

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"Story group {self.pk}"


def period_bounds(start, end) -> tuple[datetime, datetime]:
    """The moments dates ``start``..``end`` (inclusive; dates or aware datetimes) begin
    and end in the current time zone: ``since <= published_at < until``."""
    zone = timezone.get_current_timezone()
    first, last = (
        timezone.localdate(day, zone) if isinstance(day, datetime) else day for day in (start, end)
    )
    since = datetime.combine(first, time.min, tzinfo=zone)
    until = datetime.combine(last + timedelta(days=1), time.min, tzinfo=zone)
    return since, until


class ArticleQuerySet(models.QuerySet):
    def published(self) -> ArticleQuerySet:
        return self.filter(published_at__isnull=False, published_at__lte=Now())

    def in_period(self, start, end) -> ArticleQuerySet:
        """Articles published on dates start..end inclusive (dates or datetimes), in the
        current time zone. A range of ``published_at`` (not its date), so the column's
        index finds the period's rows without reading the rest of the table."""
        since, until = period_bounds(start, end)
        return self.filter(published_at__gte=since, published_at__lt=until)

    def for_topic(self, topic: Topic) -> ArticleQuerySet:
        return self.filter(topics=topic)

    def unused(self) -> ArticleQuerySet:
        return self.exclude(issue_items__isnull=False)


class Article(TimestampedModel):
    class Extraction(models.TextChoices):
        PENDING = "pending", "Pending"
        EXTRACTED = "extracted", "Extracted from page"
        FEED_ONLY = "feed_only", "Feed content kept (extraction failed)"
        FAILED = "failed", "Failed"

    source = models.ForeignKey(Source, on_delete=models.CASCADE, related_name="articles")
    canonical_url = models.URLField(max_length=2000, unique=True)
    guid = models.CharField(max_length=1000, blank=True)
    title = models.CharField(max_length=500)
    slug = models.SlugField(max_length=200, blank=True)
    summary = models.TextField(blank=True, help_text="Sanitised HTML from the feed.")
    body_html = models.TextField(blank=True, help_text="Sanitised HTML of the full text.")
    body_text = models.TextField(blank=True)
    image_url = models.URLField(max_length=2000, blank=True)
    author = models.CharField(max_length=300, blank=True)
    published_at = models.DateTimeField(null=True, blank=True, db_index=True)
    date_from_fetch_time = models.BooleanField(
        default=False,
        # Also a database default: bulk loads and raw inserts (benchmarks) may omit it.
        db_default=False,
        help_text="Neither the feed nor the page gave a readable date: published_at is the "
        "time the article was fetched.",
    )
    fetched_at = models.DateTimeField(default=timezone.now)
    language = models.CharField(max_length=20, blank=True)
    extraction_status = models.CharField(
        max_length=10, choices=Extraction.choices, default=Extraction.PENDING
    )
    extraction_error = models.TextField(blank=True)
    topics = models.ManyToManyField(
        Topic, through="ArticleTopic", blank=True, related_name="articles"
    )
    tags = TaggableManager(blank=True)
    group = models.ForeignKey(
        StoryGroup, null=True, blank=True, on_delete=models.SET_NULL, related_name="articles"
    )
    minhash = models.BinaryField(
        null=True,
        blank=True,
        editable=False,
        help_text="MinHash signature of the title and lead's words (articles/dedupe.py).",
    )

    objects = ArticleQuerySet.as_manager()

    class Meta:
        ordering = ["-published_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["source", "guid"], condition=~Q(guid=""), name="article_unique_source_guid"
            ),
        ]
        indexes = [models.Index(fields=["source", "-published_at"])]

    def __str__(self) -> str:
        return self.title

    def save(self, *args, **kwargs) -> None:
        if not self.slug:
            self.slug = slugify(self.title)[:200] or "article"
        super().save(*args, **kwargs)

    def get_absolute_url(self) -> str:
        return reverse("articles:article_detail", kwargs={"pk": self.pk, "slug": self.slug})


class ArticleSearch(models.Model):
    """An article's search row: what newest-first candidate selection reads, and nothing more.

    Filled and kept current only by PostgreSQL triggers on ``articles_article`` (migration
    ``0008``): never written by Django. The row is narrow (id, date, source, a weighted
    tsvector kept in the row), so walking matches never touches the
    article bodies. Empty on SQLite, which searches through its FTS5 table instead.
    """

    article = models.OneToOneField(
        Article,
        primary_key=True,
        on_delete=models.DO_NOTHING,  # the delete trigger removes the row in the same statement
        related_name="+",
    )
    published_at = models.DateTimeField(null=True)
    source_id = models.BigIntegerField()
    vector = SearchVectorField(null=True)

    class Meta:
        # Its one index, a GIN over (published_at, vector) with btree_gin, is created by
        # migration 0010 (PostgreSQL only): windows of dates and words in one index scan.
        pass

    def __str__(self) -> str:
        return f"search row of article {self.article_id}"


class ArticleTopic(models.Model):
    """An article's topic, and whether a person or the classifier put it there."""

    class Origin(models.TextChoices):
        SUGGESTED = "suggested", "Suggested"
        EDITOR = "editor", "Set by an editor"

    article = models.ForeignKey(Article, on_delete=models.CASCADE)
    topic = models.ForeignKey(Topic, on_delete=models.CASCADE)
    origin = models.CharField(max_length=10, choices=Origin.choices, default=Origin.EDITOR)
    score = models.FloatField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["article", "topic"], name="article_topic_unique"),
        ]
        # A topic's article ids straight from the index (search's topic filter, topic pages).
        indexes = [models.Index(fields=["topic", "article"], name="articletopic_topic_article")]

    def __str__(self) -> str:
        return f"{self.article_id} → {self.topic}"


class EventQuerySet(models.QuerySet):
    def upcoming(self, now=None) -> EventQuerySet:
        return self.filter(ends_at__gte=now or timezone.now()).order_by("starts_at")

    def past(self, now=None) -> EventQuerySet:
        return self.filter(ends_at__lt=now or timezone.now()).order_by("-starts_at")


class Event(TimestampedModel):
    title = models.CharField(max_length=300)
    url = models.URLField(max_length=2000, blank=True)
    starts_at = models.DateTimeField(db_index=True)
    ends_at = models.DateTimeField()
    time_zone = models.CharField(
        max_length=64, default="UTC", help_text="The organiser's time zone (IANA name)."
    )
    is_online = models.BooleanField(default=False)
    place = models.CharField(max_length=300, blank=True)
    description = models.TextField(blank=True, help_text="Sanitised HTML.")
    topics = models.ManyToManyField(Topic, blank=True, related_name="events")
    source = models.ForeignKey(
        Source, null=True, blank=True, on_delete=models.SET_NULL, related_name="events"
    )
    uid = models.CharField(max_length=500, blank=True, help_text="iCalendar UID, if any.")

    objects = EventQuerySet.as_manager()

    class Meta:
        ordering = ["starts_at"]
        constraints = [
            models.CheckConstraint(
                condition=Q(ends_at__gte=models.F("starts_at")), name="event_ends_after_start"
            ),
            models.UniqueConstraint(
                fields=["source", "uid"], condition=~Q(uid=""), name="event_unique_source_uid"
            ),
        ]

    def __str__(self) -> str:
        return self.title

    def get_absolute_url(self) -> str:
        return reverse("articles:event_detail", kwargs={"pk": self.pk})

    @property
    def duration(self) -> timedelta:
        return self.ends_at - self.starts_at
