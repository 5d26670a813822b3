"""The reader site's Celery tasks: keeping the optional search engine current."""

from __future__ import annotations

from celery import shared_task

from digest.site.search_engine import SearchEngineError
from digest.site.search_engine_sync import sync_articles


@shared_task(
    autoretry_for=(SearchEngineError,),
    retry_backoff=True,
    max_retries=5,
    time_limit=120,
    soft_time_limit=100,
)
def search_engine_sync_task(article_ids: list[int]) -> str:
    indexed, deleted = sync_articles(article_ids)
    return f"{indexed} indexed, {deleted} removed"
