"""The anonymous page cache: hits cost no queries, changes clear it, tokens stay personal."""

from __future__ import annotations

import re
import time

import pytest
from django.core.cache import cache
from django.http import HttpResponse
from django.template import engines
from django.test import Client, RequestFactory
from django.views.decorators.csrf import csrf_protect

from articles.models import Article
from digest.core import page_cache
from digest.core.page_cache import (
    PAGE_VERSION_KEY,
    cached_page,
    current_page_version,
    invalidate_pages,
    remembered,
)
from newsletters.models import Issue, IssueStatusChange
from tests.factories import ArticleFactory, IssueFactory, IssueItemFactory, TopicFactory

pytestmark = pytest.mark.django_db

TOKEN = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')


def test_second_anonymous_request_is_served_from_cache_without_queries(
    client, django_assert_num_queries
):
    ArticleFactory(topics=[TopicFactory(slug="ai")])
    first = client.get("/topics/ai/")
    assert first["X-Page-Cache"] == "miss"
    with django_assert_num_queries(0):
        second = client.get("/topics/ai/")
    assert second["X-Page-Cache"] == "hit"
    assert TOKEN.sub("", second.content.decode()) == TOKEN.sub("", first.content.decode())


def test_query_string_is_part_of_the_key(client):
    client.get("/issues/")
    assert client.get("/issues/", {"page": "2"})["X-Page-Cache"] == "miss"
    assert client.get("/issues/", {"page": "2"})["X-Page-Cache"] == "hit"


def test_new_article_clears_cached_pages(client, django_capture_on_commit_callbacks):
    topic = TopicFactory(slug="ai")
    client.get("/topics/ai/")
    with django_capture_on_commit_callbacks(execute=True):
        ArticleFactory(title="Fresh story", topics=[topic])
    response = client.get("/topics/ai/")
    assert response["X-Page-Cache"] == "miss"
    assert "Fresh story" in response.content.decode()


def test_publishing_an_issue_clears_the_archive(client, django_capture_on_commit_callbacks):
    issue = IssueFactory(number=5, title="Now public")
    IssueItemFactory(issue=issue)
    assert "Now public" not in client.get("/issues/").content.decode()
    with django_capture_on_commit_callbacks(execute=True):
        # The way the workflow moves an issue: a conditional UPDATE (no signal) plus a
        # recorded status change, which is what the cache hears.
        Issue.objects.filter(pk=issue.pk).update(
            status=Issue.Status.SENT, sent_at=issue.created_at
        )
        IssueStatusChange.objects.create(issue=issue, from_status="sending", to_status="sent")
    assert "Now public" in client.get("/issues/").content.decode()


def test_changes_are_seen_only_after_commit(client, django_capture_on_commit_callbacks):
    client.get("/")
    version = current_page_version()
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        ArticleFactory()
    assert current_page_version() == version
    for callback in callbacks:
        callback()
    assert current_page_version() > version


def test_invalidate_pages_bumps_version_even_on_an_empty_cache():
    cache.delete(PAGE_VERSION_KEY)
    invalidate_pages()
    first = current_page_version()
    invalidate_pages()
    assert current_page_version() == first + 1


def test_signed_in_readers_are_not_served_cached_pages(client, admin_user):
    client.get("/issues/")
    client.force_login(admin_user)
    response = client.get("/issues/")
    assert "X-Page-Cache" not in response


def test_not_found_pages_are_not_cached(client):
    assert client.get("/topics/missing/").status_code == 404
    response = client.get("/topics/missing/")
    assert response.status_code == 404
    assert "X-Page-Cache" not in response


def test_updates_without_signals_expire_after_the_cache_timeout(client, settings):
    settings.READER_PAGE_CACHE_SECONDS = 1
    ArticleFactory(topics=[TopicFactory(slug="ai")], title="Before")
    client.get("/topics/ai/")
    Article.objects.update(title="After")  # no signal
    assert "Before" in client.get("/topics/ai/").content.decode()
    time.sleep(1.2)
    assert "After" in client.get("/topics/ai/").content.decode()


def _form_view():
    template = engines["django"].from_string(
        '<form method="post">{% csrf_token %}<input name="email"></form>'
    )

    @cached_page
    @csrf_protect
    def view(request):
        return HttpResponse(template.render({}, request))

    return view


def test_cached_page_gives_each_reader_their_own_csrf_token():
    view = _form_view()
    factory = RequestFactory()
    first = view(factory.get("/form/"))
    second = view(factory.get("/form/"))
    assert first["X-Page-Cache"] == "miss"
    assert second["X-Page-Cache"] == "hit"
    first_token = TOKEN.search(first.content.decode()).group(1)
    second_token = TOKEN.search(second.content.decode()).group(1)
    assert first_token != second_token
    assert "placeholder" not in second.content.decode()


