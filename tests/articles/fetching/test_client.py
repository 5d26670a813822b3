import gzip
import ipaddress
import shutil
import socket
import ssl
import subprocess
import threading
import time
import zlib
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from articles.fetching import client as fetching
from articles.fetching.client import fetch
from articles.fetching.errors import (
    BlockedAddressError,
    ConnectError,
    DNSError,
    FetchTimeoutError,
    HTTPStatusError,
    RedirectLoopError,
    ResponseTooLargeError,
    TooManyRedirectsError,
)

FEED = b"<?xml version='1.0'?><rss version='2.0'><channel><title>T</title></channel></rss>"


def test_fetch_returns_body_final_url_and_validators(loopback):
    url = loopback.serve(
        "/feed.xml",
        FEED,
        content_type="application/rss+xml; charset=utf-8",
        etag='"v1"',
        headers={"Last-Modified": "Mon, 01 Jan 2024 00:00:00 GMT"},
    )

    result = fetch(url)

    assert result.status == 200
    assert result.content == FEED
    assert result.url == url
    assert result.etag == '"v1"'
    assert result.last_modified == "Mon, 01 Jan 2024 00:00:00 GMT"
    assert result.content_type == "application/rss+xml"
    assert result.encoding == "utf-8"
    assert result.not_modified is False


def test_fetch_names_the_project_in_the_user_agent(loopback, settings):
    settings.FETCH_USER_AGENT = "DigestBot/9 (+test)"
    fetch(loopback.serve("/ua", b"ok"))

    assert loopback.requests[-1].headers["User-Agent"] == "DigestBot/9 (+test)"


def test_conditional_request_with_matching_etag_is_not_modified(loopback):
    url = loopback.serve("/feed.xml", FEED, etag='"v1"')

    result = fetch(url, etag='"v1"', last_modified="Mon, 01 Jan 2024 00:00:00 GMT")

    sent = loopback.requests[-1].headers
    assert sent["If-None-Match"] == '"v1"'
    assert sent["If-Modified-Since"] == "Mon, 01 Jan 2024 00:00:00 GMT"
    assert result.not_modified is True
    assert result.status == 304
    assert result.content == b""


@pytest.mark.parametrize("status", [404, 500])
def test_error_status_is_a_readable_http_status_error(loopback, status):
    url = loopback.serve("/broken", b"nope", status=status)

    with pytest.raises(HTTPStatusError) as caught:
        fetch(url)

    assert caught.value.status == status
    assert f"HTTP {status}" in str(caught.value)


def test_body_dripping_a_byte_a_second_is_cut_off_by_the_total_timeout(loopback, settings):
    settings.FETCH_TOTAL_TIMEOUT = 1.5

    def drip(request):
        request.send_response(200)
        request.send_header("Content-Length", "100")
        request.end_headers()
        for _ in range(100):
            request.wfile.write(b"x")
            request.wfile.flush()
            time.sleep(1)

    url = loopback.handle("/drip", drip)
    started = time.monotonic()

    with pytest.raises(FetchTimeoutError, match="within 1.5 seconds"):
        fetch(url)

    assert time.monotonic() - started < 6  # undisturbed, the 100-byte drip takes 100 s


def test_headers_dripping_slowly_are_cut_off_by_the_total_timeout(loopback, settings):
    settings.FETCH_TOTAL_TIMEOUT = 1.0

    def drip_headers(request):
        request.wfile.write(b"HTTP/1.1 200 OK\r\n")
        for _ in range(30):
            request.wfile.write(b"X-Slow: 1\r\n")
            request.wfile.flush()
            time.sleep(0.5)

    url = loopback.handle("/slow-headers", drip_headers)
    started = time.monotonic()

    with pytest.raises(FetchTimeoutError):
        fetch(url)

    assert time.monotonic() - started < 5


def test_redirects_are_followed_to_the_final_url(loopback):
    final = loopback.serve("/final", b"done")
    loopback.redirect("/start", "/middle", status=301)
    loopback.redirect("/middle", final, status=307)

    result = fetch(loopback.url("/start"))

    assert result.url == final
    assert result.content == b"done"


def test_redirect_loop_is_refused(loopback):
    loopback.redirect("/a", "/b")
    loopback.redirect("/b", "/a")

    with pytest.raises(RedirectLoopError, match="Redirect loop"):
        fetch(loopback.url("/a"))

    assert loopback.hits("/a") == 1


