from django.contrib import admin

from articles.models import Article, ArticleTopic, Event, Source, StoryGroup, Topic


@admin.register(Topic)
class TopicAdmin(admin.ModelAdmin):
    list_display = ["name", "slug", "position"]
    list_editable = ["position"]
    search_fields = ["name", "keywords"]
    prepopulated_fields = {"slug": ["name"]}


@admin.register(Source)
class SourceAdmin(admin.ModelAdmin):
    list_display = [
        "name",
        "kind",
        "category",
        "active",
        "last_success_at",
        "consecutive_failures",
        "next_poll_at",
    ]
    list_filter = ["kind", "category", "active"]
    search_fields = ["name", "url", "site_url"]
    filter_horizontal = ["default_topics"]
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
