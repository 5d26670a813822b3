"""Admin pages for sources, articles, topics and events: lists, filters and the poll actions."""

from datetime import timedelta

from django.contrib import admin
from django.db import models
from django.db.models import Count, OuterRef, Q, Subquery
from django.utils import timezone
from django.utils.html import format_html
from django.utils.text import Truncator

from articles.models import (
    SOURCE_FLAG_AFTER_FAILURES,
    Article,
    ArticleTopic,
    BoilerplateSighting,
    Event,
    Source,
    StoryGroup,
    Topic,
)
from digest.core.queue import enqueue_on_commit

POLL_TASK = "articles.tasks.source_poll_task"

# Addresses typed without a scheme are taken as https (Django 6's default).
HTTPS_URL_FIELDS = {models.URLField: {"assume_scheme": "https"}}


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
    formfield_overrides = HTTPS_URL_FIELDS
    list_display = [
        "name",
        "kind",
        "category",
        "active",
        "flagged",
        "last_success_at",
        "consecutive_failures",
        "short_last_error",
        "short_last_warning",
        "skipped_entries",
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
        "last_warning",
        "skipped_entries",
        "skipped_entries_total",
        "skip_reasons",
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

    @admin.display(description="Last warning")
    def short_last_warning(self, source: Source) -> str:
        return Truncator(source.last_warning).chars(80)

    @admin.display(description="Articles, last 7 days", ordering="recent_articles")
    def articles_last_7_days(self, source: Source) -> int:
        return source.recent_articles

    @admin.action(description="Poll the selected sources now")
    def poll_now(self, request, queryset):
        source_ids = list(queryset.values_list("pk", flat=True))
        for source_id in source_ids:
            enqueue_on_commit(POLL_TASK, source_id=source_id)
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
    formfield_overrides = HTTPS_URL_FIELDS
    list_display = [
        "title",
        "source",
        "published_at",
        "date_from_fetch_time",
        "extraction_status",
        "group",
    ]
    list_filter = ["extraction_status", "date_from_fetch_time", "source", "topics", "language"]
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


@admin.register(ArticleTopic)
class ArticleTopicAdmin(admin.ModelAdmin):
    """Which topics articles are filed under, and whether an editor or the classifier did it."""

    list_display = ["article", "topic", "origin", "score"]
    list_filter = ["origin", "topic"]
    list_select_related = ["article", "topic"]
    search_fields = ["article__title", "topic__name"]
    raw_id_fields = ["article"]
    autocomplete_fields = ["topic"]

    def get_queryset(self, request):
        return (
            super()
            .get_queryset(request)
            .defer(
                "article__body_html", "article__body_text", "article__summary", "article__minhash"
            )
        )


class GroupArticleInline(admin.TabularInline):
    """A story group's articles, read-only: grouping is the deduplicator's work."""

    model = Article
    fk_name = "group"
    fields = ["title", "source", "published_at", "canonical_url"]
    readonly_fields = fields
    ordering = ["published_at", "id"]
    extra = 0
    show_change_link = True
    can_delete = False
    verbose_name_plural = "Articles in this story"

    def get_queryset(self, request):
        return (
            super()
            .get_queryset(request)
            .select_related("source")
            .only("title", "source__name", "published_at", "canonical_url", "group")
        )

    def has_add_permission(self, request, obj=None) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False


@admin.register(StoryGroup)
class StoryGroupAdmin(admin.ModelAdmin):
    """Near-duplicate stories: each row is one story, with how many outlets carried it."""

    list_display = ["id", "lead_title", "reported_by", "article_count", "created_at"]
    list_display_links = ["id", "lead_title"]
    search_fields = ["articles__title"]
    date_hierarchy = "created_at"
    inlines = [GroupArticleInline]
    readonly_fields = ["reported_by", "article_count"]

    def get_queryset(self, request):
        # The counts and the first article's title come with the list's one query.
        first_title = (
            Article.objects.filter(group=OuterRef("pk"))
            .order_by("published_at", "id")
            .values("title")[:1]
        )
        return (
            super()
            .get_queryset(request)
            .annotate(
                source_count=Count("articles__source", distinct=True),
                article_total=Count("articles", distinct=True),
                first_title=Subquery(first_title),
            )
        )

    @admin.display(description="Story")
    def lead_title(self, group: StoryGroup) -> str:
        return group.first_title or "—"

    @admin.display(description="Reported by", ordering="source_count")
    def reported_by(self, group: StoryGroup) -> str:
        count = group.source_count
        return format_html("reported by {} source{}", count, "" if count == 1 else "s")

    @admin.display(description="Articles", ordering="article_total")
    def article_count(self, group: StoryGroup) -> int:
        return group.article_total


@admin.register(BoilerplateSighting)
class BoilerplateSightingAdmin(admin.ModelAdmin):
    """What the cleaner has seen recur in sources' bodies; read-only, kept by
    ``articles/boilerplate.py``."""

    list_display = ["source", "place", "digest", "body_digest", "seen_at"]
    list_filter = ["place", "source"]
    list_select_related = ["source"]
    search_fields = ["=digest", "=body_digest", "source__name"]
    date_hierarchy = "seen_at"

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False


@admin.register(Event)
class EventAdmin(admin.ModelAdmin):
    formfield_overrides = HTTPS_URL_FIELDS
    list_display = ["title", "starts_at", "ends_at", "time_zone", "is_online", "place", "source"]
    list_filter = ["is_online", "topics", "source"]
    list_select_related = ["source"]
    search_fields = ["title", "place", "description"]
    date_hierarchy = "starts_at"
    filter_horizontal = ["topics"]