def test_more_than_five_redirects_are_refused(loopback):
    for hop in range(7):
        loopback.redirect(f"/hop{hop}", f"/hop{hop + 1}")
    loopback.serve("/hop7", b"too far")

    with pytest.raises(TooManyRedirectsError, match="5 hops"):
        fetch(loopback.url("/hop0"))

    assert loopback.hits("/hop6") == 0


def test_five_redirects_are_allowed(loopback):
    for hop in range(5):
        loopback.redirect(f"/hop{hop}", f"/hop{hop + 1}")
    loopback.serve("/hop5", b"arrived")

    assert fetch(loopback.url("/hop0")).content == b"arrived"


def test_redirect_to_the_cloud_metadata_address_is_refused(loopback):
    loopback.redirect("/innocent", "http://169.254.169.254/latest/meta-data/")

    with pytest.raises(
        BlockedAddressError, match=r"169\.254\.169\.254 is a link-local or cloud metadata address"
    ):
        fetch(loopback.url("/innocent"))


def test_loopback_is_refused_unless_private_networks_are_allowed(loopback, settings):
    url = loopback.serve("/feed", b"ok")
    settings.FETCH_ALLOWED_NETWORKS = []

    with pytest.raises(BlockedAddressError, match="loopback"):
        fetch(url)
    assert loopback.requests == []

    settings.FETCH_ALLOW_PRIVATE_NETWORKS = True
    assert fetch(url).content == b"ok"


def test_a_host_name_resolving_to_loopback_is_refused(loopback, settings):
    settings.FETCH_ALLOWED_NETWORKS = []

    with pytest.raises(BlockedAddressError):
        fetch(f"http://localhost:{loopback.port}/")


def test_every_resolved_address_is_checked(monkeypatch, settings):
    monkeypatch.setattr(
        fetching,
        "resolve",
        lambda host, port: [ipaddress.ip_address("8.8.8.8"), ipaddress.ip_address("10.0.0.7")],
    )

    with pytest.raises(BlockedAddressError, match=r"10\.0\.0\.7 is a private address"):
        fetch("http://mixed.example.test/feed")


def test_connection_goes_to_the_checked_address_with_the_original_host_header(
    loopback, monkeypatch
):
    """A second, different DNS answer (rebinding) is never used: one lookup per hop."""
    answers = [ipaddress.ip_address("127.0.0.1"), ipaddress.ip_address("10.9.9.9")]
    lookups = []

    def rebinding_resolver(host, port):
        lookups.append(host)
        return [answers[min(len(lookups) - 1, 1)]]

    monkeypatch.setattr(fetching, "resolve", rebinding_resolver)
    loopback.serve("/feed", b"pinned")

    result = fetch(f"http://news.example.test:{loopback.port}/feed")

    assert result.content == b"pinned"
    assert lookups == ["news.example.test"]
    assert loopback.requests[-1].headers["Host"] == f"news.example.test:{loopback.port}"


def test_unresolvable_host_is_a_dns_error(monkeypatch):
    def fail(host, port):
        raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")

    monkeypatch.setattr(fetching, "resolve", fail)

    with pytest.raises(DNSError, match="Cannot resolve nowhere.example.test"):
        fetch("http://nowhere.example.test/")


def test_closed_port_is_a_connect_error(settings):
    settings.FETCH_ALLOWED_NETWORKS = ["127.0.0.0/8"]
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]

    with pytest.raises(ConnectError, match="Connection failed"):
        fetch(f"http://127.0.0.1:{port}/")


def test_gzip_body_is_decompressed(loopback):
    url = loopback.serve("/gz", gzip.compress(FEED), headers={"Content-Encoding": "gzip"})

    assert fetch(url).content == FEED


@pytest.mark.parametrize("wbits", [zlib.MAX_WBITS, -zlib.MAX_WBITS])
def test_deflate_body_is_decompressed_wrapped_or_raw(loopback, wbits):
    compressor = zlib.compressobj(wbits=wbits)
    body = compressor.compress(FEED) + compressor.flush()
    url = loopback.serve("/deflate", body, headers={"Content-Encoding": "deflate"})

    assert fetch(url).content == FEED


def test_gzip_bomb_is_refused_once_it_inflates_past_the_cap(loopback, settings):
    settings.FETCH_MAX_BYTES = 1024 * 1024
    bomb = gzip.compress(b"\0" * (50 * 1024 * 1024), compresslevel=9)
    assert len(bomb) < 100 * 1024
    url = loopback.serve("/bomb", bomb, headers={"Content-Encoding": "gzip"})

    with pytest.raises(ResponseTooLargeError, match="1,048,576-byte limit"):
        fetch(url)


