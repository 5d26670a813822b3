"""Issues and their items, subscribers, and one delivery row per issue and subscriber."""

from __future__ import annotations

import secrets

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.db.models.functions import Lower
from django.urls import reverse
from django.utils.text import slugify

from articles.models import Article, Event, Topic
from digest.core.models import TimestampedModel


class IssueQuerySet(models.QuerySet):
    def published(self) -> IssueQuerySet:
        """Sent issues, and sent issues sending again (retrying failed deliveries keeps
        ``sent_at``): a published page never disappears."""
        return self.filter(
            Q(status=Issue.Status.SENT) | Q(status=Issue.Status.SENDING, sent_at__isnull=False)
        )


class Issue(TimestampedModel):
    class Status(models.TextChoices):
        DRAFT = "draft", "Draft"
        SCHEDULED = "scheduled", "Scheduled"
        SENDING = "sending", "Sending"
        SENT = "sent", "Sent"

    number = models.PositiveIntegerField(unique=True)
    title = models.CharField(max_length=300, blank=True)
    slug = models.SlugField(max_length=200, blank=True)
    period_start = models.DateField()
    period_end = models.DateField()
    letter = models.TextField(blank=True, help_text="The editorial letter, in Markdown.")
    sign_off = models.CharField(max_length=200, blank=True)
    status = models.CharField(
        max_length=10, choices=Status.choices, default=Status.DRAFT, db_index=True
    )
    scheduled_at = models.DateTimeField(null=True, blank=True)
    send_started_at = models.DateTimeField(null=True, blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    test_sent_at = models.DateTimeField(
        null=True, blank=True, help_text="When the last test copy went out."
    )
    version = models.PositiveIntegerField(
        default=1, help_text="Raised by every save; a save based on an older one is refused."
    )
    order_version = models.PositiveIntegerField(
        default=1,
        help_text="Raised by every reorder of the items; one based on an older order is refused.",
    )
    # A relay-level failure (the mail server unreachable, refusing our sender, ...)
    # pauses the whole send; no recipient is charged an attempt for it.
    relay_paused_since = models.DateTimeField(
        null=True, blank=True, help_text="When the mail server stopped answering this send."
    )
    relay_retry_at = models.DateTimeField(
        null=True, blank=True, help_text="When the paused send tries the mail server again."
    )
    relay_failures = models.PositiveIntegerField(
        default=0, help_text="Relay failures in a row (the pause doubles with each)."
    )
    relay_error = models.CharField(max_length=500, blank=True)

    objects = IssueQuerySet.as_manager()

    class Meta:
        ordering = ["-number"]
        permissions = [("send_issue", "Can schedule and send issues")]
        constraints = [
            models.CheckConstraint(condition=Q(number__gte=1), name="issue_number_positive"),
            models.CheckConstraint(
                condition=Q(period_end__gte=models.F("period_start")),
                name="issue_period_ordered",
            ),
            models.CheckConstraint(
                condition=~Q(status="scheduled") | Q(scheduled_at__isnull=False),
                name="issue_scheduled_has_time",
            ),
            models.CheckConstraint(
                condition=~Q(status="sent") | Q(sent_at__isnull=False),
                name="issue_sent_has_time",
            ),
        ]

    def __str__(self) -> str:
        return f"#{self.number} – {self.title}" if self.title else f"#{self.number}"

    def save(self, *args, **kwargs) -> None:
        if not self.slug and self.title:
            self.slug = slugify(self.title)[:200]
        super().save(*args, **kwargs)

    def get_absolute_url(self) -> str:
        return reverse("newsletters:issue_detail", kwargs={"number": self.number})


class IssueStatusChange(models.Model):
    """Who moved an issue from one status to another, and when."""

    issue = models.ForeignKey(Issue, on_delete=models.CASCADE, related_name="status_changes")
    from_status = models.CharField(max_length=10, choices=Issue.Status.choices)
    to_status = models.CharField(max_length=10, choices=Issue.Status.choices)
    changed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL
    )
    changed_at = models.DateTimeField(auto_now_add=True)
    note = models.CharField(max_length=300, blank=True)

    class Meta:
        ordering = ["changed_at", "id"]

    def __str__(self) -> str:
        return f"#{self.issue.number}: {self.from_status} → {self.to_status}"


