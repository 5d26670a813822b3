"""What the reader pages show, each as one query (or a fixed few), whatever the row counts."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta

from django.db.models import (
    Case,
    Count,
    Exists,
    F,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Value,
    When,
    Window,
)
from django.db.models.functions import RowNumber
from django.utils import timezone

from articles.models import Article, ArticleTopic, Event, Topic
from newsletters.models import Issue

# Heavy text columns not needed in lists.
LIST_DEFERRED_FIELDS = ("body_html", "body_text", "extraction_error")
# What "also reported by" reads of another outlet's report.
ALSO_REPORTED_FIELDS = (
    "id", "title", "slug", "published_at", "group_id", "source_id", "source__name",
)  # fmt: skip
# How far back the home page looks for each topic's latest stories, counted from the
# newest story, so a quiet fortnight still shows something.
HOME_WINDOW = timedelta(days=21)
# Related stories come from around the article's own time, which also bounds the work.
RELATED_WINDOW = timedelta(days=120)


def article_list() -> QuerySet[Article]:
    """Published articles for a list: source joined, heavy text left behind."""
    return Article.objects.published().select_related("source").defer(*LIST_DEFERRED_FIELDS)


def articles_for_topic(topic: Topic) -> QuerySet[Article]:
    return article_list().filter(
        pk__in=ArticleTopic.objects.filter(topic=topic).values("article_id")
    )


def one_per_story(articles: QuerySet[Article]) -> QuerySet[Article]:
    """``articles`` with each story group shown once: by its first report among them.

    The lead is chosen within ``articles`` themselves, so a topic page shows the group
    by its first report filed under that topic. Ungrouped articles all stay.
    """
    lead = (
        articles.model.objects.filter(pk__in=articles.values("pk"), group_id=OuterRef("group_id"))
        .order_by("published_at", "id")
        .values("id")[:1]
    )
    return articles.annotate(group_lead_id=Subquery(lead)).filter(
        Q(group_id__isnull=True) | Q(pk=F("group_lead_id"))
    )


def newest_per_story(articles: QuerySet[Article]) -> QuerySet[Article]:
    """``articles`` with each story group once, by its newest report among them (the
    others are left out by a NOT EXISTS on a newer sibling in ``articles``); ungrouped
    articles all stay. For lists shown newest first: the story sits where its newest
    report would, counts and pages are of stories, and an index walk newest first stops
    after the page (each row's check reads its few siblings by the group index)."""
    newer = (
        articles.order_by()
        .filter(group_id=OuterRef("group_id"))
        .filter(
            Q(published_at__gt=OuterRef("published_at"))
            | Q(published_at=OuterRef("published_at"), pk__gt=OuterRef("pk"))
        )
    )
    return articles.filter(Q(group_id__isnull=True) | ~Exists(newer))


def attach_also_reported(articles: list[Article]) -> list[Article]:
    """Give each article ``also_reported``: the other outlets' reports of its story group,
    oldest first, one per source (one query, none without groups). Returns ``articles``."""
    group_ids = {article.group_id for article in articles if article.group_id}
    for article in articles:
        article.also_reported = []
    if not group_ids:
        return articles
    by_group: dict[int, list[Article]] = {}
    for article in articles:
        if article.group_id:
            by_group.setdefault(article.group_id, []).append(article)
    shown_ids = {article.pk for article in articles}
    # Only what a list shows of another outlet's report (its link and source's name).
    others = (
        Article.objects.published()
        .select_related("source")
        .only(*ALSO_REPORTED_FIELDS)
        .filter(group_id__in=group_ids)
        .exclude(pk__in=shown_ids)
        .order_by("published_at", "id")
    )
    for other in others:
        for article in by_group[other.group_id]:
            add_other_report(article, other)
    return articles


def add_other_report(article: Article, other: Article) -> None:
    """Add ``other`` (the next of its story's other reports, oldest first) to
    ``article.also_reported`` unless an outlet already there, or the article's own,
    published it: one report per outlet."""
    if other.source_id != article.source_id and all(
        shown.source_id != other.source_id for shown in article.also_reported
    ):
        article.also_reported.append(other)


def topics_with_counts() -> QuerySet[Topic]:
    """All topics, each with ``article_count`` of its published articles (one query)."""
    now = timezone.now()
    return Topic.objects.annotate(
        article_count=Count(
            "articles",
            filter=Q(articles__published_at__isnull=False, articles__published_at__lte=now),
        )
    ).order_by("position", "name")


@dataclass
class TopicStories:
    topic: Topic
    articles: list[Article] = field(default_factory=list)


def latest_stories_by_topic(*, per_topic: int = 4) -> list[TopicStories]:
    """Each topic's newest ``per_topic`` stories, topics in site order (four queries).

    Looks back ``HOME_WINDOW`` from the newest published story; topics with nothing
    in that window are left out. Each story appears once: a story group by its first
    report (the others are its ``also_reported``), an article filed under several
    topics under its first topic in site order.
    """
    newest = (
        Article.objects.published()
        .order_by("-published_at")
        .values_list("published_at", flat=True)[:1]
    )
    newest_at = next(iter(newest), None)
    if newest_at is None:
        return []
    first_topic = (
        ArticleTopic.objects.filter(article_id=OuterRef("pk"))
        .order_by("topic__position", "topic__name", "topic_id")
        .values("topic_id")[:1]
    )
    in_window = article_list().filter(published_at__gte=newest_at - HOME_WINDOW)
    articles = list(
        one_per_story(in_window)
        .annotate(first_topic_id=Subquery(first_topic))
        .filter(first_topic_id__isnull=False)
        .annotate(
            rank=Window(
                RowNumber(),
                partition_by=[F("first_topic_id")],
                order_by=[F("published_at").desc(), F("id").desc()],
            )
        )
        .filter(rank__lte=per_topic)
        .order_by("-published_at", "-id")
    )
    attach_also_reported(articles)
    topics = Topic.objects.in_bulk({article.first_topic_id for article in articles})
    groups: dict[int, TopicStories] = {}
    for topic in sorted(topics.values(), key=lambda topic: (topic.position, topic.name)):
        groups[topic.pk] = TopicStories(topic=topic)
    for article in articles:
        groups[article.first_topic_id].articles.append(article)
    return list(groups.values())


def issues_covering_topic(topic: Topic, *, limit: int = 8) -> list[Issue]:
    """Published issues with at least one item about ``topic``, newest first (one query)."""
    article_ids = ArticleTopic.objects.filter(topic=topic).values("article_id")
    return list(
        Issue.objects.published()
        .filter(items__article_id__in=article_ids)
        .distinct()
        .order_by("-number")
        .only("number", "title", "slug", "period_start", "period_end", "status")[:limit]
    )


def issues_featuring(article: Article) -> list[Issue]:
    return list(
        Issue.objects.published()
        .filter(items__article=article)
        .distinct()
        .order_by("-number")
        .only("number", "title", "slug", "period_start", "period_end", "status")
    )


def related_articles(article: Article, *, limit: int = 5) -> list[Article]:
    """Stories about the same thing: same story group first, then sharing a topic (one query).

    ``article.topics`` should be prefetched; the topic ids come from there.
    """
    topic_ids = [topic.pk for topic in article.topics.all()]
    condition = Q(pk__in=ArticleTopic.objects.filter(topic_id__in=topic_ids).values("article_id"))
    if article.group_id:
        condition |= Q(group_id=article.group_id)
    if not topic_ids and not article.group_id:
        return []
    same_group_first = (
        Case(When(group_id=article.group_id, then=Value(1)), default=Value(0))
        if article.group_id
        else Value(0)
    )
    since = (article.published_at or timezone.now()) - RELATED_WINDOW
    candidates = (
        article_list()
        .filter(condition, published_at__gte=since)
        .exclude(pk=article.pk)
        .annotate(same_group=same_group_first)
        .order_by("-same_group", "-published_at", "-id")
    )
    return list(candidates[:limit])


def upcoming_events(*, limit: int = 50) -> QuerySet[Event]:
    return Event.objects.upcoming()[:limit]


def past_events() -> QuerySet[Event]:
    return Event.objects.past()


def latest_issue_published() -> Issue | None:
    return Issue.objects.published().order_by("-number").first()


def fold_story_groups(articles: list[Article]) -> list[Article]:
    """``articles`` (in their order) with each story group kept once, at its first place;
    the group's other reports become its ``also_reported`` (for lists that are not a
    query of their own, like ranked search results). One query, none without groups."""
    seen_groups: set[int] = set()
    folded = []
    for article in articles:
        if article.group_id:
            if article.group_id in seen_groups:
                continue
            seen_groups.add(article.group_id)
        folded.append(article)
    return attach_also_reported(folded)
