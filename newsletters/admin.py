from django.contrib import admin

from newsletters.models import Delivery, Issue, IssueItem, IssueStatusChange, Subscriber


class IssueItemInline(admin.TabularInline):
    model = IssueItem
    extra = 0
    fields = ["section", "order", "article", "event", "link_url", "headline", "blurb", "image_url"]
    raw_id_fields = ["article", "event"]


class IssueStatusChangeInline(admin.TabularInline):
    model = IssueStatusChange
    extra = 0
    can_delete = False
    readonly_fields = ["from_status", "to_status", "changed_by", "changed_at", "note"]


@admin.register(Issue)
class IssueAdmin(admin.ModelAdmin):
    list_display = ["number", "title", "period_start", "period_end", "status", "sent_at"]
    list_filter = ["status"]
    search_fields = ["title", "letter"]
    inlines = [IssueItemInline, IssueStatusChangeInline]


@admin.register(Subscriber)
class SubscriberAdmin(admin.ModelAdmin):
    list_display = ["email", "status", "is_paused", "confirmed_at", "bounce_count", "created_at"]
    list_filter = ["status", "is_paused", "topics"]
    search_fields = ["email"]
    filter_horizontal = ["topics"]


@admin.register(Delivery)
class DeliveryAdmin(admin.ModelAdmin):
    list_display = ["issue", "subscriber", "status", "attempts", "sent_at", "message_id"]
    list_filter = ["status", "issue"]
    list_select_related = ["issue", "subscriber"]
    search_fields = ["subscriber__email", "message_id"]
    raw_id_fields = ["subscriber"]
