"""The fetcher's policy: which schemes and addresses may be fetched."""

import ipaddress

import pytest

from articles.fetching import client as fetch_client
from articles.fetching.client import fetch
from articles.fetching.errors import (
    BlockedAddressError,
    SchemeNotAllowedError,
)
from articles.fetching.policy import address_refusal, check_addresses


@pytest.mark.parametrize(
    "url", ["file:///etc/passwd", "ftp://example.org/feed", "gopher://x/", "javascript:alert(1)"]
)
def test_only_http_and_https_are_fetched(url):
    with pytest.raises(SchemeNotAllowedError, match="only http and https"):
        fetch(url)


@pytest.mark.parametrize(
    "address",
    [
        "10.0.0.1",
        "172.16.5.4",
        "192.168.1.1",
        "127.0.0.1",
        "169.254.169.254",
        "224.0.0.1",
        "0.0.0.0",
        "100.64.0.1",
        "240.0.0.1",
        "255.255.255.255",
        "::1",
        "::",
        "fe80::1",
        "fc00::1",
        "ff02::1",
        "::ffff:127.0.0.1",
        "::ffff:169.254.169.254",
        "2002:7f00:1::",  # 6to4 wrapping 127.0.0.1
    ],
)
def test_non_public_addresses_are_refused(address):
    assert address_refusal(ipaddress.ip_address(address))


@pytest.mark.parametrize("address", ["93.184.216.34", "2606:4700:4700::1111", "::ffff:8.8.8.8"])
def test_public_addresses_are_allowed(address):
    assert address_refusal(ipaddress.ip_address(address)) == ""


@pytest.mark.parametrize(
    "url",
    ["http://2130706433/", "http://0x7f000001/", "http://127.1/", "http://[::ffff:127.0.0.1]/"],
)
def test_obfuscated_spellings_of_loopback_are_refused(url):
    with pytest.raises(BlockedAddressError):
        fetch(url)


@pytest.fixture
def loopback_only(monkeypatch):
    """Fail the test, without connecting, if the fetcher ever tries a non-loopback address."""
    original = fetch_client._PinnedMixin._connect_pinned

    def guarded(self, address, timeout=None, source_address=None):
        outside = [ip for ip in self.pinned_addresses if not ip.is_loopback]
        assert not outside, f"the fetcher tried to connect to {outside}"
        return original(self, address, timeout, source_address)

    monkeypatch.setattr(fetch_client._PinnedMixin, "_connect_pinned", guarded)


METADATA_URLS = [
    "http://169.254.169.254/latest/meta-data/",
    "http://169.254.170.2/v2/credentials",
    "http://[fd00:ec2::254]/latest/meta-data/",
    "http://[fe80::1]/",
    "http://[::ffff:169.254.169.254]/",
    "http://100.100.100.200/latest/meta-data/",
]


@pytest.mark.parametrize("url", METADATA_URLS)
def test_metadata_addresses_are_refused_even_when_private_networks_are_allowed(
    url, settings, loopback_only
):
    settings.FETCH_ALLOW_PRIVATE_NETWORKS = True
    settings.FETCH_ALLOWED_NETWORKS = []

    with pytest.raises(BlockedAddressError, match="link-local or cloud metadata"):
        fetch(url)


def test_redirect_to_metadata_is_refused_with_private_networks_allowed(
    loopback, settings, loopback_only
):
    settings.FETCH_ALLOW_PRIVATE_NETWORKS = True
    loopback.redirect("/innocent", "http://169.254.169.254/latest/meta-data/")

    with pytest.raises(BlockedAddressError, match=r"169\.254\.169\.254"):
        fetch(loopback.url("/innocent"))
    assert [request.path for request in loopback.requests] == ["/innocent"]


def test_private_networks_switch_still_allows_loopback_and_intranets(settings):
    settings.FETCH_ALLOW_PRIVATE_NETWORKS = True
    settings.FETCH_ALLOWED_NETWORKS = []

    check_addresses("intranet", [ipaddress.ip_address("10.1.2.3")], url="http://intranet/")
    check_addresses("localhost", [ipaddress.ip_address("127.0.0.1")], url="http://localhost/")


def test_only_an_explicitly_allowed_network_opens_a_metadata_address(settings):
    """Checked without connecting: the policy alone decides."""
    address = ipaddress.ip_address("169.254.169.254")
    settings.FETCH_ALLOW_PRIVATE_NETWORKS = True
    settings.FETCH_ALLOWED_NETWORKS = ["169.254.169.254/32"]

    check_addresses("metadata", [address], url="http://169.254.169.254/")

    settings.FETCH_ALLOWED_NETWORKS = ["10.0.0.0/8"]
    with pytest.raises(BlockedAddressError):
        check_addresses("metadata", [address], url="http://169.254.169.254/")
