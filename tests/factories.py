"""factory_boy factories for every model, shared by all test modules.

Each factory builds a valid row with the fewest related rows it needs; pass
field values to override. Sequences keep unique fields unique within a run.

    article = ArticleFactory(source__name="Policy Wire", topics=[topic])
    issue = IssueFactory(status=Issue.Status.SENT)  # sent_at is filled in
    DeliveryFactory(issue=issue, subscriber=SubscriberFactory(active=True))
"""

from __future__ import annotations

from datetime import timedelta

import factory
from django.utils import timezone
from factory.django import DjangoModelFactory

from articles.models import Article, Event, Source, StoryGroup, Topic
from newsletters.models import Delivery, Issue, IssueItem, Subscriber


class TopicFactory(DjangoModelFactory):
    class Meta:
        model = Topic

    name = factory.Sequence(lambda n: f"Topic {n}")
    slug = factory.Sequence(lambda n: f"topic-{n}")
    description = factory.LazyAttribute(lambda o: f"News about {o.name.lower()}.")
    keywords = ""
    position = factory.Sequence(lambda n: n)


class SourceFactory(DjangoModelFactory):
    class Meta:
        model = Source
        skip_postgeneration_save = True

    name = factory.Sequence(lambda n: f"Source {n}")
    # Each factory source is its own outlet (registrable domain).
    url = factory.Sequence(lambda n: f"https://source{n}.example/feed.xml")
    site_url = factory.LazyAttribute(lambda o: o.url.rsplit("/", 1)[0] + "/")
    kind = Source.Kind.FEED
    category = Source.Category.NEWS
    active = True
    poll_interval = timedelta(hours=1)

    @factory.post_generation
    def default_topics(self, create, extracted, **kwargs):
        if create and extracted:
            self.default_topics.set(extracted)


class StoryGroupFactory(DjangoModelFactory):
    class Meta:
        model = StoryGroup


class ArticleFactory(DjangoModelFactory):
    class Meta:
        model = Article
        skip_postgeneration_save = True

    source = factory.SubFactory(SourceFactory)
    canonical_url = factory.Sequence(lambda n: f"https://news.example.org/story-{n}")
    guid = factory.LazyAttribute(lambda o: o.canonical_url)
    title = factory.Sequence(lambda n: f"Regulators publish policy paper number {n}")
    summary = "<p>A short summary of the story.</p>"
    body_html = "<p>The first paragraph of the story.</p><p>The second paragraph.</p>"
    body_text = "The first paragraph of the story.\n\nThe second paragraph."
    author = "A. Reporter"
    published_at = factory.LazyFunction(lambda: timezone.now() - timedelta(hours=2))
    language = "en"
    extraction_status = Article.Extraction.EXTRACTED

    @factory.post_generation
    def topics(self, create, extracted, **kwargs):
        if create and extracted:
            self.topics.set(extracted)


class EventFactory(DjangoModelFactory):
    class Meta:
        model = Event
        skip_postgeneration_save = True

    title = factory.Sequence(lambda n: f"Policy forum {n}")
    url = factory.Sequence(lambda n: f"https://events.example.org/forum-{n}")
    starts_at = factory.LazyFunction(
        # 10:00 UTC: a two-hour event then stays within one day in Europe/Zurich.
        lambda: (timezone.now() + timedelta(days=7)).replace(
            hour=10, minute=0, second=0, microsecond=0
        )
    )
    ends_at = factory.LazyAttribute(lambda o: o.starts_at + timedelta(hours=2))
    time_zone = "Europe/Zurich"
    is_online = True
    place = ""
    description = "<p>A discussion on digital policy.</p>"

    @factory.post_generation
    def topics(self, create, extracted, **kwargs):
        if create and extracted:
            self.topics.set(extracted)


class IssueFactory(DjangoModelFactory):
    class Meta:
        model = Issue

    number = factory.Sequence(lambda n: n + 1)
    title = factory.LazyAttribute(lambda o: f"Weekly digest number {o.number}")
    period_start = factory.LazyFunction(lambda: timezone.localdate() - timedelta(days=7))
    period_end = factory.LazyAttribute(lambda o: o.period_start + timedelta(days=7))
    letter = "Dear readers,\n\nThis week in digital policy."
    sign_off = "The Editors"
    status = Issue.Status.DRAFT
    # The database requires a time for scheduled and sent issues; fill it in for them.
    scheduled_at = factory.LazyAttribute(
        lambda o: (
            timezone.now() + timedelta(hours=1) if o.status == Issue.Status.SCHEDULED else None
        )
    )
    sent_at = factory.LazyAttribute(
        lambda o: timezone.now() if o.status == Issue.Status.SENT else None
    )


class IssueItemFactory(DjangoModelFactory):
    """A Radar item pointing at a new article; pass ``article=None, event=...`` for events."""

    class Meta:
        model = IssueItem

    issue = factory.SubFactory(IssueFactory)
    section = IssueItem.Section.RADAR
    order = factory.Sequence(lambda n: n)
    article = factory.SubFactory(ArticleFactory)
    event = None
    headline = factory.LazyAttribute(
        lambda o: o.article.title if o.article else (o.event.title if o.event else "A link")
    )
    blurb = "Why this story matters."


class SubscriberFactory(DjangoModelFactory):
    """A pending subscriber; ``SubscriberFactory(active=True)`` gives a confirmed one."""

    class Meta:
        model = Subscriber
        skip_postgeneration_save = True

    class Params:
        active = factory.Trait(
            status=Subscriber.Status.ACTIVE,
            confirmed_at=factory.LazyFunction(timezone.now),
        )

    email = factory.Sequence(lambda n: f"reader{n}@example.org")
    status = Subscriber.Status.PENDING
    consent_text = "Send me the weekly digest."
    consent_at = factory.LazyFunction(timezone.now)
    consent_source = "form"

    @factory.post_generation
    def topics(self, create, extracted, **kwargs):
        if create and extracted:
            self.topics.set(extracted)


class DeliveryFactory(DjangoModelFactory):
    class Meta:
        model = Delivery

    issue = factory.SubFactory(IssueFactory)
    subscriber = factory.SubFactory(SubscriberFactory, active=True)
    status = Delivery.Status.PENDING
