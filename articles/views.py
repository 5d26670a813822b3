"""Reader pages for topics, articles and events."""

from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render

from articles.models import Article, Event, Topic
from newsletters.models import Issue


def home(request: HttpRequest) -> HttpResponse:
    latest_issue = Issue.objects.published().first()
    latest_articles = Article.objects.select_related("source")[:20]
    return render(
        request,
        "articles/home.html",
        {"latest_issue": latest_issue, "latest_articles": latest_articles},
    )


def topic_list(request: HttpRequest) -> HttpResponse:
    return render(request, "articles/topic_list.html", {"topics": Topic.objects.all()})


def topic_detail(request: HttpRequest, slug: str) -> HttpResponse:
    topic = get_object_or_404(Topic, slug=slug)
    articles = topic.articles.select_related("source")[:30]
    return render(request, "articles/topic_detail.html", {"topic": topic, "articles": articles})


def article_detail(request: HttpRequest, pk: int, slug: str) -> HttpResponse:
    article = get_object_or_404(Article.objects.select_related("source"), pk=pk)
    return render(request, "articles/article_detail.html", {"article": article})


def event_detail(request: HttpRequest, pk: int) -> HttpResponse:
    event = get_object_or_404(Event, pk=pk)
    return render(request, "articles/event_detail.html", {"event": event})
