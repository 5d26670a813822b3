"""A scripted HTTP server on 127.0.0.1 for fetcher and ingestion tests."""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

Handler = Callable[[BaseHTTPRequestHandler], None]


@dataclass
class RecordedRequest:
    path: str
    headers: dict[str, str]


@dataclass
class LoopbackServer:
    """Serves scripted responses by path; records every request it gets."""

    routes: dict[str, Handler] = field(default_factory=dict)
    requests: list[RecordedRequest] = field(default_factory=list)
    port: int = 0

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def serve(
        self,
        path: str,
        body: bytes | str = b"",
        *,
        status: int = 200,
        content_type: str = "text/html; charset=utf-8",
        headers: dict[str, str] | None = None,
        etag: str = "",
    ) -> str:
        """Answer GET ``path`` with this response (304 when If-None-Match equals ``etag``)."""
        payload = body.encode() if isinstance(body, str) else body
        extra = dict(headers or {})

        def respond(request: BaseHTTPRequestHandler) -> None:
            if etag and request.headers.get("If-None-Match") == etag:
                request.send_response(304)
                request.send_header("ETag", etag)
                request.end_headers()
                return
            request.send_response(status)
            if content_type:
                request.send_header("Content-Type", content_type)
            if etag:
                request.send_header("ETag", etag)
            for name, value in extra.items():
                request.send_header(name, value)
            if "Content-Length" not in extra:
                request.send_header("Content-Length", str(len(payload)))
            request.end_headers()
            request.wfile.write(payload)

        self.routes[path] = respond
        return self.url(path)

    def redirect(self, path: str, location: str, *, status: int = 302) -> str:
        return self.serve(path, status=status, headers={"Location": location})

    def handle(self, path: str, handler: Handler) -> str:
        """Answer GET ``path`` by calling ``handler(request)``, which writes everything."""
        self.routes[path] = handler
        return self.url(path)

    def hits(self, path: str) -> int:
        """Requests for ``path``, whatever query string they carried."""
        return sum(1 for request in self.requests if request.path.split("?")[0] == path)


def _make_handler(server: LoopbackServer) -> type[BaseHTTPRequestHandler]:
    class ScriptedHandler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802 (http.server's naming)
            server.requests.append(RecordedRequest(self.path, dict(self.headers.items())))
            handler = server.routes.get(self.path) or server.routes.get(self.path.split("?")[0])
            if handler is None:
                self.send_response(404)
                self.send_header("Content-Type", "text/plain")
                self.send_header("Content-Length", "9")
                self.end_headers()
                self.wfile.write(b"not found")
                return
            # The client may give up mid-response, as the fetcher should on a bad one.
            with contextlib.suppress(BrokenPipeError, ConnectionResetError):
                handler(self)

        def log_message(self, format: str, *args) -> None:  # noqa: A002
            pass

    return ScriptedHandler


@pytest.fixture
def loopback(settings):
    """A running LoopbackServer; the fetcher may reach 127.0.0.0/8 and nothing else private."""
    server = LoopbackServer()
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), _make_handler(server))
    httpd.daemon_threads = True
    server.port = httpd.server_address[1]
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    settings.FETCH_ALLOW_PRIVATE_NETWORKS = False
    settings.FETCH_ALLOWED_NETWORKS = ["127.0.0.0/8"]
    yield server
    httpd.shutdown()
    httpd.server_close()
