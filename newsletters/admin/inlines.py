"""The issue page's sections as sortable inlines: Radar, Reading corner, Upcoming events."""

from __future__ import annotations

from adminsortable2.admin import CustomInlineFormSet, SortableTabularInline
from django import forms
from django.contrib import admin
from django.db import models
from django.http import HttpRequest
from django.utils import timezone
from django.utils.html import format_html

from newsletters.compiling.items import (
    EDITABLE_STATUSES,
    event_schedule,
)
from newsletters.models import Issue, IssueItem


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
