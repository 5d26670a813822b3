"""The candidate pool: the stories an editor can still put into an issue.

The pool is the issue period's articles that no issue uses yet, newest first, with
near-duplicates (articles in the same ``StoryGroup``) folded under one entry that
says how many outlets carried the story.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from django.contrib.postgres.search import SearchQuery
from django.core.paginator import Page, Paginator
from django.db import connection
from django.db.models import BooleanField, Exists, ExpressionWrapper, OuterRef, Q, Value

from articles.models import (
    Article,
    ArticleQuerySet,
    ArticleSearch,
    ArticleTopic,
    Source,
    period_bounds,
)
from articles.search_index import SEARCH_CONFIG
from newsletters.models import Issue

_WORD = re.compile(r"[^\W_]+")
# Fifty stories is a week's worth of one busy topic on a page that still loads fast.
POOL_PAGE_SIZE = 50


@dataclass
class PoolStory:
    """One entry of the pool: a story, shown by one article, with the others folded.

    With used stories shown (``include_used``): ``in_this_issue`` when this issue
    carries the story, ``used_in`` the numbers of other issues that carry one of its
    articles; ``addable`` is False when the shown article cannot be added."""

    article: Article
    outlet_count: int
    other_articles: list[Article] = field(default_factory=list)
    in_this_issue: bool = False
    used_in: list[int] = field(default_factory=list)
    addable: bool = True


@dataclass
class PoolPage:
    stories: list[PoolStory]
    page: Page
    article_count: int
    used_story_count: int = 0


def pool_articles(*, issue: Issue) -> ArticleQuerySet:
    """The issue period's published articles that no issue uses yet."""
    return Article.objects.in_period(issue.period_start, issue.period_end).unused()


def _body_words(text: str, period: tuple | None) -> Q | None:
    """Words of ``text`` in an article's body. On PostgreSQL through the search index
    (``ArticleSearch``, kept by triggers): each word is a prefix, so a half-typed word
    matches, and no body is read; elsewhere a plain substring test."""
    if connection.vendor != "postgresql":
        return Q(body_text__icontains=text)
    words = _WORD.findall(text.lower())
    if not words:
        return None
    query = SearchQuery(" & ".join(f"{word}:*" for word in words), search_type="raw",
                        config=SEARCH_CONFIG)  # fmt: skip
    rows = ArticleSearch.objects.filter(vector=query)
    if period is not None:  # the index is over (published_at, vector): one scan for both
        rows = rows.filter(published_at__gte=period[0], published_at__lt=period[1])
    return Q(pk__in=rows.values("article_id"))


def pool_match(
    *,
    topic_id: int | None = None,
    source_id: int | None = None,
    text: str = "",
    period: tuple | None = None,
) -> Q | None:
    """The condition for a topic, a source and words in the title, body or outlet (None
    when nothing is asked): a topic through ``EXISTS``, so no article row is repeated.
    ``period`` (``period_bounds``) narrows the body search to the issue's dates."""
    condition = Q()
    if topic_id:
        condition &= Q(
            Exists(ArticleTopic.objects.filter(article_id=OuterRef("pk"), topic_id=topic_id))
        )
    if source_id:
        condition &= Q(source_id=source_id)
    text = text.strip()
    if text:
        # The outlet through a subquery on the few sources, not a join of every row.
        outlets = Source.objects.filter(name__icontains=text).values("id")
        words = Q(title__icontains=text) | Q(source_id__in=outlets)
        body = _body_words(text, period)
        condition &= words | body if body is not None else words
    return condition or None


def filter_pool(
    articles: ArticleQuerySet,
    *,
    topic_id: int | None = None,
    source_id: int | None = None,
    text: str = "",
) -> ArticleQuerySet:
    """Narrow ``articles`` to a topic, a source and words in the title, body or outlet."""
    condition = pool_match(topic_id=topic_id, source_id=source_id, text=text)
    return articles if condition is None else articles.filter(condition)


