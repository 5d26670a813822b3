"""The optional search engine: request building always; the real engine only where one runs.

Set ``SEARCH_ENGINE_TEST_URL`` (e.g. ``http://127.0.0.1:9200/digest-test``) to an
OpenSearch to run the engine tests; without one they skip.
"""

from __future__ import annotations

import os
import socket
import uuid
from urllib.parse import urlsplit

import pytest

from digest.site.search import SearchFilters, search_page
from digest.site.search_engine import (
    OpenSearchEngine,
    SearchEngineError,
    search_body,
    simple_query_string,
)
from digest.site.search_engine_sync import SYNC_TASK, sync_articles
from digest.site.search_query import parse_query
from tests.factories import ArticleFactory, TopicFactory

pytestmark = pytest.mark.django_db

ENGINE_URL = os.environ.get("SEARCH_ENGINE_TEST_URL", "")


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def engine_reachable(url: str) -> bool:
    if not url:
        return False
    parts = urlsplit(url)
    try:
        with socket.create_connection((parts.hostname, parts.port or 9200), timeout=1):
            return True
    except OSError:
        return False


needs_engine = pytest.mark.skipif(
    not engine_reachable(ENGINE_URL), reason="no search engine (set SEARCH_ENGINE_TEST_URL)"
)


def test_query_language_becomes_quoted_simple_query_string():
    parsed = parse_query('ai "data transfer" -fine or chips* title:x')
    assert simple_query_string(parsed) == (
        '("ai" + "data transfer" + -"fine") | ("chips*" + "title:x")'
    )
    assert simple_query_string(parse_query('back\\slash "quo')) == '("back\\\\slash" + "quo")'


def test_search_body_filters_sorts_and_marks():
    topic = TopicFactory()
    body = search_body(
        parsed=parse_query("tariff"),
        filters=SearchFilters(query="tariff", topic=topic, sort="newest"),
        sort="newest",
        offset=40,
        limit=20,
    )
    assert body["from"] == 40 and body["size"] == 20
    assert {"term": {"topic_ids": topic.pk}} in body["query"]["bool"]["filter"]
    assert body["sort"][0] == {"published_at": "desc"}
    assert body["highlight"]["pre_tags"] == ["\ue000"]
    assert body["query"]["bool"]["must"]["simple_query_string"]["flags"] == (
        "AND|OR|NOT|PHRASE|PRECEDENCE"
    )


def test_engine_url_must_name_an_index():
    with pytest.raises(ValueError, match="index-name"):
        OpenSearchEngine("http://127.0.0.1:9200")
    with pytest.raises(ValueError):
        OpenSearchEngine("file:///etc/passwd")


def test_unreachable_engine_falls_back_to_the_database(settings, caplog):
    settings.SEARCH_ENGINE_URL = f"http://127.0.0.1:{closed_port()}/digest"
    ArticleFactory(title="Spectrum auction", body_text="spectrum")
    page = search_page(filters=SearchFilters(query="spectrum"))
    assert [article.title for article in page] == ["Spectrum auction"]
    assert page.search_mode != "engine"
    assert "Search engine failed" in caplog.text
    with pytest.raises(SearchEngineError):
        sync_articles([page.object_list[0].pk])


def test_article_writes_queue_a_sync_only_when_an_engine_is_set(
    settings, django_capture_on_commit_callbacks, monkeypatch
):
    queued = []
    monkeypatch.setattr(
        "digest.site.search_engine_sync.enqueue_on_commit",
        lambda name, **kwargs: queued.append((name, kwargs)),
    )
    ArticleFactory()
    assert queued == []
    settings.SEARCH_ENGINE_URL = "http://127.0.0.1:9/digest"
    article = ArticleFactory()
    assert (SYNC_TASK, {"article_ids": [article.pk]}) in queued


@pytest.fixture
def engine(settings):
    url = ENGINE_URL.rstrip("/") + "-" + uuid.uuid4().hex[:8]
    settings.SEARCH_ENGINE_URL = url
    engine = OpenSearchEngine(url)
    engine.create_index()
    yield engine
    engine.drop_index()


@needs_engine
def test_engine_search_semantics(engine, client):
    title_hit = ArticleFactory(title="AI regulation adopted", body_text="Members voted.")
    body_hit = ArticleFactory(title="Brussels week", body_text="the regulation on <b>chips</b>")
    sync_articles([title_hit.pk, body_hit.pk])
    titles = [a.title for a in search_page(filters=SearchFilters(query="regulation"))]
    assert titles == [title_hit.title, body_hit.title]
    assert [a.title for a in search_page(filters=SearchFilters(query="regulation -chips"))] == [
        title_hit.title
    ]
    phrase = search_page(filters=SearchFilters(query='"AI regulation"'))
    assert [a.title for a in phrase] == [title_hit.title]
    assert search_page(filters=SearchFilters(query="chips")).search_mode == "engine"
    html = client.get("/search/", {"q": "chips"}).content.decode()
    assert "<mark>chips</mark>" in html and "&lt;b&gt;" in html and "<b>chips" not in html
