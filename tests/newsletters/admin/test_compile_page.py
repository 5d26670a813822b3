"""The compile screen: two panes, the issue's fields saved as typed, presence, preview."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from django.urls import reverse

from newsletters.models import Issue
from tests.factories import (
    ArticleFactory,
    IssueFactory,
    IssueItemFactory,
    SourceFactory,
    StoryGroupFactory,
    TopicFactory,
)
from tests.newsletters.admin.pages import parse, week_issue

pytestmark = pytest.mark.django_db
HTMX = {"HTTP_HX_REQUEST": "true"}


def compile_url(issue: Issue, name: str = "compile") -> str:
    return reverse(f"admin:newsletters_issue_{name}", args=[issue.pk])


def test_page_shows_pool_and_sections_as_cards(editor_client):
    issue = week_issue()
    IssueItemFactory(issue=issue, section="radar", headline="Radar card", blurb="Why it matters.")
    group = StoryGroupFactory()
    for _ in range(2):
        ArticleFactory(title="Folded story", group=group, source=SourceFactory())
    ArticleFactory(title="Single story", image_url="https://img.example.org/a.jpg")
    page = parse(editor_client.get(compile_url(issue)))
    pool = page.get_element_by_id("pool")
    assert "reported by 2 sources" in pool.text_content()
    assert pool.xpath('.//img[@src="https://img.example.org/a.jpg"]')
    cards = page.xpath('//ol[@id="list-radar"]/li[contains(@class, "card")]')
    assert len(cards) == 1
    assert cards[0].xpath('.//input[@name="headline"]/@value') == ["Radar card"]
    assert [h.text.strip() for h in page.xpath("//section[@class='issue-section']/h2")] == [
        "Radar",
        "Reading corner",
        "Upcoming events",
    ]
    # No inline script: the page's behaviour comes from static files only.
    assert all(script.get("src") for script in page.xpath("//script"))


def test_pool_filters_return_only_the_pool_fragment(editor_client):
    issue = week_issue()
    topic = TopicFactory(name="Semiconductors")
    ArticleFactory(title="Chip subsidies", topics=[topic])
    ArticleFactory(title="Data deal")
    response = editor_client.get(compile_url(issue, "compile_pool"), {"topic": topic.pk}, **HTMX)
    text = response.content.decode()
    assert "Chip subsidies" in text and "Data deal" not in text
    assert "<html" not in text
    without_js = editor_client.get(compile_url(issue, "compile_pool"), {"q": "deal"})
    assert without_js.status_code == 302 and "q=deal" in without_js["Location"]


def test_issue_fields_save_with_version_and_warn_of_overlap(editor_client):
    IssueFactory(
        number=1,
        period_start=datetime(2025, 4, 11).date(),
        period_end=datetime(2025, 4, 18).date(),
    )
    issue = IssueFactory(number=2)
    data = {
        "version": "1",
        "title": "New title",
        "period_start": "2025-04-18",
        "period_end": "2025-04-25",
    }
    response = editor_client.post(compile_url(issue, "compile_save_issue"), data, **HTMX)
    assert response.status_code == 200
    fragment = parse(response)
    assert "Saved" in fragment.text_content()
    assert fragment.xpath('//input[@id="issue-version"]/@value') == ["2"]
    assert "overlaps issue #1" in fragment.text_content()
    assert Issue.objects.get(pk=issue.pk).title == "New title"


def test_stale_issue_save_shows_the_other_text_and_keeps_the_stored_one(editor_client):
    issue = IssueFactory(letter="Ana's letter")
    Issue.objects.filter(pk=issue.pk).update(version=5)
    response = editor_client.post(
        compile_url(issue, "compile_save_issue"),
        {"version": "4", "letter": "Ben's letter"},
        **HTMX,
    )
    assert response.status_code == 409
    box = parse(response).find_class("conflict")[0]
    assert box.get("data-version") == "5"
    assert box.find_class("theirs")[0].text_content() == "Ana's letter"
    assert box.find_class("mine")[0].text_content() == "Ben's letter"
    assert Issue.objects.get(pk=issue.pk).letter == "Ana's letter"


def test_over_long_title_is_refused_with_the_limit(editor_client):
    issue = IssueFactory(title="Kept")
    response = editor_client.post(
        compile_url(issue, "compile_save_issue"), {"version": "1", "title": "t" * 339}, **HTMX
    )
    assert response.status_code == 422
    assert "339 characters; the limit is 300" in response.content.decode()
    assert Issue.objects.get(pk=issue.pk).title == "Kept"


def test_without_javascript_a_save_returns_to_the_page(editor_client):
    issue = IssueFactory()
    response = editor_client.post(
        compile_url(issue, "compile_save_issue"), {"version": "1", "sign_off": "DW Team"}
    )
    assert response.status_code == 302 and response["Location"] == compile_url(issue)
    assert Issue.objects.get(pk=issue.pk).sign_off == "DW Team"


def test_presence_names_the_other_editor(client, editor, junior):
    issue = IssueFactory()
    client.force_login(junior)
    client.post(compile_url(issue, "compile_presence"), **HTMX)
    client.force_login(editor)
    response = client.post(compile_url(issue, "compile_presence"), **HTMX)
    assert "junior is editing this issue too." in response.content.decode()


def test_letter_preview_renders_story_references(editor_client, settings):
    settings.SITE_URL = "https://digest.example.org"
    issue = IssueFactory()
    article = ArticleFactory(slug="eu-fines")
    response = editor_client.post(
        compile_url(issue, "compile_letter"),
        {"letter": f"Read [this](article:{article.pk})."},
        **HTMX,
    )
    assert (
        f'href="https://digest.example.org/articles/{article.pk}-eu-fines/"'
        in response.content.decode()
    )


def test_compile_screen_is_for_staff_only(client):
    issue = IssueFactory()
    response = client.get(compile_url(issue))
    assert response.status_code == 302 and "/admin/login/" in response["Location"]


def test_compile_page_query_count_does_not_grow_with_items_or_pool(
    editor_client, django_assert_max_num_queries
):
    published = datetime(2000, 1, 5, 9, tzinfo=UTC)
    small = IssueFactory(number=1, period_start=published.date(), period_end=published.date())
    IssueItemFactory(issue=small, article=ArticleFactory(published_at=published))
    ArticleFactory(published_at=published, topics=[TopicFactory()])
    editor_client.get(compile_url(small))
    with django_assert_max_num_queries(40) as captured:
        editor_client.get(compile_url(small))
    baseline = len(captured)
    for _ in range(20):
        IssueItemFactory(issue=small, article=ArticleFactory(published_at=published))
        ArticleFactory(published_at=published, topics=[TopicFactory()], group=StoryGroupFactory())
    with django_assert_max_num_queries(baseline):
        response = editor_client.get(compile_url(small))
    assert response.status_code == 200


def test_partial_updates_have_fixed_query_counts(editor_client, django_assert_max_num_queries):
    issue = week_issue()
    for _ in range(30):
        ArticleFactory(title="Ministers agree", topics=[TopicFactory()])
    editor_client.get(compile_url(issue))  # the session and the user are warm
    with django_assert_max_num_queries(12):
        editor_client.get(compile_url(issue, "compile_pool"), {"q": "ministers"}, **HTMX)
    with django_assert_max_num_queries(5):
        editor_client.post(compile_url(issue, "compile_presence"), **HTMX)
    with django_assert_max_num_queries(6):
        editor_client.post(
            compile_url(issue, "compile_letter"), {"letter": "[a](article:1)"}, **HTMX
        )
    with django_assert_max_num_queries(13):
        editor_client.post(
            compile_url(issue, "compile_save_issue"), {"version": "1", "letter": "Hi"}, **HTMX
        )
