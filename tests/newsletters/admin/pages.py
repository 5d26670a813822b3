"""Reading the issue admin's pages in tests: URLs, forms as posted, messages."""

from __future__ import annotations

from datetime import timedelta
from itertools import cycle

import factory
import lxml.html
from django.urls import reverse
from django.utils import timezone

from newsletters.models import Issue
from tests.factories import IssueFactory


def change_url(issue: Issue) -> str:
    return reverse("admin:newsletters_issue_change", args=[issue.pk])


def week_issue(**kwargs) -> Issue:
    today = timezone.localdate()
    kwargs.setdefault("period_start", today - timedelta(days=6))
    kwargs.setdefault("period_end", today)
    return IssueFactory(**kwargs)


def form_data(response, form_id: str = "issue_form") -> dict:
    """The fields of a rendered form, as the browser would post them unchanged."""
    root = parse(response)
    form = root.get_element_by_id(form_id)
    data: dict[str, str] = {}
    for element in form.inputs:
        name = element.name
        if not name or (element.tag == "input" and element.type in ("submit", "button")):
            continue
        if element.tag == "input" and element.type == "checkbox":
            if element.checked:
                data[name] = "on"
            continue
        value = element.value or ""
        # Browsers drop the newline that follows <textarea>; lxml keeps it.
        data[name] = value.removeprefix("\n") if element.tag == "textarea" else value
    return data


def parse(response) -> lxml.html.HtmlElement:
    return lxml.html.fromstring(response.content.decode())


def factory_cycle(values):
    return factory.Iterator(cycle(values))


def messages_of(response) -> list[str]:
    return [str(message) for message in response.context["messages"]]
