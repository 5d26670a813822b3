"""The issue's own form (number, title, period, letter) and the number a new issue is offered."""

from __future__ import annotations

from django import forms
from django.db.models import Max

from newsletters.models import Issue


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
