"""Every item of every issue in one list, to find where a story or event was used."""

from __future__ import annotations

from django.contrib import admin
from django.db import models
from django.http import HttpRequest

from newsletters.models import Issue, IssueItem


@admin.register(IssueItem)
class IssueItemAdmin(admin.ModelAdmin):
    """Every item of every issue, to find where a story or event was used; an issue's
    own items are edited on its page, section by section."""

    list_display = ["headline", "issue", "section", "order", "origin", "edited_by_editor"]
    list_filter = ["section", "edited_by_editor", "issue"]
    list_select_related = ["issue", "article__source", "event"]
    search_fields = ["headline", "blurb", "link_url", "=issue__number"]
    raw_id_fields = ["issue", "article", "event"]
    formfield_overrides = {models.URLField: {"assume_scheme": "https"}}

    def get_queryset(self, request: HttpRequest):
        return (
            super()
            .get_queryset(request)
            .defer(
                "article__body_html",
                "article__body_text",
                "article__summary",
                "article__minhash",
                "event__description",
            )
        )

    @admin.display(description="From")
    def origin(self, item: IssueItem) -> str:
        if item.article_id:
            return f"Article · {item.article.source.name}"
        if item.event_id:
            return "Event"
        return "Free link"

    def has_change_permission(self, request: HttpRequest, obj=None) -> bool:
        # A sending issue is frozen here as on its own page.
        if obj is not None and obj.issue.status == Issue.Status.SENDING:
            return False
        return super().has_change_permission(request, obj)
