"""The candidate pool: the stories an editor can still put into an issue.

The pool is the issue period's articles that no issue uses yet, newest first, with
near-duplicates (articles in the same ``StoryGroup``) folded under one entry that
says how many outlets carried the story.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from django.core.paginator import Page, Paginator
from django.db.models import Q

from articles.models import Article, ArticleQuerySet
from newsletters.models import Issue

# Fifty stories is a week's worth of one busy topic on a page that still loads fast.
POOL_PAGE_SIZE = 50


@dataclass
class PoolStory:
    """One entry of the pool: a story, shown by one article, with the others folded."""

    article: Article
    outlet_count: int
    other_articles: list[Article] = field(default_factory=list)


@dataclass
class PoolPage:
    stories: list[PoolStory]
    page: Page
    article_count: int


def pool_articles(*, issue: Issue) -> ArticleQuerySet:
    """The issue period's published articles that no issue uses yet."""
    return Article.objects.in_period(issue.period_start, issue.period_end).unused()


def filter_pool(
    articles: ArticleQuerySet,
    *,
    topic_id: int | None = None,
    source_id: int | None = None,
    text: str = "",
) -> ArticleQuerySet:
    """Narrow ``articles`` to a topic, a source and words in the title, body or outlet."""
    if topic_id:
        articles = articles.filter(topics__id=topic_id)
    if source_id:
        articles = articles.filter(source_id=source_id)
    text = text.strip()
    if text:
        articles = articles.filter(
            Q(title__icontains=text)
            | Q(body_text__icontains=text)
            | Q(source__name__icontains=text)
        )
    return articles


def candidate_pool(
    *,
    issue: Issue,
    topic_id: int | None = None,
    source_id: int | None = None,
    text: str = "",
    page_number: int | str = 1,
    per_page: int = POOL_PAGE_SIZE,
    with_others: bool = True,
) -> PoolPage:
    """Return one page of the issue's pool, stories newest first.

    Promises: a story appears once however many outlets carried it; it is shown by
    its newest article matching the filters, and counts the distinct outlets among
    all its unused articles of the period; a story the issue already carries (through
    any of its articles) is left out. A fixed number of queries whatever the pool's
    size (four, five with filters). ``with_others=False`` loads only the shown
    articles (``other_articles`` stays empty; ``outlet_count`` is still right).
    """
    base = pool_articles(issue=issue)
    used_groups = set(
        issue.items.filter(article__group__isnull=False).values_list(
            "article__group_id", flat=True
        )
    )
    # Ordered by the database; the dates themselves are not needed here.
    rows: list[tuple[int, int | None, int]] = list(
        base.order_by("-published_at", "-id").values_list("id", "group_id", "source_id")
    )
    filtered = bool(topic_id or source_id or text.strip())
    matching: set[int] | None = None
    if filtered:
        matching = set(
            filter_pool(base, topic_id=topic_id, source_id=source_id, text=text)
            .values_list("id", flat=True)
            .distinct()
        )

    members: dict[tuple[str, int], list[int]] = {}
    outlets: dict[tuple[str, int], set[int]] = {}
    shown: dict[tuple[str, int], int] = {}  # story key -> the article shown, in pool order
    for article_id, group_id, source_id_ in rows:
        if group_id in used_groups:
            continue
        key = ("group", group_id) if group_id else ("article", article_id)
        members.setdefault(key, []).append(article_id)
        outlets.setdefault(key, set()).add(source_id_)
        if key not in shown and (matching is None or article_id in matching):
            shown[key] = article_id

    keys = list(shown)
    paginator = Paginator(keys, per_page)
    page = paginator.get_page(page_number)
    page_keys = list(page.object_list)
    if with_others:
        wanted = [article_id for key in page_keys for article_id in members[key]]
    else:
        wanted = [shown[key] for key in page_keys]
    articles = {
        article.pk: article
        for article in Article.objects.filter(pk__in=wanted)
        .select_related("source")
        .prefetch_related("topics")
        .defer("body_html", "body_text", "summary", "minhash", "extraction_error")
    }
    stories = []
    for key in page_keys:
        shown_article = articles.get(shown[key])
        if shown_article is None:  # deleted between the two queries
            continue
        others = [
            articles[article_id]
            for article_id in members[key]
            if article_id != shown[key] and article_id in articles
        ]
        stories.append(
            PoolStory(
                article=shown_article,
                outlet_count=len(outlets[key]),
                other_articles=others,
            )
        )
    return PoolPage(stories=stories, page=page, article_count=len(rows))
