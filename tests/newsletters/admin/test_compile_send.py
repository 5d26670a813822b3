"""The send confirmation (audience with counts, checklist, previews) and revisions."""

from __future__ import annotations

import pytest
from django.urls import reverse

from newsletters.models import Issue
from tests.factories import IssueItemFactory, SubscriberFactory, TopicFactory
from tests.newsletters.admin.pages import parse, week_issue

pytestmark = pytest.mark.django_db
HTMX = {"HTTP_HX_REQUEST": "true"}


def url(issue: Issue, name: str, *args) -> str:
    return reverse(f"admin:newsletters_issue_{name}", args=[issue.pk, *args])


def test_confirmation_names_the_audience_with_counts_and_the_checklist(editor_client):
    issue = week_issue(number=210, title="Big week", letter="Dear readers")
    IssueItemFactory(issue=issue)
    for _ in range(3):
        SubscriberFactory(active=True)
    SubscriberFactory(active=True, topics=[TopicFactory()])
    page = parse(editor_client.get(url(issue, "compile_confirm")))
    sentence = "Send #210 to 4 subscribers: 3 full issue, 1 topic digest"
    assert page.get_element_by_id("audience").text_content() == sentence
    assert page.get_element_by_id("confirm-send-button").text_content() == sentence
    checklist = page.get_element_by_id("checklist").text_content()
    assert "Test sent" in checklist and "No test copy sent yet." in checklist
    text_link = page.get_element_by_id("confirm-preview-text").get("href")
    assert text_link.endswith("/preview-email/?format=text")


def test_a_test_send_ticks_the_checklist(editor_client):
    issue = week_issue(title="T", letter="L")
    IssueItemFactory(issue=issue)
    response = editor_client.post(url(issue, "test_send"), {"return_to": "compile"})
    assert response["Location"] == url(issue, "compile")
    assert Issue.objects.get(pk=issue.pk).test_sent_at is not None
    page = parse(editor_client.get(url(issue, "compile_confirm")))
    assert "No test copy sent yet." not in page.get_element_by_id("checklist").text_content()


def test_revisions_list_and_restore(editor_client):
    issue = week_issue(letter="First")
    editor_client.post(
        url(issue, "compile_save_issue"), {"version": "1", "letter": "First"}, **HTMX
    )
    editor_client.post(
        url(issue, "compile_save_issue"), {"version": "2", "title": "Other"}, **HTMX
    )
    editor_client.post(
        url(issue, "compile_save_issue"), {"version": "3", "letter": "Second"}, **HTMX
    )
    page = parse(editor_client.get(url(issue, "compile_revisions")))
    rows = page.xpath('//tr[@class="revision"]')
    assert len(rows) == 3
    assert "editor" in rows[0].text_content() and "changed letter" in rows[0].text_content()
    oldest = issue.revisions.order_by("saved_at", "id").first()
    response = editor_client.post(url(issue, "compile_restore", oldest.pk))
    assert response.status_code == 302
    assert Issue.objects.get(pk=issue.pk).letter == "First"


def test_restoring_brings_back_an_item_removed_since_and_says_so(editor_client):
    from newsletters.models import IssueItem
    from tests.factories import ArticleFactory, IssueItemFactory

    issue = week_issue()
    item = IssueItemFactory(issue=issue, article=ArticleFactory(), headline="Back again")
    editor_client.post(
        url(issue, "compile_item_save", item.pk), {"version": "1", "blurb": "Mine"}, **HTMX
    )
    before_removal = issue.revisions.get()
    editor_client.post(url(issue, "compile_remove", item.pk), **HTMX)
    assert not issue.items.exists()

    response = editor_client.post(url(issue, "compile_restore", before_removal.pk), follow=True)

    back = IssueItem.objects.get(issue=issue)
    assert (back.article_id, back.headline, back.blurb) == (item.article_id, "Back again", "Mine")
    assert "Brought back: “Back again”." in response.content.decode()
