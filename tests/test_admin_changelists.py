"""Every model of the articles and newsletters apps is in the admin, and each list page
answers with rows in a number of queries that does not grow with the rows."""

from __future__ import annotations

import pytest
from django.apps import apps
from django.contrib import admin
from django.urls import reverse
from django.utils import timezone

from articles.models import Article, BoilerplateSighting, StoryGroup
from newsletters.models import (
    Click,
    Delivery,
    EmailImage,
    Issue,
    IssueItem,
    IssueLink,
    IssueRevision,
    IssueStatusChange,
    Open,
    WelcomeEmail,
)
from tests.factories import (
    ArticleFactory,
    DeliveryFactory,
    EventFactory,
    IssueFactory,
    IssueItemFactory,
    SourceFactory,
    StoryGroupFactory,
    SubscriberFactory,
    TopicFactory,
)

pytestmark = pytest.mark.django_db

ROWS = 30
# Queries of each list page, whatever its number of rows: session, user, the count(s),
# the rows (related rows joined or annotated), the date hierarchy and each filter's
# choices once.
CHANGELIST_QUERIES = {
    "Topic": 5,
    "Source": 5,
    "BoilerplateSighting": 8,
    "StoryGroup": 7,
    "Article": 10,
    "ArticleTopic": 6,
    "Event": 9,
    "Issue": 5,
    "IssueStatusChange": 7,
    "IssueRevision": 8,
    "IssueItem": 6,
    "Subscriber": 6,
    "Delivery": 6,
    "WelcomeEmail": 5,
    "IssueLink": 6,
    "Click": 6,
    "Open": 5,
    "EmailImage": 7,
}


# The database's own search index (rows written only by triggers): nothing to administer.
NOT_ADMINISTERED = ("ArticleSearch",)


def app_models():
    return [
        model
        for label in ("articles", "newsletters")
        for model in apps.get_app_config(label).get_models()
        if model.__name__ not in NOT_ADMINISTERED
    ]


def changelist_url(model) -> str:
    return reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_changelist")


def fill(rows: int) -> None:
    """``rows`` rows (at least) of every model of both apps."""
    topics = TopicFactory.create_batch(rows)
    sources = SourceFactory.create_batch(rows)
    for index in range(rows):
        group = StoryGroupFactory()
        for offset in (0, 1):
            ArticleFactory(
                source=sources[(index + offset) % rows],
                group=group,
                topics=[topics[index]],
            )
        EventFactory(topics=[topics[index]], source=sources[index])
        BoilerplateSighting.objects.create(
            source=sources[index],
            body_digest=f"{index:032x}",
            place=BoilerplateSighting.Place.TAIL,
            digest=f"{index + 1:032x}",
        )
    for index in range(rows):
        issue = IssueFactory(status=Issue.Status.SENT)
        IssueItemFactory(issue=issue)
        IssueStatusChange.objects.create(
            issue=issue, from_status=Issue.Status.SENDING, to_status=Issue.Status.SENT
        )
        IssueRevision.objects.create(
            issue=issue, summary="changed letter", snapshot={"issue": {}, "items": []}
        )
        delivery = DeliveryFactory(
            issue=issue,
            subscriber=SubscriberFactory(active=True, topics=[topics[index]]),
            status=Delivery.Status.SENT,
            sent_at=timezone.now(),
        )
        link = IssueLink.objects.create(issue=issue, url=f"https://example.org/{index}")
        Click.objects.create(delivery=delivery, link=link)
        Open.objects.create(delivery=delivery)
        EmailImage.objects.create(
            key=f"{index:064x}",
            source_url=f"https://img.example.org/{index}.png",
            content=b"jpeg",
            width=144,
            height=96,
        )
    # The admin keeps one welcome email; the list must still scale if there were more.
    WelcomeEmail.objects.bulk_create(WelcomeEmail(subject=f"Welcome {n}") for n in range(rows))


def test_every_model_of_both_apps_is_in_the_admin():
    missing = [model.__name__ for model in app_models() if not admin.site.is_registered(model)]
    assert missing == []


def test_every_registered_model_has_list_columns_and_search_or_filters():
    for model in app_models():
        model_admin = admin.site._registry[model]
        assert len(model_admin.list_display) >= 3, model.__name__
        assert model_admin.search_fields or model_admin.list_filter, model.__name__


@pytest.mark.parametrize("model", app_models(), ids=lambda model: model.__name__)
def test_changelist_with_rows_answers_in_a_fixed_number_of_queries(
    model, admin_client, django_assert_max_num_queries
):
    fill(ROWS)
    assert model.objects.count() >= ROWS
    url = changelist_url(model)
    admin_client.get(url)  # the session and content types are loaded once
    with django_assert_max_num_queries(CHANGELIST_QUERIES[model.__name__]):
        response = admin_client.get(url)
    assert response.status_code == 200
    shown = len(response.context["cl"].result_list)
    assert shown == min(model.objects.count(), response.context["cl"].list_per_page)


@pytest.mark.parametrize("model", app_models(), ids=lambda model: model.__name__)
def test_changelist_search_answers(model, admin_client):
    if not admin.site._registry[model].search_fields:
        pytest.skip("no search on this list")
    fill(2)
    response = admin_client.get(changelist_url(model), {"q": "1"})
    assert response.status_code == 200


def test_story_group_list_says_how_many_sources_reported_it(admin_client):
    group = StoryGroupFactory()
    first = ArticleFactory(group=group, title="Court fines platform")
    first.published_at = first.published_at.replace(year=first.published_at.year - 1)
    first.save()
    ArticleFactory(group=group, title="Platform fined by court")
    ArticleFactory(group=group, source=first.source, title="Court fine, follow-up")
    lonely = StoryGroupFactory()
    ArticleFactory(group=lonely)

    response = admin_client.get(changelist_url(StoryGroup))

    rows = {row.pk: row for row in response.context["cl"].result_list}
    assert rows[group.pk].source_count == 2
    assert rows[group.pk].article_total == 3
    assert rows[group.pk].first_title == "Court fines platform"
    page = response.content.decode()
    assert "reported by 2 sources" in page
    assert "reported by 1 source<" in page


def test_story_group_page_shows_its_articles_read_only(admin_client):
    group = StoryGroupFactory()
    articles = [ArticleFactory(group=group) for _ in range(3)]
    ArticleFactory()  # in no group

    response = admin_client.get(reverse("admin:articles_storygroup_change", args=[group.pk]))

    assert response.status_code == 200
    page = response.content.decode()
    for article in articles:
        assert article.title in page
        assert article.source.name in page
    assert "reported by 3 sources" in page
    (inline,) = response.context["inline_admin_formsets"]
    assert inline.formset.queryset.model is Article
    assert not inline.has_add_permission and not inline.has_change_permission
    assert {form.instance.pk for form in inline.formset.forms} == {a.pk for a in articles}


def test_issue_item_list_finds_where_an_article_was_used(admin_client):
    item = IssueItemFactory(headline="Court fines platform")
    IssueItemFactory(headline="Something else")
    response = admin_client.get(changelist_url(IssueItem), {"q": "court fines"})
    assert [row.pk for row in response.context["cl"].result_list] == [item.pk]
    assert item.article.source.name in response.content.decode()


@pytest.mark.parametrize("model", app_models(), ids=lambda model: model.__name__)
def test_change_page_of_a_row_answers(model, admin_client):
    fill(2)
    row = model.objects.first()
    url = reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_change", args=[row.pk])
    assert admin_client.get(url).status_code == 200
