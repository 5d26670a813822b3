"""Every item of every issue in one list, to find where a story or event was used.

Edits made here go through ``compiling.items`` (``save_item_edit``, ``delete_item``),
so a sending issue stays frozen, a sent one takes only logged corrections, and no item
is added to or moved into an issue that no longer takes items.
"""

from __future__ import annotations

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.db import models
from django.http import HttpRequest

from newsletters.compiling.items import ItemError, delete_item, save_item_edit
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

    def has_delete_permission(self, request: HttpRequest, obj=None) -> bool:
        if obj is not None and obj.issue.status not in (
            Issue.Status.DRAFT,
            Issue.Status.SCHEDULED,
        ):
            return False
        return super().has_delete_permission(request, obj)

    def get_readonly_fields(self, request: HttpRequest, obj=None):
        # A sent issue's items keep their place; only their words can be corrected.
        if obj is not None and obj.issue.status == Issue.Status.SENT:
            return ["issue", "section", "order", "article", "event", "edited_by_editor"]
        return super().get_readonly_fields(request, obj)

    def save_model(self, request: HttpRequest, obj: IssueItem, form, change: bool) -> None:
        try:
            save_item_edit(item=obj, changed=list(form.changed_data), user=request.user)
        except ItemError as error:
            # Checked again at save time: the issue may have moved since the form was shown.
            raise PermissionDenied(str(error)) from None
        if change and obj.issue.status == Issue.Status.SENT:
            self.message_user(
                request, "The correction is logged in the issue's history.", messages.INFO
            )

    def delete_model(self, request: HttpRequest, obj: IssueItem) -> None:
        try:
            delete_item(item=obj)
        except ItemError as error:
            raise PermissionDenied(str(error)) from None

    def delete_queryset(self, request: HttpRequest, queryset) -> None:
        for item in queryset.select_related("issue"):
            self.delete_model(request, item)
