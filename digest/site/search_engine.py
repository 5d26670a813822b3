"""An optional search engine beyond the database: one small interface, OpenSearch behind it.

Off unless ``SEARCH_ENGINE_URL`` is set (``http://127.0.0.1:9200/digest-articles``: the
server and the index name). Then reader searches go to the engine, and article writes
reach it through ``digest.site.tasks.search_engine_sync_task`` (queued after commit by
``digest/site/apps.py``); ``manage.py search_engine_sync`` indexes the whole archive.
With the setting empty nothing here is used and the database searches as usual.

OpenSearch's ``simple_query_string`` speaks the same language as the database backends:
each of the reader's words is sent as a quoted string (so nothing typed is engine
syntax), joined by ``+`` (and), ``|`` (or) and ``-`` (not), with only those operators and
phrases enabled. Highlights use the same private-use marks, so snippets are escaped
and highlighted exactly as the database's. Plain HTTP with JSON via the standard
library: the engine's REST API is small and this keeps an optional path free of
dependencies. Not through the safe fetcher: the engine is the operator's own server
(usually on a private network), named in configuration, never a URL from outside.
"""

from __future__ import annotations

import json
import urllib.request
from dataclasses import dataclass
from typing import Protocol
from urllib.error import HTTPError, URLError
from urllib.parse import urlsplit

from django.conf import settings

from articles.models import Article
from digest.site.search_query import ParsedQuery, Term

TIMEOUT_SECONDS = 5
MARK_START = "\ue000"
MARK_STOP = "\ue001"


class SearchEngineError(RuntimeError):
    """The engine could not be reached or refused the request."""


@dataclass(frozen=True)
class EngineHits:
    """One page of ids in order, the engine's snippet for each, and the count."""

    ids: list[int]
    snippets: dict[int, str]
    total: int
    exact: bool


class SearchEngine(Protocol):
    """What the site needs from an engine: keep documents, drop them, search them."""

    def index(self, articles: list[Article]) -> None: ...

    def delete(self, ids: list[int]) -> None: ...

    def search(
        self, *, parsed: ParsedQuery, filters, sort: str, offset: int, limit: int
    ) -> EngineHits: ...


def document_of(article: Article, topic_ids: list[int]) -> dict:
    """The engine's copy of an article: what search filters, sorts and highlights on."""
    published = article.published_at.isoformat() if article.published_at else None
    return {
        "title": article.title,
        "body": article.body_text[:200_000],
        "published_at": published,
        "source_id": article.source_id,
        "topic_ids": topic_ids,
    }


def simple_query_string(parsed: ParsedQuery) -> str:
    """The parsed query in ``simple_query_string`` syntax, every word quoted."""

    def quoted(term: Term) -> str:
        text = " ".join(word.replace("\\", "\\\\").replace('"', '\\"') for word in term.words)
        return f'-"{text}"' if term.excluded else f'"{text}"'

    return " | ".join(
        "(" + " + ".join(quoted(term) for term in group) + ")" for group in parsed.groups
    )


def search_body(*, parsed: ParsedQuery, filters, sort: str, offset: int, limit: int) -> dict:
    """The ``_search`` request for one page of results."""
    conditions: list[dict] = [{"range": {"published_at": {"lte": "now"}}}]
    if filters.topic is not None:
        conditions.append({"term": {"topic_ids": filters.topic.pk}})
    if filters.source is not None:
        conditions.append({"term": {"source_id": filters.source.pk}})
    dates = {}
    if filters.date_from:
        dates["gte"] = filters.date_from.isoformat()
    if filters.date_to:
        dates["lte"] = filters.date_to.isoformat() + "T23:59:59.999999"
    if dates:
        conditions.append({"range": {"published_at": dates}})
    newest = [{"published_at": "desc"}, {"_id": "desc"}]
    return {
        "from": offset,
        "size": limit,
        "track_total_hits": 10_000,
        "_source": False,
        "query": {
            "bool": {
                "must": {
                    "simple_query_string": {
                        "query": simple_query_string(parsed),
                        "fields": ["title^10", "body"],
                        "default_operator": "and",
                        "flags": "AND|OR|NOT|PHRASE|PRECEDENCE",
                    }
                },
                "filter": conditions,
            }
        },
        "sort": newest if sort == "newest" else ["_score", *newest],
        "highlight": {
            "fields": {"body": {"number_of_fragments": 2, "fragment_size": 160}},
            "pre_tags": [MARK_START],
            "post_tags": [MARK_STOP],
            "no_match_size": 160,
        },
    }