class IssueItem(TimestampedModel):
    class Section(models.TextChoices):
        RADAR = "radar", "Radar"
        READING = "reading", "Reading corner"
        EVENTS = "events", "Upcoming events"

    issue = models.ForeignKey(Issue, on_delete=models.CASCADE, related_name="items")
    section = models.CharField(max_length=10, choices=Section.choices, default=Section.RADAR)
    order = models.PositiveIntegerField(default=0, db_index=True)
    article = models.ForeignKey(
        Article, null=True, blank=True, on_delete=models.SET_NULL, related_name="issue_items"
    )
    event = models.ForeignKey(
        Event, null=True, blank=True, on_delete=models.SET_NULL, related_name="issue_items"
    )
    link_url = models.URLField(max_length=2000, blank=True, help_text="For a free link.")
    # As long as an article's title, so a headline copied from one is never cut.
    headline = models.CharField(max_length=500)
    blurb = models.TextField(blank=True)
    image_url = models.URLField(max_length=2000, blank=True)
    edited_by_editor = models.BooleanField(
        default=False, help_text="Set when a person edits the item; auto-draft leaves it alone."
    )
    version = models.PositiveIntegerField(
        default=1, help_text="Raised by every save; a save based on an older one is refused."
    )

    class Meta:
        ordering = ["issue", "section", "order", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["issue", "article"],
                condition=Q(article__isnull=False),
                name="issue_item_article_once",
            ),
            models.UniqueConstraint(
                fields=["issue", "event"],
                condition=Q(event__isnull=False),
                name="issue_item_event_once",
            ),
        ]

    def __str__(self) -> str:
        return self.headline

    @property
    def target_url(self) -> str:
        if self.article_id:
            return self.article.get_absolute_url()
        if self.event_id:
            return self.event.url or self.event.get_absolute_url()
        return self.link_url


class IssueRevision(models.Model):
    """The issue's words as one save left them (issue fields and every item's text)."""

    issue = models.ForeignKey(Issue, on_delete=models.CASCADE, related_name="revisions")
    saved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL
    )
    saved_at = models.DateTimeField(auto_now_add=True, db_index=True)
    summary = models.CharField(max_length=300, help_text="What this save changed.")
    snapshot = models.JSONField(help_text="The issue's fields and its items' texts.")

    class Meta:
        ordering = ["-saved_at", "-id"]

    def __str__(self) -> str:
        return f"#{self.issue.number} at {self.saved_at:%Y-%m-%d %H:%M}: {self.summary}"


def new_token_key() -> str:
    return secrets.token_urlsafe(16)


class SubscriberQuerySet(models.QuerySet):
    def receiving(self) -> SubscriberQuerySet:
        """Subscribers an issue goes to: active, confirmed, not paused."""
        return self.filter(
            status=Subscriber.Status.ACTIVE, confirmed_at__isnull=False, is_paused=False
        )


class Subscriber(TimestampedModel):
    class Status(models.TextChoices):
        PENDING = "pending", "Pending confirmation"
        ACTIVE = "active", "Active"
        UNSUBSCRIBED = "unsubscribed", "Unsubscribed"
        BOUNCED = "bounced", "Bounced"
        COMPLAINED = "complained", "Complained"

    email = models.EmailField(max_length=254)
    name = models.CharField(max_length=200, blank=True, help_text="As given, e.g. by an import.")
    status = models.CharField(
        max_length=12, choices=Status.choices, default=Status.PENDING, db_index=True
    )
    confirmed_at = models.DateTimeField(null=True, blank=True)
    unsubscribed_at = models.DateTimeField(null=True, blank=True)
    is_paused = models.BooleanField(default=False)
    topics = models.ManyToManyField(
        Topic,
        blank=True,
        related_name="subscribers",
        help_text="Topics this subscriber chose; none means the whole issue.",
    )
    token_key = models.CharField(
        max_length=64,
        default=new_token_key,
        help_text="Mixed into this subscriber's signed links; changing it revokes them.",
    )
    bounce_count = models.PositiveIntegerField(default=0)
    # Consent record: what was agreed to, when, and from where.
    consent_text = models.TextField(blank=True)
    consent_at = models.DateTimeField(null=True, blank=True)
    consent_ip = models.GenericIPAddressField(null=True, blank=True)
    consent_source = models.CharField(max_length=50, blank=True, help_text="form, admin, import…")

    objects = SubscriberQuerySet.as_manager()

    class Meta:
        ordering = ["email"]
        constraints = [
            models.UniqueConstraint(Lower("email"), name="subscriber_email_ci_unique"),
        ]

    def __str__(self) -> str:
        return self.email


