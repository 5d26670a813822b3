"""Which URLs and addresses the fetcher may reach.

Only ``http`` and ``https``; only public addresses, unless ``FETCH_ALLOWED_NETWORKS``
names a network or ``FETCH_ALLOW_PRIVATE_NETWORKS`` lifts the check. Link-local and
cloud metadata addresses stay refused whatever that switch says: only a network
named in ``FETCH_ALLOWED_NETWORKS`` opens them.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable
from urllib.parse import urlsplit

from django.conf import settings

from articles.fetching.errors import BlockedAddressError, InvalidURLError, SchemeNotAllowedError

ALLOWED_SCHEMES = ("http", "https")


IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address


# Ranges that ipaddress does not already treat as non-global but that are never a
# legitimate place to fetch news from.
_EXTRA_BLOCKED_NETWORKS = (
    ipaddress.ip_network("100.64.0.0/10"),  # carrier-grade NAT, shared address space
    ipaddress.ip_network("192.0.0.0/24"),  # IETF protocol assignments
    ipaddress.ip_network("198.18.0.0/15"),  # benchmarking
    ipaddress.ip_network("64:ff9b:1::/48"),  # local-use IPv4/IPv6 translation
)


# Where cloud platforms answer with instance credentials: refused even when private
# networks are allowed (a demo or an intranet needs loopback or 10/8, never these).
METADATA_NETWORKS = (
    ipaddress.ip_network("169.254.0.0/16"),  # IPv4 link-local: AWS, GCP, Azure, OCI metadata
    ipaddress.ip_network("fe80::/10"),  # IPv6 link-local
    ipaddress.ip_network("fd00:ec2::254/128"),  # AWS metadata over IPv6
    ipaddress.ip_network("100.100.100.200/32"),  # Alibaba Cloud metadata
    ipaddress.ip_network("168.63.129.16/32"),  # Azure host agent (a public address)
)


def _embedded_ipv4(address: IPAddress) -> IPAddress | None:
    """The IPv4 address carried by an IPv4-mapped, 6to4 or Teredo IPv6 address."""
    if not isinstance(address, ipaddress.IPv6Address):
        return None
    if address.teredo:
        return address.teredo[1]
    return address.ipv4_mapped or address.sixtofour


def metadata_refusal(address: IPAddress) -> str:
    """Why ``address`` is a link-local or metadata address, or "" if it is not one."""
    embedded = _embedded_ipv4(address)
    if embedded is not None:
        reason = metadata_refusal(embedded)
        return f"{reason} (inside {address})" if reason else ""
    for network in METADATA_NETWORKS:
        if address.version == network.version and address in network:
            return f"{address} is a link-local or cloud metadata address"
    return ""


def address_refusal(address: IPAddress) -> str:
    """Why ``address`` must not be fetched from, or "" if it is public.

    IPv4-mapped, 6to4 and Teredo IPv6 addresses are judged by the IPv4 address
    they carry, so ``::ffff:127.0.0.1`` is loopback like ``127.0.0.1``.
    """
    embedded = _embedded_ipv4(address)
    if embedded is not None:
        reason = address_refusal(embedded)
        return f"{reason} (inside {address})" if reason else ""
    checks = (
        ("unspecified", address.is_unspecified),
        ("loopback", address.is_loopback),
        ("link-local", address.is_link_local),
        ("multicast", address.is_multicast),
        ("private", address.is_private),
        ("reserved", address.is_reserved),
        ("shared or special-purpose", any(address in net for net in _EXTRA_BLOCKED_NETWORKS)),
        ("not globally routable", not address.is_global),
    )
    for name, hit in checks:
        if hit:
            return f"{address} is a {name} address"
    return ""


def _allowed_networks() -> list[ipaddress.IPv4Network | ipaddress.IPv6Network]:
    return [
        ipaddress.ip_network(cidr, strict=False)
        for cidr in getattr(settings, "FETCH_ALLOWED_NETWORKS", [])
    ]


def check_addresses(host: str, addresses: Iterable[IPAddress], *, url: str) -> None:
    """Raise BlockedAddressError unless every address may be fetched from.

    An address inside ``FETCH_ALLOWED_NETWORKS`` is always allowed; a link-local or
    metadata address otherwise never is; any other non-public address only with
    ``FETCH_ALLOW_PRIVATE_NETWORKS``.
    """
    allowed = _allowed_networks()
    for address in addresses:
        if any(address.version == net.version and address in net for net in allowed):
            continue
        reason = metadata_refusal(address)
        if not reason and not settings.FETCH_ALLOW_PRIVATE_NETWORKS:
            reason = address_refusal(address)
        if reason:
            raise BlockedAddressError(
                f"Refused to fetch {url}: {host} resolves to {reason}, "
                "and only public addresses may be fetched.",
                url=url,
            )


def split_url(url: str) -> tuple[str, str, int, str]:
    """(scheme, host, port, path-with-query) of an http(s) URL; a FetchError otherwise."""
    try:
        parts = urlsplit(url.strip())
        port = parts.port
    except ValueError as error:
        raise InvalidURLError(f"Cannot fetch {url!r}: {error}.", url=url) from None
    scheme = parts.scheme.lower()
    if scheme not in ALLOWED_SCHEMES:
        shown = scheme or "no scheme"
        raise SchemeNotAllowedError(
            f"Refused to fetch {url}: {shown} URLs are not allowed, only http and https.",
            url=url,
        )
    host = parts.hostname or ""
    if not host:
        raise InvalidURLError(f"Cannot fetch {url}: the URL has no host.", url=url)
    port = port or (443 if scheme == "https" else 80)
    path = parts.path or "/"
    if parts.query:
        path = f"{path}?{parts.query}"
    return scheme, host, port, path
