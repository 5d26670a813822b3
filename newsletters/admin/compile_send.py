"""The compile screen's last steps: the send confirmation and the issue's revisions.

The confirmation names the audience with counts, shows the checklist and links the
three previews; its button posts to the same send view as the issue page. Revisions
list every save (who, when, what changed) and restore an earlier one.
"""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.utils import timezone
from django.views.decorators.http import require_POST

from newsletters.admin.compile_page import CompileBaseMixin
from newsletters.compiling.checks import audience, send_checklist
from newsletters.compiling.revisions import issue_snapshot, restore_revision, revision_changes
from newsletters.models import IssueRevision
from newsletters.workflow import can_send

# The history page shows the latest saves; older ones are in the admin's revision data.
REVISIONS_SHOWN = 50


class CompileSendMixin(CompileBaseMixin):
    """The confirmation before sending and the revisions page, with restore."""

    def get_urls(self):
        view = self._compile_route
        return [
            view(self.compile_confirm_view, "confirm-send/", "compile_confirm"),
            view(self.compile_revisions_view, "revisions/", "compile_revisions"),
            view(
                require_POST(self.compile_restore_view),
                "revisions/<int:revision_id>/restore/",
                "compile_restore",
            ),
            *super().get_urls(),
        ]

    def compile_confirm_view(self, request: HttpRequest, object_id: str) -> HttpResponse:
        issue = self._compile_issue(request, object_id, change=False)
        items = list(issue.items.select_related("article", "event"))
        checks = send_checklist(issue=issue, items=items)
        reach = audience(issue=issue)
        context = {
            **self.admin_site.each_context(request),
            "title": f"Send issue #{issue.number}?",
            "issue": issue,
            "opts": self.model._meta,
            "audience": reach,
            "audience_sentence": reach.sentence(issue),
            "checks": checks,
            "all_ok": all(check.ok for check in checks),
            "can_send_issues": can_send(request.user),
        }
        return TemplateResponse(request, "admin/newsletters/issue/compile/confirm.html", context)

    def compile_revisions_view(self, request: HttpRequest, object_id: str) -> HttpResponse:
        issue = self._compile_issue(request, object_id, change=False)
        current = issue_snapshot(issue)
        revisions = list(issue.revisions.select_related("saved_by")[:REVISIONS_SHOWN])
        for revision in revisions:
            revision.changes = revision_changes(revision, current)
        context = {
            **self.admin_site.each_context(request),
            "title": f"Revisions of issue #{issue.number}",
            "issue": issue,
            "opts": self.model._meta,
            "revisions": revisions,
            "may_restore": self.has_change_permission(request, issue),
        }
        return TemplateResponse(request, "admin/newsletters/issue/compile/revisions.html", context)

    def compile_restore_view(
        self, request: HttpRequest, object_id: str, revision_id: int
    ) -> HttpResponse:
        issue = self._compile_issue(request, object_id, change=True)
        revision = get_object_or_404(IssueRevision, pk=revision_id, issue=issue)
        try:
            restored = restore_revision(revision=revision, user=request.user)
        except ValueError as error:
            return self._done(request, issue, str(error), messages.ERROR)
        when = timezone.localtime(revision.saved_at)
        message = f"Restored the revision of {when:%-d %b %H:%M}."
        if restored.brought_back:
            message += f" Brought back: {', '.join(restored.brought_back)}."
        if restored.left_out:
            self.message_user(
                request, f"Not brought back: {'; '.join(restored.left_out)}.", messages.WARNING
            )
        return self._done(request, issue, message)
