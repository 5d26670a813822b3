"""The welcome email's template: one row, edited here; its placeholders are checked on save."""

from __future__ import annotations

from django import forms
from django.contrib import admin

from newsletters.models import WelcomeEmail
from newsletters.welcome import PLACEHOLDERS, WelcomeTemplateError, check_template

HELP = (
    "Sent once, when a subscriber confirms. Leave the subject empty to send none. "
    "Placeholders: " + ", ".join("{{ " + name + " }}" for name in PLACEHOLDERS) + "; "
    "{% if latest_issue_url %}…{% endif %} works too."
)


class WelcomeEmailForm(forms.ModelForm):
    class Meta:
        model = WelcomeEmail
        fields = ["subject", "html", "text"]

    def clean(self):
        cleaned = super().clean()
        if self.instance.pk is None and WelcomeEmail.objects.exists():
            raise forms.ValidationError("There is a welcome email already: edit that one.")
        for name in ("subject", "html", "text"):
            try:
                check_template(cleaned.get(name) or "")
            except WelcomeTemplateError as error:
                self.add_error(name, f"This does not parse: {error}")
        return cleaned


@admin.register(WelcomeEmail)
class WelcomeEmailAdmin(admin.ModelAdmin):
    form = WelcomeEmailForm
    list_display = ["__str__", "is_on", "updated_at"]
    search_fields = ["subject"]
    fieldsets = [(None, {"fields": ["subject", "html", "text"], "description": HELP})]

    @admin.display(boolean=True, description="sent on confirmation")
    def is_on(self, welcome: WelcomeEmail) -> bool:
        return bool(welcome.subject.strip() and (welcome.html.strip() or welcome.text.strip()))
