"""Public pages of the newsletter: the issue archive and each issue's web version."""

from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render

from newsletters.models import Issue


def issue_list(request: HttpRequest) -> HttpResponse:
    return render(request, "newsletters/issue_list.html", {"issues": Issue.objects.published()})


def issue_detail(request: HttpRequest, number: int) -> HttpResponse:
    issue = get_object_or_404(Issue.objects.published(), number=number)
    items = issue.items.select_related("article", "event")
    return render(request, "newsletters/issue_detail.html", {"issue": issue, "items": items})
