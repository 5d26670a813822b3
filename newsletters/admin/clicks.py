"""Click reports: per issue, deliveries, unique clickers, clicks per item and section
with bars, and a CSV; the links, clicks and opens lists behind them (read-only)."""

from __future__ import annotations

from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.db.models import Count, Q
from django.http import HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html

from newsletters.click_report import issue_click_report, report_csv_rows
from newsletters.models import Click, Issue, IssueLink, Open
from newsletters.subscribers.exporting import csv_lines


class ReadOnlyAdmin(admin.ModelAdmin):
    """Rows written by the click redirect only: nobody edits them here."""

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj=None) -> bool:
        return False


@admin.register(IssueLink)
class IssueLinkAdmin(ReadOnlyAdmin):
    list_display = ["url", "issue", "section", "item", "report"]
    list_filter = ["section"]
    list_select_related = ["issue", "item"]
    search_fields = ["url", "=issue__number"]
    change_list_template = "admin/newsletters/issuelink/change_list.html"

    @admin.display(description="click report")
    def report(self, link: IssueLink) -> str:
        url = reverse("admin:newsletters_issue_clicks", args=[link.issue_id])
        return format_html('<a href="{}">#{}</a>', url, link.issue.number)

    def get_urls(self):
        return [
            path(
                "reports/",
                self.admin_site.admin_view(self.reports_view),
                name="newsletters_click_reports",
            ),
            path(
                "reports/<int:issue_id>/",
                self.admin_site.admin_view(self.report_view),
                name="newsletters_issue_clicks",
            ),
            path(
                "reports/<int:issue_id>/csv/",
                self.admin_site.admin_view(self.report_csv_view),
                name="newsletters_issue_clicks_csv",
            ),
            *super().get_urls(),
        ]

    def _check(self, request: HttpRequest) -> None:
        if not self.has_view_permission(request):
            raise PermissionDenied

    def reports_view(self, request: HttpRequest) -> HttpResponse:
        """Every sent issue with its deliveries and unique clickers."""
        self._check(request)
        issues = (
            Issue.objects.filter(status__in=[Issue.Status.SENT, Issue.Status.SENDING])
            .annotate(
                sent=Count("deliveries", filter=Q(deliveries__status="sent"), distinct=True),
                clickers=Count(
                    "deliveries",
                    filter=Q(deliveries__clicks__is_scanner=False),
                    distinct=True,
                ),
            )
            .order_by("-number")[:100]
        )
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "title": "Click reports",
            "issues": issues,
        }
        return TemplateResponse(request, "admin/newsletters/issuelink/reports.html", context)

    def report_view(self, request: HttpRequest, issue_id: int) -> HttpResponse:
        self._check(request)
        issue = get_object_or_404(Issue, pk=issue_id)
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "title": f"Clicks: {issue}",
            "report": issue_click_report(issue=issue),
        }
        return TemplateResponse(request, "admin/newsletters/issuelink/report.html", context)

    def report_csv_view(self, request: HttpRequest, issue_id: int) -> HttpResponse:
        self._check(request)
        issue = get_object_or_404(Issue, pk=issue_id)
        rows = report_csv_rows(issue_click_report(issue=issue))
        response = StreamingHttpResponse(csv_lines(rows), content_type="text/csv; charset=utf-8")
        name = f"issue-{issue.number}-clicks.csv"
        response["Content-Disposition"] = f'attachment; filename="{name}"'
        return response


@admin.register(Click)
class ClickAdmin(ReadOnlyAdmin):
    list_display = ["link", "delivery", "is_scanner", "clicked_at"]
    list_filter = ["is_scanner"]
    list_select_related = ["link", "delivery"]
    search_fields = ["link__url"]


@admin.register(Open)
class OpenAdmin(ReadOnlyAdmin):
    list_display = ["delivery", "issue_number", "opened_at"]
    list_select_related = ["delivery__issue"]
    search_fields = ["=delivery__issue__number"]

    @admin.display(description="issue")
    def issue_number(self, opened: Open) -> int:
        return opened.delivery.issue.number
