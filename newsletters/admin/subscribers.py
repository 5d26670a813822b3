"""Subscribers: who gets the newsletter, paused or not, with which topics."""

from __future__ import annotations

from django.contrib import admin

from newsletters.admin.subscriber_tools import SubscriberToolsMixin
from newsletters.models import Subscriber


@admin.register(Subscriber)
class SubscriberAdmin(SubscriberToolsMixin, admin.ModelAdmin):
    list_display = ["email", "status", "is_paused", "confirmed_at", "bounce_count", "created_at"]
    list_filter = ["status", "is_paused", "topics"]
    search_fields = ["email"]
    filter_horizontal = ["topics"]
