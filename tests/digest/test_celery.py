"""A real Celery worker, started against Redis, runs tasks sent through the broker.

The worker is a separate process (``celery -A digest worker --pool=prefork``)
sharing the PostgreSQL test database; it polls a feed served on loopback, so
what reaches the database went broker → worker → fetcher → pipeline → rows.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from articles.models import Article, Source
from articles.tasks import source_poll_task
from tests.factories import SourceFactory

pytestmark = [pytest.mark.redis, pytest.mark.django_db(transaction=True)]

FEED = """<?xml version="1.0" encoding="utf-8"?>
<rss version="2.0"><channel>
  <title>Loopback Wire</title><link>{base}/</link><description>Test feed</description>
  <item>
    <title>Regulator opens consultation on cloud switching</title>
    <link>{base}/news/cloud-switching.html</link>
    <guid isPermaLink="false">loopback-1</guid>
    <pubDate>Mon, 20 Apr 2026 09:00:00 +0000</pubDate>
    <description>Customers should be able to change provider without fees.</description>
  </item>
</channel></rss>
"""

PAGE = """<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">
<title>Regulator opens consultation on cloud switching</title></head><body>
<nav><a href="/">Home</a></nav>
<article><h1>Regulator opens consultation on cloud switching</h1>
<p>The communications regulator has opened a consultation on rules that would let business
customers move their data and applications between cloud providers without exit fees.</p>
<p>Responses are due within eight weeks, after which the regulator will publish a draft
decision. Providers say most customers already switch without difficulty.</p>
<p>Smaller cloud companies welcomed the consultation and asked for the rules to cover
software licences bundled with infrastructure services.</p>
</article><footer>Loopback Wire</footer></body></html>
"""


@pytest.fixture
def celery_worker_env() -> dict[str, str]:
    # The feed below is served on 127.0.0.1, which the fetcher refuses by default.
    return {"FETCH_ALLOW_PRIVATE_NETWORKS": "1"}


@pytest.fixture
def feed_server() -> Iterator[str]:
    """A loopback HTTP server with one RSS feed and its article page; yields its base URL."""
    pages: dict[str, tuple[str, str]] = {}

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802 (http.server's naming)
            content_type, body = pages.get(self.path, ("text/plain", ""))
            payload = body.encode()
            self.send_response(200 if body else 404)
            self.send_header("Content-Type", f"{content_type}; charset=utf-8")
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

        def log_message(self, format: str, *args) -> None:  # noqa: A002
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    base = f"http://127.0.0.1:{server.server_address[1]}"
    pages["/feed.xml"] = ("application/rss+xml", FEED.format(base=base))
    pages["/news/cloud-switching.html"] = ("text/html", PAGE)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield base
    server.shutdown()
    server.server_close()


def wait_for(condition: Callable[[], bool], *, timeout: float = 60) -> bool:
    """Whether ``condition`` became true within ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.2)
    return False


def test_worker_polls_a_source_sent_through_the_broker(celery_worker_process, feed_server):
    source = SourceFactory(url=f"{feed_server}/feed.xml", site_url=f"{feed_server}/")

    source_poll_task.delay(source.pk)

    polled = wait_for(
        lambda: Source.objects.filter(pk=source.pk, last_success_at__isnull=False).exists()
    )

    assert polled, celery_worker_process.log_text()
    article = Article.objects.get(source=source)
    assert article.title == "Regulator opens consultation on cloud switching"
    assert "without exit fees" in article.body_text
    assert article.extraction_status == Article.Extraction.EXTRACTED
    source.refresh_from_db()
    assert source.last_success_at is not None
    assert source.last_error == ""
    assert "source_poll_task" in celery_worker_process.log_text()


def test_task_sent_while_no_worker_runs_waits_in_the_broker(celery_worker_process, feed_server):
    source = SourceFactory(url=f"{feed_server}/feed.xml", site_url=f"{feed_server}/")
    celery_worker_process.kill()

    source_poll_task.delay(source.pk)
    time.sleep(1)
    assert not Article.objects.filter(source=source).exists()
    celery_worker_process.start()

    polled = wait_for(
        lambda: Source.objects.filter(pk=source.pk, last_success_at__isnull=False).exists()
    )

    assert polled, celery_worker_process.log_text()
    assert Article.objects.filter(source=source).count() == 1