def candidate_pool(
    *,
    issue: Issue,
    topic_id: int | None = None,
    source_id: int | None = None,
    text: str = "",
    page_number: int | str = 1,
    per_page: int = POOL_PAGE_SIZE,
    with_others: bool = True,
    include_used: bool = False,
) -> PoolPage:
    """Return one page of the issue's pool, stories newest first.

    Promises: a story appears once however many outlets carried it; it is shown by
    its newest unused article matching the filters, and counts the distinct outlets
    among its unused articles of the period (all of them with ``include_used``); a
    story the issue already carries (through any of its articles) is left out, and so
    is an article another issue uses.
    ``include_used=True`` keeps both, marked (``in_this_issue``, ``used_in``) and not
    ``addable``, so an editor sees what is taken and where. A fixed number of
    queries whatever the pool's size (three, filtered or not). ``with_others=False``
    loads only the shown articles (``other_articles`` stays empty; ``outlet_count``
    is still right).
    """
    bounds = period_bounds(issue.period_start, issue.period_end)
    period = Article.objects.filter(published_at__gte=bounds[0], published_at__lt=bounds[1])
    condition = pool_match(topic_id=topic_id, source_id=source_id, text=text, period=bounds)
    # One row per article and issue using it (none: the article is free), with whether
    # it matches the filters: the whole period in one scan.
    period = period.annotate(
        matches=Value(True) if condition is None else ExpressionWrapper(condition, BooleanField())
    )
    rows: list[tuple[int, int | None, int, int | None, int | None, bool]] = list(
        period.order_by("-published_at", "-id").values_list(
            "id",
            "group_id",
            "source_id",
            "issue_items__issue_id",
            "issue_items__issue__number",
            "matches",
        )
    )
    matching: set[int] | None = None
    if condition is not None:
        matching = {row[0] for row in rows if row[5]}

    used_by: dict[int, set[int]] = {}  # article -> numbers of the issues using it
    here_groups: set[int] = set()
    here_articles: set[int] = set()
    for article_id, group_id, _source, issue_id, number, _match in rows:
        if issue_id is not None:
            used_by.setdefault(article_id, set()).add(number)
            if issue_id == issue.pk:
                here_articles.add(article_id)
                if group_id:
                    here_groups.add(group_id)

    members: dict[tuple[str, int], list[int]] = {}
    outlets: dict[tuple[str, int], set[int]] = {}
    shown: dict[tuple[str, int], int] = {}  # story key -> the article shown, in pool order
    fallback: dict[tuple[str, int], int] = {}  # ... when every matching one is used
    for article_id, group_id, source_id_, _issue, _number, _match in rows:
        if not include_used and (group_id in here_groups or article_id in used_by):
            continue
        key = ("group", group_id) if group_id else ("article", article_id)
        if article_id not in members.get(key, ()):
            members.setdefault(key, []).append(article_id)
        outlets.setdefault(key, set()).add(source_id_)
        if matching is not None and article_id not in matching:
            continue
        if article_id not in used_by:
            shown.setdefault(key, article_id)
        elif include_used:
            fallback.setdefault(key, article_id)
    for key, article_id in fallback.items():
        shown.setdefault(key, article_id)
    # Keep pool order: newest shown article first.
    position = {article_id: n for n, (article_id, *_rest) in enumerate(rows)}
    keys = sorted(shown, key=lambda key: position[shown[key]])

    def story_used_in(key) -> set[int]:
        return {number for a in members[key] for number in used_by.get(a, ())}

    here_key = {
        key: key[0] == "group" and key[1] in here_groups or shown[key] in here_articles
        for key in keys
    }
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
                in_this_issue=here_key[key],
                used_in=sorted(story_used_in(key) - {issue.number}),
                addable=not here_key[key] and shown[key] not in used_by,
            )
        )
    unused = {article_id for article_id, *_rest in rows if article_id not in used_by}
    used_stories = sum(1 for key in keys if here_key[key] or shown[key] in used_by)
    return PoolPage(
        stories=stories,
        page=page,
        article_count=len(unused),
        used_story_count=used_stories,
    )
