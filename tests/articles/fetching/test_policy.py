"""The fetcher's policy: which schemes and addresses may be fetched."""

import ipaddress

import pytest

from articles.fetching.client import fetch
from articles.fetching.errors import (
    BlockedAddressError,
    SchemeNotAllowedError,
)
from articles.fetching.policy import address_refusal


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
