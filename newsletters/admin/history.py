"""The read-only log of every issue's status changes and corrections."""

from __future__ import annotations

from django.contrib import admin
from django.http import HttpRequest

from newsletters.models import IssueStatusChange


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
