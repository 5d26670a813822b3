"""One article's page."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.safestring import mark_safe
from django.views.decorators.http import require_safe

from articles.cleaning.sanitising import sanitize_html
from articles.models import Article
from digest.core.page_cache import cached_page
from digest.site import queries as reader_queries
from digest.site.views.common import canonical_url


@require_safe
@cached_page
def article_detail(request: HttpRequest, pk: int, slug: str) -> HttpResponse:
    article = get_object_or_404(
        Article.objects.published()
        .select_related("source", "group")
        .prefetch_related("topics", "tags"),
        pk=pk,
    )
    if slug != article.slug:
        return redirect(article, permanent=True)
    # Stored bodies were sanitised at ingest; cleaning again on display (cheap, and paid
    # once per cache fill) also covers rows written by any other path.
    body_html = mark_safe(  # noqa: S308 - the sanitiser's output is safe HTML by contract
        sanitize_html(article.body_html or article.summary, base_url=article.canonical_url)
    )
    return render(
        request,
        "site/article_detail.html",
        {
            "article": article,
            "body_html": body_html,
            "issues": reader_queries.issues_featuring(article),
            "related": reader_queries.related_articles(article),
            "canonical_url": canonical_url(request, keep_page=False),
        },
    )
