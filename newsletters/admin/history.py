"""The read-only logs of every issue: status changes and corrections, and revisions."""

from __future__ import annotations

from django.contrib import admin
from django.http import HttpRequest

from newsletters.models import IssueRevision, IssueStatusChange


@admin.register(IssueStatusChange)
class IssueStatusChangeAdmin(admin.ModelAdmin):
    """The log of every issue's status changes and corrections, read-only."""

    list_display = ["issue", "from_status", "to_status", "changed_by", "changed_at", "note"]
    list_filter = ["to_status", "from_status"]
    list_select_related = ["issue", "changed_by"]
    search_fields = ["=issue__number", "issue__title", "changed_by__username", "note"]
    date_hierarchy = "changed_at"

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj=None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj=None) -> bool:
        return False


@admin.register(IssueRevision)
class IssueRevisionAdmin(admin.ModelAdmin):
    """Every save kept by the compile screen, read-only; restoring one is done on the
    issue's own revisions page, which shows what each differs from now."""

    list_display = ["issue", "saved_at", "saved_by", "summary"]
    list_filter = ["saved_by"]
    list_select_related = ["issue", "saved_by"]
    search_fields = ["=issue__number", "issue__title", "summary"]
    date_hierarchy = "saved_at"

    def get_queryset(self, request: HttpRequest):
        # The snapshot holds the whole issue: not for a list page.
        return super().get_queryset(request).defer("snapshot")

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj=None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj=None) -> bool:
        return False
