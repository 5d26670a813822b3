"""Each issue's deliveries, one per recipient; a failed one shows the server's answer."""

from __future__ import annotations

from django.contrib import admin
from django.utils.html import format_html
from django.utils.text import Truncator

from newsletters.models import Delivery


@admin.register(Delivery)
class DeliveryAdmin(admin.ModelAdmin):
    """Each issue's deliveries; a failed one shows the server's answer."""

    list_display = [
        "issue",
        "subscriber",
        "status",
        "attempts",
        "sent_at",
        "short_error",
        "message_id",
    ]
    list_filter = ["status", "issue"]
    list_select_related = ["issue", "subscriber"]
    search_fields = ["subscriber__email", "message_id", "error"]
    raw_id_fields = ["subscriber"]
    readonly_fields = ["claimed_at", "next_attempt_at", "sent_at", "error", "message_id"]

    @admin.display(description="Error", ordering="error")
    def short_error(self, delivery: Delivery) -> str:
        if not delivery.error:
            return ""
        return format_html(
            '<span class="delivery-error" title="{}">{}</span>',
            delivery.error,
            Truncator(delivery.error).chars(100),
        )
