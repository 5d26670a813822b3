"""The issue's admin page: list, form, sections and the compile context (pool, events,
workflow state). Its buttons are in ``issue_actions``; every one calls a function from
``newsletters.compiling``, ``workflow``, ``rendering`` or ``sending``.
"""

from __future__ import annotations

from datetime import datetime, time, timedelta
from urllib.parse import urlencode

from adminsortable2.admin import SortableAdminBase
from django.conf import settings
from django.contrib import admin, messages
from django.contrib.admin.options import IS_POPUP_VAR
from django.http import HttpRequest, HttpResponseRedirect
from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html

from articles.models import Source, Topic
from newsletters.admin.compile_items import CompileItemsMixin
from newsletters.admin.compile_page import CompilePageMixin
from newsletters.admin.compile_send import CompileSendMixin
from newsletters.admin.forms import IssueForm, next_issue_number
from newsletters.admin.inlines import EventsInline, RadarInline, ReadingInline
from newsletters.admin.issue_actions import POOL_PARAMS, IssueActionsMixin, int_or_none
from newsletters.admin.previews import IssuePreviewsMixin
from newsletters.admin.progress import (
    PROGRESS_REFRESH_SECONDS,
    delivery_count_annotations,
    relay_pause_line,
    send_progress,
)
from newsletters.compiling.drafting import auto_draft_issue
from newsletters.compiling.items import (
    EDITABLE_STATUSES,
    ItemError,
    event_schedule,
    events_after_period,
)
from newsletters.compiling.pool import candidate_pool
from newsletters.models import Issue
from newsletters.sending.deliveries import delivery_counts
from newsletters.workflow import (
    can_send,
    record_correction,
)

# Changing only an item's position is reordering, not editing its words.
_NOT_EDITING = {"order", "DELETE"}


