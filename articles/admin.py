from datetime import timedelta
from functools import partial

from django.contrib import admin
from django.db import transaction
from django.db.models import Count, Q
from django.utils import timezone
from django.utils.text import Truncator

from articles.models import (
    SOURCE_FLAG_AFTER_FAILURES,
    Article,
    ArticleTopic,
    Event,
    Source,
    StoryGroup,
    Topic,
)


@admin.register(Topic)
class TopicAdmin(admin.ModelAdmin):
    list_display = ["name", "slug", "position"]
    list_editable = ["position"]
    search_fields = ["name", "keywords"]
    prepopulated_fields = {"slug": ["name"]}


class FlaggedFilter(admin.SimpleListFilter):
    title = "health"
    parameter_name = "health"

    def lookups(self, request, model_admin):
        return [
            ("flagged", f"Flagged ({SOURCE_FLAG_AFTER_FAILURES}+ failures in a row)"),
            ("failing", "Last poll failed"),
            ("healthy", "Last poll succeeded"),
        ]

    def queryset(self, request, queryset):
        if self.value() == "flagged":
            return queryset.filter(consecutive_failures__gte=SOURCE_FLAG_AFTER_FAILURES)
        if self.value() == "failing":
            return queryset.filter(consecutive_failures__gt=0)
        if self.value() == "healthy":
            return queryset.filter(consecutive_failures=0)
        return queryset


@admin.register(Source)
class SourceAdmin(admin.ModelAdmin):
    list_display = [
        "name",
        "kind",
        "category",
        "active",
        "flagged",
        "last_success_at",
        "consecutive_failures",
        "short_last_error",
        "articles_last_7_days",
        "next_poll_at",
    ]
    list_filter = [FlaggedFilter, "kind", "category", "active"]
    search_fields = ["name", "url", "site_url"]
    filter_horizontal = ["default_topics"]
    actions = ["poll_now", "reset_backoff"]
    readonly_fields = [
        "etag",
        "last_modified",
        "last_polled_at",
        "last_success_at",
        "next_poll_at",
        "poll_started_at",
        "consecutive_failures",
        "last_error",
    ]

    def get_queryset(self, request):
        # One query for the whole list: the 7-day count is an annotation, not a per-row query.
        since = timezone.now() - timedelta(days=7)
        return (
            super()
            .get_queryset(request)
            .annotate(recent_articles=Count("articles", filter=Q(articles__created_at__gte=since)))
        )

    @admin.display(boolean=True, description="Flagged", ordering="consecutive_failures")
    def flagged(self, source: Source) -> bool:
        return source.is_flagged

    @admin.display(description="Last error")
    def short_last_error(self, source: Source) -> str:
        return Truncator(source.last_error).chars(80)

    @admin.display(description="Articles, last 7 days", ordering="recent_articles")
    def articles_last_7_days(self, source: Source) -> int:
        return source.recent_articles

    @admin.action(description="Poll the selected sources now")
    def poll_now(self, request, queryset):
        from articles.tasks import source_poll_task

        source_ids = list(queryset.values_list("pk", flat=True))
        for source_id in source_ids:
            transaction.on_commit(partial(source_poll_task.delay, source_id))
        self.message_user(request, f"{len(source_ids)} source(s) queued for polling.")

    @admin.action(description="Clear failures and poll at the next opportunity")
    def reset_backoff(self, request, queryset):
        updated = queryset.update(consecutive_failures=0, next_poll_at=None)
        self.message_user(request, f"{updated} source(s) reset; they are due now.")


class ArticleTopicInline(admin.TabularInline):
    model = ArticleTopic
    extra = 0
    autocomplete_fields = ["topic"]


@admin.register(Article)
class ArticleAdmin(admin.ModelAdmin):
    list_display = ["title", "source", "published_at", "extraction_status", "group"]
    list_filter = ["extraction_status", "source", "topics", "language"]
    list_select_related = ["source", "group"]
    search_fields = ["title", "canonical_url", "author"]
    date_hierarchy = "published_at"
    inlines = [ArticleTopicInline]
    raw_id_fields = ["group"]

    def get_queryset(self, request):
        queryset = super().get_queryset(request)
        if request.resolver_match and request.resolver_match.url_name.endswith("changelist"):
            queryset = queryset.defer("body_html", "body_text", "summary")
        return queryset


@admin.register(StoryGroup)
class StoryGroupAdmin(admin.ModelAdmin):
    list_display = ["id", "created_at"]


@admin.register(Event)
class EventAdmin(admin.ModelAdmin):
    list_display = ["title", "starts_at", "ends_at", "time_zone", "is_online", "place"]
    list_filter = ["is_online", "topics", "source"]
    search_fields = ["title", "place", "description"]
    date_hierarchy = "starts_at"
    filter_horizontal = ["topics"]