def test_sixty_megabyte_body_without_length_is_cut_at_the_cap(loopback):
    def huge(request):
        request.send_response(200)
        request.send_header("Content-Type", "application/rss+xml")
        request.end_headers()
        block = b"a" * (1024 * 1024)
        for _ in range(60):
            request.wfile.write(block)

    url = loopback.handle("/huge", huge)

    with pytest.raises(ResponseTooLargeError, match="10,485,760-byte limit"):
        fetch(url)


def test_declared_sixty_megabyte_body_is_refused_before_reading(loopback):
    def declared(request):
        request.send_response(200)
        request.send_header("Content-Length", str(60 * 1024 * 1024))
        request.end_headers()
        request.wfile.write(b"a" * 1024)

    url = loopback.handle("/declared", declared)

    with pytest.raises(ResponseTooLargeError):
        fetch(url)


def test_max_bytes_argument_overrides_the_setting(loopback):
    url = loopback.serve("/small", b"x" * 5000)

    with pytest.raises(ResponseTooLargeError, match="4,096-byte"):
        fetch(url, max_bytes=4096)


# ----------------------------------------------------------------------- https


def _make_certificates(directory: Path) -> tuple[Path, Path, Path]:
    """A throwaway CA and a server certificate for news.example.test, via openssl."""

    def openssl(*args: str) -> None:
        subprocess.run(["openssl", *args], cwd=directory, check=True, capture_output=True)

    openssl(
        "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj", "/CN=Test CA",
        "-keyout", "ca.key", "-out", "ca.pem",
        "-addext", "basicConstraints=critical,CA:TRUE", "-addext", "keyUsage=keyCertSign",
    )  # fmt: skip
    openssl(
        "req", "-newkey", "rsa:2048", "-nodes", "-subj", "/CN=news.example.test",
        "-keyout", "server.key", "-out", "server.csr",
    )  # fmt: skip
    (directory / "san.ext").write_text("subjectAltName=DNS:news.example.test\n")
    openssl(
        "x509", "-req", "-in", "server.csr", "-CA", "ca.pem", "-CAkey", "ca.key",
        "-CAcreateserial", "-days", "2", "-out", "server.pem", "-extfile", "san.ext",
    )  # fmt: skip
    return directory / "ca.pem", directory / "server.pem", directory / "server.key"


@pytest.fixture
def tls_server(tmp_path, settings, monkeypatch):
    if shutil.which("openssl") is None:
        pytest.skip("needs the openssl command")
    ca, certificate, key = _make_certificates(tmp_path)
    seen_hosts = []

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self):  # noqa: N802
            seen_hosts.append(self.headers["Host"])
            self.send_response(200)
            self.send_header("Content-Length", "6")
            self.end_headers()
            self.wfile.write(b"secure")

        def log_message(self, *args):
            pass

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(certificate, key)
    httpd.socket = context.wrap_socket(httpd.socket, server_side=True)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    # Trust only the throwaway CA; make the test names resolve to loopback.
    monkeypatch.setenv("SSL_CERT_FILE", str(ca))
    monkeypatch.setattr(
        fetching, "resolve", lambda host, port: [ipaddress.ip_address("127.0.0.1")]
    )
    settings.FETCH_ALLOWED_NETWORKS = ["127.0.0.0/8"]
    yield httpd.server_address[1], seen_hosts
    httpd.shutdown()
    httpd.server_close()


def test_https_to_a_pinned_address_verifies_the_certificate_for_the_host_name(tls_server):
    port, seen_hosts = tls_server

    result = fetch(f"https://news.example.test:{port}/")

    assert result.content == b"secure"
    assert seen_hosts == [f"news.example.test:{port}"]


def test_https_certificate_for_another_name_is_refused(tls_server):
    port, _seen = tls_server

    with pytest.raises(ConnectError, match="TLS failed"):
        fetch(f"https://other.example.test:{port}/")


def test_slow_name_resolution_is_bounded_by_the_total_timeout(monkeypatch, settings):
    settings.FETCH_TOTAL_TIMEOUT = 0.5

    def hanging_resolver(host, port):
        time.sleep(3)
        return [ipaddress.ip_address("8.8.8.8")]

    monkeypatch.setattr(fetching, "resolve", hanging_resolver)
    started = time.monotonic()

    with pytest.raises(FetchTimeoutError):
        fetch("http://slow-dns.example.test/")

    assert time.monotonic() - started < 2.5
