"""The admin where editors compile an issue: sections, the candidate pool, auto-draft,
previews, a test send and the send workflow.

Every button calls a function from ``newsletters.compiling.items``, ``drafting``, ``workflow``,
``rendering`` or ``sending``; this module only turns requests into those calls and
their results or refusals into messages on the page.
"""

from __future__ import annotations

import smtplib
from datetime import datetime, time, timedelta
from urllib.parse import urlencode

from adminsortable2.admin import CustomInlineFormSet, SortableAdminBase, SortableTabularInline
from django import forms
from django.conf import settings
from django.contrib import admin, messages
from django.contrib.admin.options import IS_POPUP_VAR
from django.db import models
from django.db.models import Count, Max, Q
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect, QueryDict
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html
from django.utils.text import Truncator
from django.views.decorators.http import require_POST

from articles.models import Article, Event, Source, Topic
from newsletters.compiling.drafting import auto_draft_issue
from newsletters.compiling.items import (
    EDITABLE_STATUSES,
    ItemError,
    add_article_item,
    add_event_item,
    event_schedule,
    upcoming_events,
)
from newsletters.compiling.pool import candidate_pool
from newsletters.issue_page import issue_page_context
from newsletters.models import Delivery, Issue, IssueItem, IssueStatusChange, Subscriber
from newsletters.rendering import personalise, render_issue_email, unsaved_recipient
from newsletters.sending.batch import delivery_counts, send_test_copy
from newsletters.subscribers.services import InvalidAddress
from newsletters.workflow import (
    WorkflowError,
    can_send,
    record_correction,
    schedule_issue,
    start_issue_send,
    unschedule_issue,
)

POOL_PARAMS = ("pool_q", "pool_topic", "pool_source", "pool_page")
# While an issue is sending its page reloads itself this often (seconds), so the
# counts move without JavaScript; the page is read-only then, so nothing is lost.
PROGRESS_REFRESH_SECONDS = 5
# Changing only an item's position is reordering, not editing its words.
_NOT_EDITING = {"order", "DELETE"}


def _int_or_none(value: str | None) -> int | None:
    try:
        return int(value) if value else None
    except ValueError:
        return None


# ------------------------------------------------------------------ sections


class SectionFormSet(CustomInlineFormSet):
    """An inline formset for one section: new rows are put into that section."""

    section: str = IssueItem.Section.RADAR

    def save_new(self, form, commit=True):
        form.instance.section = self.section
        form.instance.edited_by_editor = True
        return super().save_new(form, commit=commit)


class SectionInline(SortableTabularInline):
    """One section's items, reordered by dragging a row (django-admin-sortable2)."""

    model = IssueItem
    formset = SectionFormSet
    section: str = IssueItem.Section.RADAR
    extra = 0
    ordering = ["order", "id"]
    fields = ["origin", "headline", "blurb", "image_url", "link_url"]
    readonly_fields = ["origin"]
    formfield_overrides = {
        models.TextField: {"widget": forms.Textarea(attrs={"rows": 3, "cols": 60})},
        models.URLField: {"widget": forms.URLInput(attrs={"size": 30}), "assume_scheme": "https"},
    }

    def get_queryset(self, request: HttpRequest):
        return (
            super()
            .get_queryset(request)
            .filter(section=self.section)
            .select_related("article__source", "event")
        )

    def get_formset(self, request: HttpRequest, obj=None, **kwargs):
        formset = super().get_formset(request, obj, **kwargs)
        formset.section = self.section
        return formset

    def _editable(self, obj: Issue | None) -> bool:
        return obj is None or obj.status != Issue.Status.SENDING

    def has_add_permission(self, request: HttpRequest, obj=None) -> bool:
        return (
            obj is not None
            and obj.status in EDITABLE_STATUSES
            and super().has_add_permission(request, obj)
        )

    def has_change_permission(self, request: HttpRequest, obj=None) -> bool:
        return self._editable(obj) and super().has_change_permission(request, obj)

    def has_delete_permission(self, request: HttpRequest, obj=None) -> bool:
        return (
            obj is not None
            and obj.status in EDITABLE_STATUSES
            and super().has_delete_permission(request, obj)
        )

    @admin.display(description="From")
    def origin(self, item: IssueItem) -> str:
        if item.pk is None:
            return "Free link"
        if item.article_id:
            article = item.article
            return format_html(
                '<a href="{}" target="_blank" rel="noopener">{}</a><br><small>{}</small>',
                article.get_absolute_url(),
                article.source.name,
                timezone.localtime(article.published_at).strftime("%-d %b %H:%M")
                if article.published_at
                else "",
            )
        if item.event_id:
            return format_html(
                '<span class="event-schedule">{}</span>', event_schedule(item.event)
            )
        return item.link_url or "Free link"


