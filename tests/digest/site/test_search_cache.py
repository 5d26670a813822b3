"""Search through the page cache: a repeated anonymous search is answered from it, any
change to the archive makes it stale, the reader's limit still counts it, and the
filters' choices are read once per page version."""

from __future__ import annotations

import re

import pytest

from digest.core.page_cache import current_page_version, local_pages, page_cache_key
from digest.site.views.search import _choices
from tests.factories import ArticleFactory, SourceFactory, TopicFactory

pytestmark = pytest.mark.django_db


def test_a_repeated_search_is_answered_from_the_cache(client, django_assert_num_queries):
    ArticleFactory(title="Spectrum auction opens")
    first = client.get("/search/", {"q": "spectrum"})
    assert first["X-Page-Cache"] == "miss"
    with django_assert_num_queries(0):
        second = client.get("/search/", {"q": "spectrum"})
    assert second["X-Page-Cache"] == "hit"
    # The same page, but for the CSRF token in the footer's form (each reader's own).
    token = re.compile(rb'name="csrfmiddlewaretoken" value="[A-Za-z0-9]+"')
    assert token.sub(b"", second.content) == token.sub(b"", first.content)
    # Another page, order or filter of the same words is another search.
    assert client.get("/search/", {"q": "spectrum", "sort": "newest"})["X-Page-Cache"] == "miss"


def test_a_new_article_shows_in_the_next_search(client, django_capture_on_commit_callbacks):
    ArticleFactory(title="Spectrum auction opens")
    assert "1 result" in client.get("/search/", {"q": "spectrum"}).content.decode()
    with django_capture_on_commit_callbacks(execute=True):  # the version bumps on commit
        ArticleFactory(title="Spectrum auction closes")
    again = client.get("/search/", {"q": "spectrum"})
    assert again["X-Page-Cache"] == "miss"
    assert "2 results" in again.content.decode()


def test_searches_stay_out_of_the_processes_hottest_pages(client, rf):
    ArticleFactory(title="Spectrum auction opens")
    local_pages.clear()
    client.get("/")
    assert client.get("/")["X-Page-Cache"] == "hit"
    client.get("/search/", {"q": "spectrum"})
    assert client.get("/search/", {"q": "spectrum"})["X-Page-Cache"] == "hit"
    key = page_cache_key(rf.get("/search/", {"q": "spectrum"}), version=current_page_version())
    assert local_pages.get(key) is None  # from the shared cache only
    assert local_pages.get(page_cache_key(rf.get("/"), version=current_page_version()))


def test_a_signed_in_editor_always_gets_a_fresh_search(admin_client):
    ArticleFactory(title="Spectrum auction opens")
    admin_client.get("/search/", {"q": "spectrum"})
    response = admin_client.get("/search/", {"q": "spectrum"})
    assert "X-Page-Cache" not in response


def test_cached_searches_still_count_against_the_readers_limit(client, settings):
    settings.READER_SEARCH_PER_MINUTE = 2
    ArticleFactory(title="Spectrum auction opens")
    assert client.get("/search/", {"q": "spectrum"})["X-Page-Cache"] == "miss"
    assert client.get("/search/", {"q": "spectrum"})["X-Page-Cache"] == "hit"
    refused = client.get("/search/", {"q": "spectrum"})
    assert refused.status_code == 429
    # The refusal is not stored: another reader gets the results.
    other = client.get("/search/", {"q": "spectrum"}, REMOTE_ADDR="192.0.2.9")
    assert other.status_code == 200 and "Spectrum auction opens" in other.content.decode()


def test_filter_choices_are_read_once_per_page_version(
    client, django_assert_num_queries, django_capture_on_commit_callbacks
):
    ArticleFactory(title="Spectrum auction opens", topics=[TopicFactory(slug="telecoms")])
    client.get("/search/", {"q": "spectrum"})
    # The same version, another search: no query for the topics and sources.
    with django_assert_num_queries(0):
        _choices()
    with django_capture_on_commit_callbacks(execute=True):  # bumps the version
        renamed = SourceFactory(name="Brand new outlet")
    page = client.get("/search/", {"q": "spectrum", "topic": "telecoms"}).content.decode()
    assert f'<option value="{renamed.pk}">Brand new outlet</option>' in page
    assert '<option value="telecoms" selected>' in page
    plain = client.get("/search/", {"q": "spectrum"}).content.decode()
    assert "selected>" not in plain.split('id="search-sort"')[0]
