"""The subscriber list's tools: import a CSV (with a dry run), export the filtered list
as CSV, and erase selected subscribers. Each calls the same function as the commands."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.contrib.admin.options import IncorrectLookupParameters
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect, StreamingHttpResponse
from django.template.response import TemplateResponse
from django.urls import path
from django.utils import timezone

from newsletters.subscribers.exporting import csv_lines, export_rows
from newsletters.subscribers.importing import ImportRefused, import_subscribers
from newsletters.subscribers.privacy import erase_subscriber


class ImportForm(forms.Form):
    file = forms.FileField(
        label="CSV file",
        help_text="An export of Mailchimp, Substack, Ghost, Buttondown or listmonk, or a "
        "plain email,name,topics file; UTF-8, UTF-16 or Latin-1; comma or semicolon.",
    )
    dry_run = forms.BooleanField(
        required=False, initial=True, label="Dry run: show what would happen, store nothing"
    )
    as_pending = forms.BooleanField(
        required=False,
        label="Import new addresses as pending and send each a confirmation email",
    )


class SubscriberToolsMixin:
    """Adds ``import/`` and ``export/`` pages and the erase action to the subscriber admin."""

    change_list_template = "admin/newsletters/subscriber/change_list.html"

    def get_urls(self):
        return [
            path(
                "import/",
                self.admin_site.admin_view(self.import_view),
                name="newsletters_subscriber_import",
            ),
            path(
                "export/",
                self.admin_site.admin_view(self.export_view),
                name="newsletters_subscriber_export",
            ),
            *super().get_urls(),
        ]

    def get_actions(self, request: HttpRequest):
        actions = super().get_actions(request)
        if self.has_delete_permission(request):
            actions["erase_selected"] = (
                SubscriberToolsMixin.erase_selected,
                "erase_selected",
                "Erase selected subscribers (delete; keep their deliveries anonymous)",
            )
        return actions

    def erase_selected(self, request: HttpRequest, queryset) -> None:
        erased = 0
        for subscriber in queryset:
            erase_subscriber(subscriber=subscriber)
            erased += 1
        self.message_user(request, f"Erased {erased} subscribers.", messages.SUCCESS)

    def import_view(self, request: HttpRequest) -> HttpResponse:
        if not self.has_add_permission(request):
            raise PermissionDenied
        report, refusal = None, ""
        if request.method == "POST":
            form = ImportForm(request.POST, request.FILES)
            if form.is_valid():
                upload = form.cleaned_data["file"]
                try:
                    # Django keeps an upload over 2.5 MB in a temporary file: the import
                    # streams it from there like a file on disk.
                    report = import_subscribers(
                        stream=upload.file,
                        dry_run=form.cleaned_data["dry_run"],
                        as_pending=form.cleaned_data["as_pending"],
                    )
                except ImportRefused as error:
                    refusal = f"{upload.name}: {error}"
        else:
            form = ImportForm()
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "title": "Import subscribers",
            "form": form,
            "report": report,
            "refusal": refusal,
        }
        return TemplateResponse(request, "admin/newsletters/subscriber/import.html", context)

    def export_view(self, request: HttpRequest) -> HttpResponse:
        """The change list's current filter, search and order, as a CSV download."""
        if not self.has_view_permission(request):
            raise PermissionDenied
        try:
            changelist = self.get_changelist_instance(request)
        except IncorrectLookupParameters:
            return HttpResponseRedirect("../?e=1")
        rows = export_rows(changelist.get_queryset(request))
        response = StreamingHttpResponse(csv_lines(rows), content_type="text/csv; charset=utf-8")
        stamp = timezone.now().strftime("%Y%m%d-%H%M")
        response["Content-Disposition"] = f'attachment; filename="subscribers-{stamp}.csv"'
        return response
