"""What the reader pages show, each as one query (or a fixed few), whatever the row counts."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta

from django.db.models import Case, Count, F, Q, QuerySet, Value, When, Window
from django.db.models.functions import RowNumber
from django.utils import timezone

from articles.models import Article, ArticleTopic, Event, Topic
from newsletters.models import Issue

# Heavy text columns not needed in lists.
LIST_DEFERRED_FIELDS = ("body_html", "body_text", "extraction_error")
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
    """Each topic's newest ``per_topic`` stories, topics in site order (two queries).

    Looks back ``HOME_WINDOW`` from the newest published story; topics with nothing
    in that window are left out. An article filed under two topics shows under both.
    """
    newest = (
        Article.objects.published()
        .order_by("-published_at")
        .values_list("published_at", flat=True)[:1]
    )
    newest_at = next(iter(newest), None)
    if newest_at is None:
        return []
    links = (
        ArticleTopic.objects.filter(
            article__published_at__gte=newest_at - HOME_WINDOW,
            article__published_at__lte=timezone.now(),
        )
        .annotate(
            rank=Window(
                RowNumber(),
                partition_by=[F("topic_id")],
                order_by=[F("article__published_at").desc(), F("article_id").desc()],
            )
        )
        .filter(rank__lte=per_topic)
        .select_related("topic", "article", "article__source")
        .defer(*(f"article__{name}" for name in LIST_DEFERRED_FIELDS))
        .order_by("topic__position", "topic__name", "rank")
    )
    groups: dict[int, TopicStories] = {}
    for link in links:
        group = groups.setdefault(link.topic_id, TopicStories(topic=link.topic))
        group.articles.append(link.article)
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
