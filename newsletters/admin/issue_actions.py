"""The issue page's buttons: add from the pool, add an event, auto-draft, schedule,
unschedule, send and send a test, each one POST that calls one function and reports back.
"""

from __future__ import annotations

import smtplib
from datetime import datetime
from urllib.parse import urlencode

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect, QueryDict
from django.urls import path, reverse
from django.utils import timezone
from django.views.decorators.http import require_POST

from articles.models import Article, Event
from newsletters.compiling.drafting import auto_draft_issue
from newsletters.compiling.items import (
    ItemError,
    add_article_item,
    add_event_item,
)
from newsletters.models import Issue, IssueItem
from newsletters.sending.test_copy import send_test_copy
from newsletters.subscribers.services import InvalidAddress
from newsletters.workflow import (
    WorkflowError,
    retry_failed_issue_deliveries,
    schedule_issue,
    start_issue_send,
    unschedule_issue,
)

POOL_PARAMS = ("pool_q", "pool_topic", "pool_source", "pool_page")


def int_or_none(value: str | None) -> int | None:
    """``value`` as an integer, or None when it is empty or not a number."""
    try:
        return int(value) if value else None
    except ValueError:
        return None


class IssueActionsMixin:
    """The issue page's buttons as admin URLs: each turns a POST into one call of a
    compiling or workflow function and its result or refusal into a message."""

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
            view(self.retry_failed_view, "retry_failed"),
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
        if request.POST.get("return_to") == "compile":
            # The button was on the compile screen: go back there.
            compile_url = reverse("admin:newsletters_issue_compile", args=[issue.pk])
            return HttpResponseRedirect(compile_url)
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
        article = Article.objects.filter(pk=int_or_none(request.POST.get("article"))).first()
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
        event = Event.objects.filter(pk=int_or_none(request.POST.get("event"))).first()
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

    def retry_failed_view(self, request: HttpRequest, object_id: str) -> HttpResponse:
        return require_POST(self._retry_failed)(request, object_id)

    def _retry_failed(self, request: HttpRequest, object_id: str) -> HttpResponse:
        issue = self._issue_or_404(request, object_id)
        try:
            retried = retry_failed_issue_deliveries(issue=issue, user=request.user)
        except WorkflowError as error:
            return self._refuse(request, issue, str(error))
        if not retried:
            self.message_user(
                request, f"Issue #{issue.number} has no failed deliveries to retry.", messages.INFO
            )
        else:
            self.message_user(
                request,
                f"Retrying {retried} failed deliveries of issue #{issue.number}.",
                messages.SUCCESS,
            )
        return self._back(issue, request, "#delivery-progress")

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
        # The send checklist asks for a test copy of the issue as it is now.
        Issue.objects.filter(pk=issue.pk).update(test_sent_at=timezone.now())
        self.message_user(request, f"A test copy is on its way to {email}.", messages.SUCCESS)
        return self._back(issue, request)