@admin.register(Issue)
class IssueAdmin(
    CompileSendMixin,
    CompileItemsMixin,
    CompilePageMixin,
    IssueActionsMixin,
    IssuePreviewsMixin,
    SortableAdminBase,
    admin.ModelAdmin,
):
    """The issue list and each issue's page, where it is compiled and sent."""

    form = IssueForm
    list_display = [
        "number",
        "title",
        "period_start",
        "period_end",
        "status",
        "scheduled_at",
        "deliveries_column",
        "compile_column",
    ]
    list_display_links = ["number", "title"]
    list_filter = ["status"]
    search_fields = ["title", "=number"]
    readonly_fields = ["status", "scheduled_at", "send_started_at", "sent_at"]
    inlines = [RadarInline, ReadingInline, EventsInline]
    actions = ["auto_draft_action"]
    fieldsets = [
        (None, {"fields": ["number", "title", ("period_start", "period_end")]}),
        ("Letter", {"fields": ["letter", "sign_off"]}),
        ("Status", {"fields": [("status", "scheduled_at", "send_started_at", "sent_at")]}),
    ]

    def get_queryset(self, request: HttpRequest):
        queryset = super().get_queryset(request)
        match = request.resolver_match
        if match is not None and match.url_name == "newsletters_issue_changelist":
            # The list's delivery counts come with its one query, not one query per row.
            queryset = queryset.annotate(**delivery_count_annotations())
        return queryset

    @admin.display(description="Deliveries", ordering="deliveries_total")
    def deliveries_column(self, issue: Issue) -> str:
        total = getattr(issue, "deliveries_total", None)
        if not total:
            return "—"
        progress = send_progress(
            {
                "pending": issue.deliveries_pending,
                "sending": issue.deliveries_sending,
                "sent": issue.deliveries_sent,
                "failed": issue.deliveries_failed,
                "total": total,
            }
        )
        return format_html(
            '<span class="delivery-counts" title="{} % done">'
            "{} sent · {} failed · {} pending of {}</span>",
            progress["percent"],
            progress["sent"],
            progress["failed"],
            progress["open"],
            progress["total"],
        )

    @admin.display(description="")
    def compile_column(self, issue: Issue) -> str:
        url = reverse("admin:newsletters_issue_compile", args=[issue.pk])
        return format_html('<a class="compile-link" href="{}">Compile</a>', url)

    def view_on_site(self, obj: Issue) -> str | None:
        # Only a sent issue has a public page; a draft's is its web preview.
        return obj.get_absolute_url() if obj.status == Issue.Status.SENT else None

    # ----------------------------------------------------------- the forms
    def get_inlines(self, request: HttpRequest, obj=None):
        return self.inlines if obj is not None else []

    def get_fieldsets(self, request: HttpRequest, obj=None):
        return self.fieldsets if obj is not None else self.fieldsets[:2]

    def get_readonly_fields(self, request: HttpRequest, obj=None):
        fields = list(self.readonly_fields)
        if obj is not None and obj.status in (Issue.Status.SENDING, Issue.Status.SENT):
            # Its URL and place in the archive are public now.
            fields += ["number", "period_start", "period_end"]
        return fields

    def get_changeform_initial_data(self, request: HttpRequest) -> dict:
        today = timezone.localdate()
        return {
            "number": next_issue_number(),
            "period_start": today - timedelta(days=6),
            "period_end": today,
            "sign_off": settings.NEWSLETTER_SIGN_OFF,
            **super().get_changeform_initial_data(request),
        }

    def response_add(self, request: HttpRequest, obj: Issue, post_url_continue=None):
        # A new issue is empty: go to its compile screen, where the pool and auto-draft
        # are ("Save and add another" and pop-ups keep the admin's usual answer).
        if "_addanother" in request.POST or IS_POPUP_VAR in request.POST:
            return super().response_add(request, obj, post_url_continue)
        self.message_user(
            request,
            f"Issue #{obj.number} is created. Add stories from the pool, or auto-draft.",
            messages.SUCCESS,
        )
        return HttpResponseRedirect(reverse("admin:newsletters_issue_compile", args=[obj.pk]))

    def has_change_permission(self, request: HttpRequest, obj=None) -> bool:
        # While deliveries go out the issue is frozen, so every recipient gets the same.
        if obj is not None and obj.status == Issue.Status.SENDING:
            return False
        return super().has_change_permission(request, obj)

    def save_formset(self, request: HttpRequest, form, formset, change: bool) -> None:
        for item_form in formset.initial_forms:
            if set(item_form.changed_data) - _NOT_EDITING:
                item_form.instance.edited_by_editor = True
        super().save_formset(request, form, formset, change)

    def save_related(self, request: HttpRequest, form, formsets, change: bool) -> None:
        super().save_related(request, form, formsets, change)
        issue = form.instance
        if change and issue.status == Issue.Status.SENT:
            changed = list(form.changed_data)
            items = sum(
                1
                for formset in formsets
                for item_form in formset.forms
                if set(item_form.changed_data) - {"order"}
            )
            if items:
                changed.append(f"{items} item{'s' if items != 1 else ''}")
            if changed:
                record_correction(issue=issue, user=request.user, note=", ".join(changed))
                self.message_user(
                    request,
                    f"Issue #{issue.number} is sent: its web version now shows the correction, "
                    "which is logged in its history.",
                    messages.INFO,
                )

    @admin.action(description="Auto-draft selected issues", permissions=["change"])
    def auto_draft_action(self, request: HttpRequest, queryset) -> None:
        for issue in queryset.order_by("number"):
            try:
                result = auto_draft_issue(issue=issue)
            except ItemError as error:
                self.message_user(request, str(error), messages.ERROR)
            else:
                self.message_user(request, f"Issue #{issue.number}: {result}", messages.SUCCESS)

    # ------------------------------------------------------ the change page
    def change_view(self, request: HttpRequest, object_id: str, form_url="", extra_context=None):
        issue = self.get_object(request, object_id)
        extra_context = dict(extra_context or {})
        if issue is not None:
            extra_context.update(self._compile_context(request, issue))
        return super().change_view(request, object_id, form_url, extra_context)

    def _compile_context(self, request: HttpRequest, issue: Issue) -> dict:
        editable = issue.status in EDITABLE_STATUSES
        may_change = self.has_change_permission(request, issue)
        context = {
            "issue_status": issue.get_status_display(),
            "can_send_issues": can_send(request.user),
            "can_compile": editable and may_change,
            "status_history": list(issue.status_changes.select_related("changed_by")),
            "default_send_at": (
                datetime.combine(timezone.localdate() + timedelta(days=1), time(8, 0))
            ).strftime("%Y-%m-%dT%H:%M"),
            "time_zone_name": timezone.get_current_timezone_name(),
            "pool_query": urlencode(
                {key: request.GET[key] for key in POOL_PARAMS if request.GET.get(key)}
            ),
        }
        if issue.status in (Issue.Status.SENDING, Issue.Status.SENT):
            context["send_progress"] = send_progress(delivery_counts(issue))
            context["relay_pause"] = relay_pause_line(issue)
            if issue.status == Issue.Status.SENDING:
                context["progress_refresh_seconds"] = PROGRESS_REFRESH_SECONDS
        if editable and may_change:
            topic_id = int_or_none(request.GET.get("pool_topic"))
            source_id = int_or_none(request.GET.get("pool_source"))
            text = request.GET.get("pool_q", "")[:200]
            context.update(
                pool=candidate_pool(
                    issue=issue,
                    topic_id=topic_id,
                    source_id=source_id,
                    text=text,
                    page_number=request.GET.get("pool_page", 1),
                ),
                pool_filters={"q": text, "topic": topic_id, "source": source_id},
                pool_topics=list(Topic.objects.only("id", "name")),
                pool_sources=list(Source.objects.only("id", "name").order_by("name")),
                pool_filter_query=urlencode(
                    {
                        key: request.GET[key]
                        for key in ("pool_q", "pool_topic", "pool_source")
                        if request.GET.get(key)
                    }
                ),
                event_candidates=[
                    (event, event_schedule(event))
                    for event in events_after_period(issue=issue).exclude(
                        issue_items__issue=issue
                    )[:50]
                ],
            )
        return context

    # ---------------------------------------------------------- extra URLs