def test_csrf_token_from_a_cached_page_is_accepted_when_posting(client, settings):
    """The footer subscribe form works for a reader who got the page from the cache."""
    Client(enforce_csrf_checks=True).get("/issues/")  # someone else fills the cache
    reader = Client(enforce_csrf_checks=True)
    page = reader.get("/issues/")
    assert page["X-Page-Cache"] == "hit"
    match = TOKEN.search(page.content.decode())
    if match is None:
        pytest.skip("no form with a CSRF token on the page")
    response = reader.post(
        "/subscribe/", {"csrfmiddlewaretoken": match.group(1), "email": "reader@example.org"}
    )
    assert response.status_code != 403


@pytest.mark.redis
def test_page_version_lives_in_the_shared_cache(settings):
    """Two web processes share Redis; a bump made by one is seen by the other."""
    from django.core.cache.backends.redis import RedisCache

    other_process_cache = RedisCache(
        settings.CACHES["default"]["LOCATION"],
        {"KEY_PREFIX": settings.CACHES["default"].get("KEY_PREFIX", "")},
    )
    current_page_version()
    before = other_process_cache.get(PAGE_VERSION_KEY)
    invalidate_pages()
    assert other_process_cache.get(PAGE_VERSION_KEY) == before + 1


def test_page_kept_in_process_memory_is_dropped_when_another_process_bumps(client):
    ArticleFactory(topics=[TopicFactory(slug="ai")], title="Before")
    client.get("/topics/ai/")
    assert client.get("/topics/ai/")["X-Page-Cache"] == "hit"
    Article.objects.update(title="After")  # no signal here…
    cache.incr(PAGE_VERSION_KEY)  # …but another process bumped the shared version
    response = client.get("/topics/ai/")
    assert response["X-Page-Cache"] == "miss"
    assert "After" in response.content.decode()


def test_flushed_shared_cache_does_not_resurrect_pages_from_memory(client):
    ArticleFactory(topics=[TopicFactory(slug="ai")], title="Before")
    client.get("/topics/ai/")
    Article.objects.update(title="After")
    cache.clear()
    assert "After" in client.get("/topics/ai/").content.decode()


def test_version_check_interval_trades_freshness_for_a_cache_read(client, settings):
    current_page_version()  # this process's reading, taken from the (fresh) shared cache
    settings.READER_PAGE_VERSION_CHECK_SECONDS = 0.5
    ArticleFactory(topics=[TopicFactory(slug="ai")], title="Before")
    client.get("/topics/ai/")
    Article.objects.update(title="After")
    cache.incr(PAGE_VERSION_KEY)  # another process's change
    assert "Before" in client.get("/topics/ai/").content.decode()  # within the interval
    time.sleep(0.6)
    assert "After" in client.get("/topics/ai/").content.decode()


def test_own_invalidation_shows_at_once_despite_check_interval(client, settings):
    settings.READER_PAGE_VERSION_CHECK_SECONDS = 60
    ArticleFactory(topics=[TopicFactory(slug="ai")], title="Before")
    client.get("/topics/ai/")
    Article.objects.update(title="After")
    invalidate_pages()
    assert "After" in client.get("/topics/ai/").content.decode()


@pytest.mark.redis
def test_redis_backend_reuses_one_client_and_still_works(settings):
    from digest.core.cache_backends import RedisCache

    backend = RedisCache(settings.CACHES["default"]["LOCATION"], {"KEY_PREFIX": "reuse-test"})
    first = backend._cache.get_client("a")
    assert backend._cache.get_client("b", write=True) is first
    backend.set("greeting", {"text": "hello"}, timeout=30)
    assert backend.get("greeting") == {"text": "hello"}
    backend.add("counter", 1)
    assert backend.incr("counter") == 2
    backend.delete_many(["greeting", "counter"])


def test_a_remembered_value_lasts_for_its_page_version_and_its_seconds(monkeypatch):
    computed = []

    def compute():
        computed.append(len(computed))
        return computed[-1]

    assert remembered(("test-value",), compute, seconds=60) == 0
    assert remembered(("test-value",), compute, seconds=60) == 0  # the same version
    assert remembered(("another", 1), compute, seconds=60) == 1  # another key
    invalidate_pages()
    assert remembered(("test-value",), compute, seconds=60) == 2  # the archive changed
    later = time.monotonic() + 61
    monkeypatch.setattr(page_cache.time, "monotonic", lambda: later)
    assert remembered(("test-value",), compute, seconds=60) == 3  # too old
