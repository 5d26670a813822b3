"""Keeping the optional search engine current: article writes queue a sync after commit.

Connected by ``digest/site/apps.py``; does nothing unless ``SEARCH_ENGINE_URL`` is set.
The task (``digest.site.tasks.search_engine_sync_task``) reads the rows when it runs, so
a burst of saves of one article sends its latest state, and a deleted one is removed.
"""

from __future__ import annotations

from django.conf import settings
from django.db.models.signals import m2m_changed, post_delete, post_save

from articles.models import Article, ArticleTopic
from digest.core.queue import enqueue_on_commit
from digest.site.search_engine import configured_engine

SYNC_TASK = "digest.site.tasks.search_engine_sync_task"
# Articles sent to the engine in one bulk request.
SYNC_BATCH = 500


def _queue(article_ids: list[int]) -> None:
    if getattr(settings, "SEARCH_ENGINE_URL", "") and article_ids:
        enqueue_on_commit(SYNC_TASK, article_ids=sorted(set(article_ids)))


def _article_changed(sender, instance: Article, **kwargs) -> None:
    _queue([instance.pk])


def _topics_changed(sender, instance, action: str, pk_set=None, **kwargs) -> None:
    if action in ("post_add", "post_remove", "post_clear") and isinstance(instance, Article):
        _queue([instance.pk])


def _topic_row_changed(sender, instance: ArticleTopic, **kwargs) -> None:
    _queue([instance.article_id])


def connect_search_engine_signals() -> None:
    post_save.connect(_article_changed, sender=Article, dispatch_uid="search-engine-save")
    post_delete.connect(_article_changed, sender=Article, dispatch_uid="search-engine-delete")
    m2m_changed.connect(
        _topics_changed, sender=Article.topics.through, dispatch_uid="search-engine-topics"
    )
    post_save.connect(_topic_row_changed, sender=ArticleTopic, dispatch_uid="search-engine-at")
    post_delete.connect(_topic_row_changed, sender=ArticleTopic, dispatch_uid="search-engine-atd")


def sync_articles(article_ids: list[int]) -> tuple[int, int]:
    """Send the current state of ``article_ids`` to the engine: (indexed, deleted)."""
    engine = configured_engine()
    if engine is None:
        return 0, 0
    articles = list(
        Article.objects.filter(pk__in=article_ids, published_at__isnull=False).prefetch_related(
            "topics"
        )
    )
    engine.index(articles)
    gone = sorted(set(article_ids) - {article.pk for article in articles})
    engine.delete(gone)
    return len(articles), len(gone)
