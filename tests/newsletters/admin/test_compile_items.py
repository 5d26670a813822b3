"""The compile screen's item actions: add, save as typed, conflicts, move, reorder, image."""

from __future__ import annotations

import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from PIL import Image

from newsletters.models import Issue, IssueItem
from tests.factories import ArticleFactory, EventFactory, IssueItemFactory
from tests.newsletters.admin.pages import parse, week_issue

pytestmark = pytest.mark.django_db
HTMX = {"HTTP_HX_REQUEST": "true"}


def url(issue: Issue, name: str, *args) -> str:
    return reverse(f"admin:newsletters_issue_{name}", args=[issue.pk, *args])


def test_add_from_pool_answers_with_the_new_card_and_marks_the_pool_row(editor_client):
    issue = week_issue()
    article = ArticleFactory(title="Court halts data deal", body_text="A court ruled. Then more.")
    response = editor_client.post(
        url(issue, "compile_add"), {"article": article.pk, "section": "reading"}, **HTMX
    )
    assert response.status_code == 200
    fragment = response.content.decode()
    assert "✓ Added to Reading corner" in fragment
    assert 'hx-swap-oob="beforeend:#list-reading"' in fragment
    item = issue.items.get()
    assert (item.section, item.article_id) == ("reading", article.pk)
    assert f'id="item-{item.pk}"' in fragment


def test_adding_a_used_article_is_refused_in_the_message_line(editor_client):
    issue = week_issue()
    article = ArticleFactory()
    IssueItemFactory(article=article)
    response = editor_client.post(url(issue, "compile_add"), {"article": article.pk}, **HTMX)
    assert response.status_code == 422
    assert response["HX-Retarget"] == "#compile-messages"
    assert "is already in issue" in response.content.decode()


def test_add_event_keeps_events_in_start_order(editor_client):
    issue = week_issue()
    event = EventFactory()
    response = editor_client.post(url(issue, "compile_add"), {"event": event.pk})
    assert response.status_code == 302
    assert issue.items.get().event == event


def test_saving_an_item_answers_with_the_new_version(editor_client, django_assert_max_num_queries):
    item = IssueItemFactory(issue=week_issue(), blurb="Old")
    data = {"version": "1", "headline": "New headline", "blurb": "New blurb"}
    with django_assert_max_num_queries(14):
        response = editor_client.post(url(item.issue, "compile_item_save", item.pk), data, **HTMX)
    assert parse(response).xpath(f'//input[@id="item-{item.pk}-version"]/@value') == ["2"]
    stored = IssueItem.objects.get(pk=item.pk)
    assert (stored.headline, stored.blurb, stored.edited_by_editor) == (
        "New headline",
        "New blurb",
        True,
    )


def test_second_editor_on_the_same_item_sees_the_conflict(client, editor, junior):
    item = IssueItemFactory(issue=week_issue(), blurb="Original")
    save = url(item.issue, "compile_item_save", item.pk)
    client.force_login(editor)
    client.post(save, {"version": "1", "blurb": "Editor's blurb"}, **HTMX)
    client.force_login(junior)
    response = client.post(save, {"version": "1", "blurb": "Junior's blurb"}, **HTMX)
    assert response.status_code == 409
    box = parse(response).find_class("conflict")[0]
    assert "editor saved this in the meantime" in box.text_content()
    assert box.find_class("theirs")[0].text_content() == "Editor's blurb"
    assert IssueItem.objects.get(pk=item.pk).blurb == "Editor's blurb"


def test_remove_and_move_and_reorder(editor_client):
    issue = week_issue()
    a, b, c = (IssueItemFactory(issue=issue, section="radar", order=n) for n in (1, 2, 3))
    response = editor_client.post(
        url(issue, "compile_reorder"),
        {"section": "radar", "items": f"{c.pk},{a.pk},{b.pk}", "order_version": "1"},
        **HTMX,
    )
    assert response.status_code == 204
    assert response["X-Order-Version"] == "2"
    assert list(issue.items.order_by("order").values_list("pk", flat=True)) == [c.pk, a.pk, b.pk]
    response = editor_client.post(
        url(issue, "compile_move", a.pk), {"step": "-1", "order_version": "2"}
    )
    assert response.status_code == 302
    assert list(issue.items.order_by("order").values_list("pk", flat=True)) == [a.pk, c.pk, b.pk]
    editor_client.post(
        url(issue, "compile_move", b.pk), {"to_section": "reading", "order_version": "3"}
    )
    assert IssueItem.objects.get(pk=b.pk).section == "reading"
    response = editor_client.post(url(issue, "compile_remove", c.pk), **HTMX)
    assert response.status_code == 200 and response.content == b""
    assert not IssueItem.objects.filter(pk=c.pk).exists()


