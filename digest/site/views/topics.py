"""Topic pages: the list of topics and one topic's articles, chart and feeds."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render
from django.views.decorators.http import require_safe

from articles.models import Topic
from digest.core.page_cache import cached_page
from digest.site import queries as reader_queries
from digest.site.charts import bar_chart_svg, weekly_article_counts
from digest.site.views.common import ARTICLES_PER_PAGE, canonical_url, paginate


@require_safe
@cached_page
def topic_list(request: HttpRequest) -> HttpResponse:
    return render(
        request,
        "site/topic_list.html",
        {
            "topics": list(reader_queries.topics_with_counts()),
            "canonical_url": canonical_url(request),
        },
    )


@require_safe
@cached_page
def topic_detail(request: HttpRequest, slug: str) -> HttpResponse:
    topic = get_object_or_404(Topic, slug=slug)
    stories = reader_queries.one_per_story(reader_queries.articles_for_topic(topic))
    page = paginate(request, stories, ARTICLES_PER_PAGE)
    page.object_list = reader_queries.attach_also_reported(list(page.object_list))
    weeks = weekly_article_counts(topic=topic)
    return render(
        request,
        "site/topic_detail.html",
        {
            "topic": topic,
            "page": page,
            "issues": reader_queries.issues_covering_topic(topic),
            "weeks": weeks,
            "chart": bar_chart_svg(
                counts=weeks,
                title=f"{topic.name}: articles per week, last {len(weeks)} weeks",
                chart_id="topic-chart",
            ),
            "canonical_url": canonical_url(request),
        },
    )
