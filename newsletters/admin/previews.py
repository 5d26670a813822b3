"""Previews of an issue: its web page and its email (HTML or plain text) as sent."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse

from newsletters.issue_page import issue_page_context
from newsletters.rendering import personalise, render_issue_email, unsaved_recipient


class IssuePreviewsMixin:
    """The issue as readers will see it, before it is sent."""

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