class Delivery(TimestampedModel):
    class Status(models.TextChoices):
        PENDING = "pending", "Pending"
        SENDING = "sending", "Sending"
        SENT = "sent", "Sent"
        FAILED = "failed", "Failed"

    issue = models.ForeignKey(Issue, on_delete=models.CASCADE, related_name="deliveries")
    # Null once the subscriber was erased: the row stays, anonymous, for the issue's counts.
    subscriber = models.ForeignKey(
        Subscriber, null=True, on_delete=models.SET_NULL, related_name="deliveries"
    )
    status = models.CharField(
        max_length=10, choices=Status.choices, default=Status.PENDING, db_index=True
    )
    attempts = models.PositiveIntegerField(default=0)
    claimed_at = models.DateTimeField(
        null=True, blank=True, help_text="When a worker moved it to sending."
    )
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    error = models.TextField(blank=True)
    message_id = models.CharField(max_length=300, blank=True)
    # The batch lease: a queued or running batch task owns its open deliveries until
    # lease_until (renewed while it sends); past it the sweeper takes them over.
    claimed_by = models.CharField(
        max_length=200, blank=True, help_text="The worker process whose batch holds it."
    )
    lease_until = models.DateTimeField(
        null=True, blank=True, help_text="Until when its batch task owns it."
    )

    class Meta:
        ordering = ["issue", "id"]
        verbose_name_plural = "deliveries"
        constraints = [
            models.UniqueConstraint(
                fields=["issue", "subscriber"], name="delivery_one_per_issue_subscriber"
            ),
        ]
        indexes = [models.Index(fields=["issue", "status"])]

    def __str__(self) -> str:
        return f"#{self.issue_id} → {self.subscriber_id} ({self.status})"


class WelcomeEmail(TimestampedModel):
    """The email a subscriber gets once they confirm; none is sent while it is empty.

    One row (the admin allows no second). Subject and bodies may use {{ name }},
    {{ email }}, {{ latest_issue_title }}, {{ latest_issue_url }}, {{ preferences_url }}
    and {{ unsubscribe_url }}, and {% if %}.
    """

    subject = models.CharField(max_length=200, blank=True, help_text="Empty: no welcome email.")
    html = models.TextField(blank=True, help_text="The HTML body.")
    text = models.TextField(
        blank=True, help_text="The plain-text body (made from the HTML if empty)."
    )

    class Meta:
        verbose_name = "welcome email"

    def __str__(self) -> str:
        return self.subject or "Welcome email (off)"


class IssueLink(models.Model):
    """A link an issue's email carries (a story, the letter's links, the web copy); the
    click redirect sends readers only to these."""

    issue = models.ForeignKey(Issue, on_delete=models.CASCADE, related_name="links")
    url = models.URLField(max_length=2000)
    item = models.ForeignKey(
        IssueItem, null=True, blank=True, on_delete=models.SET_NULL, related_name="links"
    )
    section = models.CharField(
        max_length=10, blank=True, help_text="radar, reading, events, letter or other."
    )
    position = models.PositiveIntegerField(default=0, help_text="Order of first appearance.")

    class Meta:
        ordering = ["issue", "position", "id"]
        constraints = [
            models.UniqueConstraint(fields=["issue", "url"], name="issue_link_once"),
        ]

    def __str__(self) -> str:
        return self.url


class Click(models.Model):
    """The first time one delivery's reader (or a link scanner) followed one link. No IP
    address and no user agent is kept."""

    delivery = models.ForeignKey(Delivery, on_delete=models.CASCADE, related_name="clicks")
    link = models.ForeignKey(IssueLink, on_delete=models.CASCADE, related_name="clicks")
    is_scanner = models.BooleanField(
        default=False, help_text="A link scanner or preview bot, counted apart from readers."
    )
    clicked_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-clicked_at", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["delivery", "link", "is_scanner"], name="click_once_per_delivery_link"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.delivery_id} → {self.link_id}"


class Open(models.Model):
    """The first time a delivery's tracking pixel was loaded (only with open tracking on)."""

    delivery = models.OneToOneField(Delivery, on_delete=models.CASCADE, related_name="open")
    opened_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-opened_at"]

    def __str__(self) -> str:
        return f"{self.delivery_id} opened"


class EmailImage(TimestampedModel):
    """An image an issue shows, converted to a small JPEG for email clients.

    Stored in the database so any web host can serve what any worker converted.
    """

    key = models.CharField(max_length=64, unique=True, help_text="Hash of source and size.")
    source_url = models.URLField(max_length=2000)
    content = models.BinaryField()
    width = models.PositiveSmallIntegerField()
    height = models.PositiveSmallIntegerField()

    def __str__(self) -> str:
        return self.source_url