class OpenSearchEngine:
    """An OpenSearch (or Elasticsearch-compatible) index reached over HTTP."""

    def __init__(self, url: str) -> None:
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.path.strip("/"):
            raise ValueError("SEARCH_ENGINE_URL must be http(s)://host:port/index-name")
        self.base = f"{parts.scheme}://{parts.netloc}"
        self.index_name = parts.path.strip("/")

    def _call(self, method: str, path: str, body: dict | str | None = None) -> dict:
        data = None
        headers = {"Content-Type": "application/json"}
        if isinstance(body, str):
            data, headers["Content-Type"] = body.encode(), "application/x-ndjson"
        elif body is not None:
            data = json.dumps(body).encode()
        # The scheme was checked to be http(s) in __init__.
        request = urllib.request.Request(  # noqa: S310
            f"{self.base}{path}", data=data, method=method, headers=headers
        )
        try:
            with urllib.request.urlopen(request, timeout=TIMEOUT_SECONDS) as response:  # noqa: S310
                return json.loads(response.read() or b"{}")
        except HTTPError as error:
            raise SearchEngineError(f"{method} {path}: HTTP {error.code}") from error
        except (URLError, OSError) as error:
            raise SearchEngineError(f"{method} {path}: {error}") from error

    def create_index(self) -> None:
        """Create the index with its mapping (English analysis, as the databases stem)."""
        text = {"type": "text", "analyzer": "english"}
        self._call(
            "PUT",
            f"/{self.index_name}",
            {
                "mappings": {
                    "properties": {
                        "title": text,
                        "body": text,
                        "published_at": {"type": "date"},
                        "source_id": {"type": "long"},
                        "topic_ids": {"type": "long"},
                    }
                }
            },
        )

    def drop_index(self) -> None:
        self._call("DELETE", f"/{self.index_name}")

    def index(self, articles: list[Article]) -> None:
        lines = []
        for article in articles:
            topic_ids = [topic.pk for topic in article.topics.all()]
            lines.append(json.dumps({"index": {"_index": self.index_name, "_id": article.pk}}))
            lines.append(json.dumps(document_of(article, topic_ids)))
        if lines:
            self._call("POST", "/_bulk?refresh=wait_for", "\n".join(lines) + "\n")

    def delete(self, ids: list[int]) -> None:
        lines = [json.dumps({"delete": {"_index": self.index_name, "_id": pk}}) for pk in ids]
        if lines:
            self._call("POST", "/_bulk?refresh=wait_for", "\n".join(lines) + "\n")

    def search(
        self, *, parsed: ParsedQuery, filters, sort: str, offset: int, limit: int
    ) -> EngineHits:
        body = search_body(parsed=parsed, filters=filters, sort=sort, offset=offset, limit=limit)
        answer = self._call("POST", f"/{self.index_name}/_search", body)
        hits = answer["hits"]["hits"]
        total = answer["hits"]["total"]
        return EngineHits(
            ids=[int(hit["_id"]) for hit in hits],
            snippets={
                int(hit["_id"]): " … ".join(hit.get("highlight", {}).get("body", []))
                for hit in hits
            },
            total=total["value"],
            exact=total.get("relation") == "eq",
        )


def configured_engine() -> OpenSearchEngine | None:
    """The engine named by ``SEARCH_ENGINE_URL``, or None (the default: the database)."""
    url = getattr(settings, "SEARCH_ENGINE_URL", "")
    return OpenSearchEngine(url) if url else None
