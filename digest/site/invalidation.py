"""Reader pages are cached whole: any change to a row a page shows bumps the page version."""

from __future__ import annotations

from django.db import transaction
from django.db.models.signals import m2m_changed, post_delete, post_save

from articles.models import Article, ArticleTopic, Event, Source, StoryGroup, Topic
from digest.core.page_cache import invalidate_pages
from newsletters.models import Issue, IssueItem, IssueStatusChange


def connect_invalidation_signals() -> None:
    """Bump the page version whenever rows that pages show change (called from AppConfig)."""

    def _bump(**kwargs) -> None:
        # After commit: bumping earlier would let a request still seeing the old rows
        # store its page under the new version.
        transaction.on_commit(invalidate_pages)

    for model in (
        Article,
        ArticleTopic,
        Event,
        Source,
        StoryGroup,
        Topic,
        Issue,
        IssueItem,
        IssueStatusChange,
    ):
        uid = f"reader-cache-{model._meta.label_lower}"
        post_save.connect(_bump, sender=model, weak=False, dispatch_uid=uid + "-save")
        post_delete.connect(_bump, sender=model, weak=False, dispatch_uid=uid + "-delete")
    for through in (Article.topics.through, Article.tags.through, Event.topics.through):
        m2m_changed.connect(
            _bump, sender=through, weak=False, dispatch_uid=f"reader-cache-m2m-{through}"
        )
