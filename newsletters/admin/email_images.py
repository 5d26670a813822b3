"""The images converted for email: read-only, deletable so a source is converted again."""

from __future__ import annotations

from django.contrib import admin
from django.http import HttpRequest

from newsletters.models import EmailImage


@admin.register(EmailImage)
class EmailImageAdmin(admin.ModelAdmin):
    """Every picture converted for email, with its source; the JPEG bytes stay unloaded."""

    list_display = ["source_url", "width", "height", "created_at"]
    search_fields = ["source_url"]
    date_hierarchy = "created_at"
    exclude = ["content"]
    readonly_fields = ["key", "source_url", "width", "height"]

    def get_queryset(self, request: HttpRequest):
        return super().get_queryset(request).defer("content")

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj=None) -> bool:
        return False
