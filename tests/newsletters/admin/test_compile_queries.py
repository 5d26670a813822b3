"""The compile screen's queries, pinned: the page and each partial update make the same
number of queries however many items the issue has and however big its pool is.

bench/editorial.py times the same requests on PostgreSQL with 50 items and a pool of
1,000 articles; these counts keep a change from quietly adding a query per item or per
story. A count that has to change is changed here, on purpose, with the reason.
"""

from __future__ import annotations

import os

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from newsletters.models import Issue, IssueItem
from tests.factories import (
    ArticleFactory,
    IssueItemFactory,
    SourceFactory,
    StoryGroupFactory,
    TopicFactory,
)
from tests.newsletters.admin.pages import week_issue

pytestmark = pytest.mark.django_db
HTMX = {"HTTP_HX_REQUEST": "true"}

# Every request: the session, the user, the editor's permissions (two), the issue.
PINNED = {
    # + items, overlapping issues, pool rows (one scan, filters included), the page's
    # pool articles, their topics, the topic and source choices, upcoming events
    "page": 13,
    # + pool rows, pool articles, their topics (no filter choices: not swapped)
    "pool filter": 8,
    # + the item; savepoint, versioned UPDATE, revision snapshot, last revision,
    # revision INSERT, release
    "save a blurb": 12,
    # savepoint, versioned UPDATE, snapshot, last revision, revision INSERT, release
    "save the letter": 11,
    # savepoint, versioned order UPDATE, items, one bulk UPDATE, last revision,
    # revision INSERT (the snapshot from the items at hand), release
    "reorder": 12,
    # + the article, is it used, savepoint, next order, INSERT, release, the new card
    "add from pool": 12,
    # + the item; savepoint, its click links unset, DELETE, snapshot, last revision,
    # revision INSERT, release
    "remove": 13,
    # presence lives in the cache
    "heartbeat": 5,
    # + the linked articles' slugs
    "letter preview": 6,
}


def url(issue: Issue, name: str, *args) -> str:
    return reverse(f"admin:newsletters_issue_{name}", args=[issue.pk, *args])


def world(*, items: int, pool: int) -> Issue:
    issue = week_issue()
    topic = TopicFactory()
    group = StoryGroupFactory()
    sources = [SourceFactory() for _ in range(3)]
    for n in range(pool):
        article = ArticleFactory(
            source=sources[n % 3],
            title=f"Ministers agree on rule {n}",
            group=group if n % 4 == 0 else None,
        )
        article.topics.add(topic)
    for n in range(items):
        IssueItemFactory(
            issue=issue,
            section=IssueItem.Section.RADAR if n % 2 else IssueItem.Section.READING,
            order=n,
            article=ArticleFactory(title=f"Item story {n}"),
        )
    return issue


def counts(client, issue: Issue) -> dict[str, int]:
    def count(method: str, path: str, data=None, **headers) -> int:
        with CaptureQueriesContext(connection) as captured:
            response = getattr(client, method)(path, data or {}, **headers)
        assert response.status_code in (200, 204), (path, response.status_code)
        if os.environ.get("SHOW_QUERIES"):
            print(path, *(q["sql"][:90] for q in captured.captured_queries), sep="\n  ")
        return len(captured)

    client.get(url(issue, "compile"))  # warm: content types, templates
    radar = list(issue.items.filter(section="radar").values_list("id", flat=True))
    item = issue.items.filter(article__isnull=False).first()
    free = ArticleFactory(title="Free story")
    linked = ArticleFactory()
    result = {
        "page": count("get", url(issue, "compile")),
        "pool filter": count("get", url(issue, "compile_pool"), {"q": "ministers"}, **HTMX),
        "save a blurb": count(
            "post", url(issue, "compile_item_save", item.pk), {"version": 1, "blurb": "B"}, **HTMX
        ),
        "save the letter": count(
            "post", url(issue, "compile_save_issue"), {"version": 1, "letter": "L"}, **HTMX
        ),
        "reorder": count(
            "post",
            url(issue, "compile_reorder"),
            {"section": "radar", "items": ",".join(map(str, radar[::-1])), "order_version": 1},
            **HTMX,
        ),
        "add from pool": count(
            "post", url(issue, "compile_add"), {"article": free.pk, "section": "radar"}, **HTMX
        ),
        "remove": count("post", url(issue, "compile_remove", item.pk), **HTMX),
        "heartbeat": count("post", url(issue, "compile_presence"), **HTMX),
        "letter preview": count(
            "post",
            url(issue, "compile_letter"),
            {"letter": f"See [this](article:{linked.pk})."},
            **HTMX,
        ),
    }
    return result


@pytest.mark.parametrize(("items", "pool"), [(4, 3), (16, 30)])
def test_the_page_and_each_update_make_a_fixed_number_of_queries(editor_client, items, pool):
    assert counts(editor_client, world(items=items, pool=pool)) == PINNED