class RadarInline(SectionInline):
    section = IssueItem.Section.RADAR
    verbose_name = "Radar item"
    verbose_name_plural = "Radar"


class ReadingInline(SectionInline):
    section = IssueItem.Section.READING
    verbose_name = "Reading corner item"
    verbose_name_plural = "Reading corner"


class EventsInline(SectionInline):
    section = IssueItem.Section.EVENTS
    verbose_name = "Upcoming event"
    verbose_name_plural = "Upcoming events"


# --------------------------------------------------------------------- issue


class IssueForm(forms.ModelForm):
    class Meta:
        model = Issue
        fields = ["number", "title", "period_start", "period_end", "letter", "sign_off"]
        widgets = {"letter": forms.Textarea(attrs={"rows": 12, "cols": 90})}
        help_texts = {
            "letter": "Markdown. Link to a story with its path on the site, "
            "e.g. [the ruling](/articles/12-eu-fines/).",
        }

    def clean_number(self) -> int:
        number = self.cleaned_data["number"]
        taken = Issue.objects.filter(number=number).exclude(pk=self.instance.pk)
        if taken.exists():
            highest = Issue.objects.aggregate(highest=Max("number"))["highest"] or 0
            raise forms.ValidationError(
                f"Issue #{number} already exists; the next free number is {highest + 1}."
            )
        return number

    def clean(self) -> dict:
        cleaned = super().clean()
        start, end = cleaned.get("period_start"), cleaned.get("period_end")
        if start and end and end < start:
            self.add_error("period_end", "The period cannot end before it starts.")
        return cleaned


def next_issue_number() -> int:
    """The number a new issue is offered: one more than the highest so far."""
    return (Issue.objects.aggregate(highest=Max("number"))["highest"] or 0) + 1