def test_a_reorder_based_on_an_old_order_is_refused_and_moves_nothing(editor_client):
    issue = week_issue()
    a, b, c = (IssueItemFactory(issue=issue, section="radar", order=n) for n in (1, 2, 3))
    # Ana drags c to the top (her screen shows order version 1) ...
    first = editor_client.post(
        url(issue, "compile_reorder"),
        {"section": "radar", "items": f"{c.pk},{a.pk},{b.pk}", "order_version": "1"},
        **HTMX,
    )
    assert first.status_code == 204
    # ... then a second screen, still on version 1, drags b to the top.
    stale = editor_client.post(
        url(issue, "compile_reorder"),
        {"section": "radar", "items": f"{b.pk},{a.pk},{c.pk}", "order_version": "1"},
        **HTMX,
    )
    assert stale.status_code == 409
    assert "Another editor changed the order" in stale.content.decode()
    assert list(issue.items.order_by("order").values_list("pk", flat=True)) == [c.pk, a.pk, b.pk]
    # Without JavaScript the move buttons are versioned the same way.
    refused = editor_client.post(
        url(issue, "compile_move", b.pk), {"step": "-1", "order_version": "1"}, follow=True
    )
    assert "Another editor changed the order" in refused.content.decode()
    assert list(issue.items.order_by("order").values_list("pk", flat=True)) == [c.pk, a.pk, b.pk]
    # Every stored reorder is in the issue's history.
    assert issue.revisions.filter(summary="reordered Radar").exists()


def test_reorder_with_garbage_is_refused(editor_client):
    issue = week_issue()
    response = editor_client.post(
        url(issue, "compile_reorder"), {"section": "radar", "items": "1,x"}, **HTMX
    )
    assert response.status_code == 422


def test_upload_an_image_sets_a_resized_stored_image(editor_client, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    settings.SITE_URL = "https://digest.example.org"
    item = IssueItemFactory(issue=week_issue(), image_url="")
    buffer = io.BytesIO()
    Image.new("RGB", (1600, 900), (10, 120, 200)).save(buffer, format="JPEG")
    upload = SimpleUploadedFile("photo.jpg", buffer.getvalue(), content_type="image/jpeg")
    response = editor_client.post(
        url(item.issue, "compile_image", item.pk), {"upload": upload}, **HTMX
    )
    assert response.status_code == 200
    stored = IssueItem.objects.get(pk=item.pk)
    assert stored.image_url.startswith(
        f"https://digest.example.org/media/issues/{item.issue.number}/"
    )
    assert stored.image_url in response.content.decode()
    assert (
        f'id="item-{item.pk}-version" class="version" hx-swap-oob="true"'
        in response.content.decode()
    )


def test_upload_of_a_non_image_is_refused_and_nothing_changes(editor_client):
    item = IssueItemFactory(issue=week_issue(), image_url="https://img.example.org/old.jpg")
    upload = SimpleUploadedFile("notes.jpg", b"not an image at all", content_type="image/jpeg")
    response = editor_client.post(
        url(item.issue, "compile_image", item.pk), {"upload": upload}, **HTMX
    )
    assert response.status_code == 422
    assert "not an image" in response.content.decode()
    assert IssueItem.objects.get(pk=item.pk).image_url == "https://img.example.org/old.jpg"


def test_use_the_articles_image(editor_client):
    article = ArticleFactory(image_url="https://img.example.org/article.jpg")
    item = IssueItemFactory(issue=week_issue(), article=article, image_url="")
    editor_client.post(url(item.issue, "compile_image", item.pk), {"use": "article"}, **HTMX)
    assert IssueItem.objects.get(pk=item.pk).image_url == "https://img.example.org/article.jpg"


def test_item_of_another_issue_is_not_found(editor_client):
    other = IssueItemFactory()
    issue = week_issue()
    response = editor_client.post(
        url(issue, "compile_item_save", other.pk), {"version": "1", "blurb": "x"}, **HTMX
    )
    assert response.status_code == 404