def send_progress(counts: dict[str, int]) -> dict[str, int]:
    """``counts`` (as from ``sending.delivery_counts``) plus what the progress panel shows:
    ``open`` (pending + sending), ``done`` (sent + failed) and ``percent`` done, 0–100."""
    total = counts["total"]
    done = counts["sent"] + counts["failed"]
    return {
        **counts,
        "open": counts["pending"] + counts["sending"],
        "done": done,
        "percent": (done * 100 // total) if total else 0,
    }


def _delivery_count_annotations() -> dict[str, Count]:
    """Per-issue delivery counts by status, as aggregates for one changelist query."""
    by_status = {
        f"deliveries_{status.value}": Count(
            "deliveries", filter=Q(deliveries__status=status.value)
        )
        for status in Delivery.Status
    }
    return {**by_status, "deliveries_total": Count("deliveries")}


@admin.register(Issue)
class IssueAdmin(SortableAdminBase, admin.ModelAdmin):
    form = IssueForm
    list_display = [
        "number",
        "title",
        "period_start",
        "period_end",
        "status",
        "scheduled_at",
        "deliveries_column",
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
            queryset = queryset.annotate(**_delivery_count_annotations())
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
        # A new issue is empty: go to its page, where the pool and auto-draft are.
        if "_addanother" in request.POST or IS_POPUP_VAR in request.POST:
            return super().response_add(request, obj, post_url_continue)
        self.message_user(
            request,
            f"Issue #{obj.number} is created. Add stories from the pool below, or auto-draft.",
            messages.SUCCESS,
        )
        return HttpResponseRedirect(reverse("admin:newsletters_issue_change", args=[obj.pk]))

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
            if issue.status == Issue.Status.SENDING:
                context["progress_refresh_seconds"] = PROGRESS_REFRESH_SECONDS
        if editable and may_change:
            topic_id = _int_or_none(request.GET.get("pool_topic"))
            source_id = _int_or_none(request.GET.get("pool_source"))
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
                    for event in upcoming_events(issue=issue).exclude(issue_items__issue=issue)[
                        :50
                    ]
                ],
            )
        return context

    # ---------------------------------------------------------- extra URLs
    def get_urls(self):
        def view(func, name):
            return path(
                f"<path:object_id>/{name.replace('_', '-')}/",
                self.admin_site.admin_view(func),
                name=f"newsletters_issue_{name}",
            )

        return [
            view(self.add_article_view, "add_article"),
            view(self.add_event_view, "add_event"),
            view(self.autodraft_view, "autodraft"),
            view(self.schedule_view, "schedule"),
            view(self.unschedule_view, "unschedule"),
            view(self.send_view, "send"),
            view(self.test_send_view, "test_send"),
            view(self.preview_web_view, "preview_web"),
            view(self.preview_email_view, "preview_email"),
            *super().get_urls(),
        ]

    def _issue_or_404(self, request: HttpRequest, object_id: str) -> Issue:
        issue = self.get_object(request, object_id)
        if issue is None or not self.has_view_permission(request, issue):
            raise Http404("No such issue.")
        return issue

    def _back(self, issue: Issue, request: HttpRequest, anchor: str = "") -> HttpResponseRedirect:
        url = reverse("admin:newsletters_issue_change", args=[issue.pk])
        sent = QueryDict(request.POST.get("pool_query", ""))
        # Only the pool's own parameters go back into the URL.
        kept = {key: sent[key] for key in POOL_PARAMS if sent.get(key)}
        if kept:
            url += "?" + urlencode(kept)
        return HttpResponseRedirect(url + anchor)

    def _refuse(self, request: HttpRequest, issue: Issue, message: str) -> HttpResponseRedirect:
        self.message_user(request, message, messages.ERROR)
        return self._back(issue, request)

    def _compile_allowed(self, request: HttpRequest, issue: Issue) -> bool:
        return self.has_change_permission(request, issue)

    def add_article_view(self, request: HttpRequest, object_id: str) -> HttpResponse:
        return require_POST(self._add_article)(request, object_id)

    def _add_article(self, request: HttpRequest, object_id: str) -> HttpResponse:
        issue = self._issue_or_404(request, object_id)
        if not self._compile_allowed(request, issue):
            return self._refuse(request, issue, "You may not change this issue.")
        article = Article.objects.filter(pk=_int_or_none(request.POST.get("article"))).first()
        if article is None:
            return self._refuse(request, issue, "That article no longer exists.")
        section = request.POST.get("section", IssueItem.Section.RADAR)
        try:
            item = add_article_item(issue=issue, article=article, section=section)
        except ItemError as error:
            return self._refuse(request, issue, str(error))
        self.message_user(
            request,
            f"Added “{item.headline}” to {item.get_section_display()}; "
            "edit its headline and blurb below.",
            messages.SUCCESS,
        )
        return self._back(issue, request, "#pool")

    def add_event_view(self, request: HttpRequest, object_id: str) -> HttpResponse:
        return require_POST(self._add_event)(request, object_id)

    def _add_event(self, request: HttpRequest, object_id: str) -> HttpResponse:
        issue = self._issue_or_404(request, object_id)
        if not self._compile_allowed(request, issue):
            return self._refuse(request, issue, "You may not change this issue.")
        event = Event.objects.filter(pk=_int_or_none(request.POST.get("event"))).first()
        if event is None:
            return self._refuse(request, issue, "That event no longer exists.")
        try:
            add_event_item(issue=issue, event=event)
        except ItemError as error:
            return self._refuse(request, issue, str(error))
        self.message_user(request, f"Added “{event.title}” to Upcoming events.", messages.SUCCESS)
        return self._back(issue, request, "#upcoming-events")

    def autodraft_view(self, request: HttpRequest, object_id: str) -> HttpResponse:
        return require_POST(self._autodraft)(request, object_id)

    def _autodraft(self, request: HttpRequest, object_id: str) -> HttpResponse:
        issue = self._issue_or_404(request, object_id)
        if not self._compile_allowed(request, issue):
            return self._refuse(request, issue, "You may not change this issue.")
        try:
            result = auto_draft_issue(issue=issue)
        except ItemError as error:
            return self._refuse(request, issue, str(error))
        self.message_user(request, str(result), messages.SUCCESS)
        return self._back(issue, request)

    def schedule_view(self, request: HttpRequest, object_id: str) -> HttpResponse:
        return require_POST(self._schedule)(request, object_id)

    def _schedule(self, request: HttpRequest, object_id: str) -> HttpResponse:
        issue = self._issue_or_404(request, object_id)
        raw = request.POST.get("send_at", "").strip()
        try:
            send_at = timezone.make_aware(datetime.fromisoformat(raw))
        except ValueError:
            return self._refuse(
                request, issue, "Give the send time as a date and a time, e.g. 2025-04-28 08:00."
            )
        try:
            schedule_issue(issue=issue, send_at=send_at, user=request.user)
        except WorkflowError as error:
            return self._refuse(request, issue, str(error))
        self.message_user(
            request,
            f"Issue #{issue.number} is scheduled for "
            f"{timezone.localtime(issue.scheduled_at):%-d %B %Y, %H:%M %Z}.",
            messages.SUCCESS,
        )
        return self._back(issue, request)

    def unschedule_view(self, request: HttpRequest, object_id: str) -> HttpResponse:
        return require_POST(self._unschedule)(request, object_id)

    def _unschedule(self, request: HttpRequest, object_id: str) -> HttpResponse:
        issue = self._issue_or_404(request, object_id)
        try:
            unschedule_issue(issue=issue, user=request.user)
        except WorkflowError as error:
            return self._refuse(request, issue, str(error))
        self.message_user(request, f"Issue #{issue.number} is a draft again.", messages.SUCCESS)
        return self._back(issue, request)

    def send_view(self, request: HttpRequest, object_id: str) -> HttpResponse:
        return require_POST(self._send)(request, object_id)

    def _send(self, request: HttpRequest, object_id: str) -> HttpResponse:
        issue = self._issue_or_404(request, object_id)
        try:
            start_issue_send(issue=issue, user=request.user)
        except WorkflowError as error:
            return self._refuse(request, issue, str(error))
        self.message_user(
            request,
            f"Issue #{issue.number} is being sent ({issue.get_status_display().lower()}).",
            messages.SUCCESS,
        )
        return self._back(issue, request)

    def test_send_view(self, request: HttpRequest, object_id: str) -> HttpResponse:
        return require_POST(self._test_send)(request, object_id)

    def _test_send(self, request: HttpRequest, object_id: str) -> HttpResponse:
        issue = self._issue_or_404(request, object_id)
        email = getattr(request.user, "email", "")
        if not email:
            return self._refuse(
                request, issue, "Your account has no email address: add one to get a test."
            )
        try:
            send_test_copy(issue=issue, email=email)
        except InvalidAddress as error:
            return self._refuse(request, issue, f"Your address {email} is refused: {error}")
        except (OSError, smtplib.SMTPException) as error:
            return self._refuse(
                request, issue, f"The test copy could not be sent ({error}); try again later."
            )
        self.message_user(request, f"A test copy is on its way to {email}.", messages.SUCCESS)
        return self._back(issue, request)

    def preview_web_view(self, request: HttpRequest, object_id: str) -> HttpResponse:
        issue = self._issue_or_404(request, object_id)
        context = issue_page_context(issue)
        return TemplateResponse(request, "newsletters/issue_detail.html", context)

    def preview_email_view(self, request: HttpRequest, object_id: str) -> HttpResponse:
        """The email as a subscriber receives it: rendered, CSS inlined, links filled in
        (with links that belong to nobody, like a test copy's); ``?format=text`` gives
        the plain-text part."""
        issue = self._issue_or_404(request, object_id)
        nobody = unsaved_recipient(email=getattr(request.user, "email", "") or "preview@localhost")
        message = personalise(rendered=render_issue_email(issue=issue), subscriber=nobody)
        if request.GET.get("format") == "text":
            body = f"Subject: {message.subject}\n\n{message.text}"
            return HttpResponse(body, content_type="text/plain; charset=utf-8")
        return HttpResponse(message.html)


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


@admin.register(Subscriber)
class SubscriberAdmin(admin.ModelAdmin):
    list_display = ["email", "status", "is_paused", "confirmed_at", "bounce_count", "created_at"]
    list_filter = ["status", "is_paused", "topics"]
    search_fields = ["email"]
    filter_horizontal = ["topics"]


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
