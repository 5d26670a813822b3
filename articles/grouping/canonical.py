"""Canonical article URLs and outlets: one spelling per story, one name per publisher.

``canonicalize_url`` removes what tracking added to a URL; ``registrable_domain``
names the outlet a host belongs to by the public-suffix list.
"""

from __future__ import annotations

import contextlib
import functools
import ipaddress
from urllib.parse import parse_qsl, quote, unquote, urlencode, urlsplit, urlunsplit

from publicsuffixlist import PublicSuffixList

DEFAULT_PORTS = {"http": 80, "https": 443}

# Query parameters that only say how a reader arrived, never which page it is.
TRACKING_PARAMETERS = frozenset(
    {
        "fbclid",
        "gclid",
        "dclid",
        "gbraid",
        "wbraid",
        "msclkid",
        "yclid",
        "twclid",
        "igshid",
        "mc_cid",
        "mc_eid",
        "_hsenc",
        "_hsmi",
        "mkt_tok",
        "oly_anon_id",
        "oly_enc_id",
        "vero_id",
        "ref_src",
        "cmpid",
        "ito",
    }
)
TRACKING_PREFIXES = ("utm_", "__twitter_impression", "pk_campaign", "pk_kwd")


def _is_tracking(name: str) -> bool:
    lowered = name.lower()
    return lowered in TRACKING_PARAMETERS or lowered.startswith(TRACKING_PREFIXES)


def canonicalize_url(url: str) -> str:
    """The canonical spelling of ``url``.

    Scheme and host are lower-cased, a default port and the fragment dropped,
    tracking parameters (``utm_*``, ``fbclid``, ``gclid``, ``mc_cid`` …) removed,
    an empty path becomes ``/``, and percent-escapes are written one way. The
    order of the remaining query parameters is kept: some sites rely on it.
    Two URLs for the same page give the same string; the result is idempotent.
    """
    parts = urlsplit(url.strip())
    scheme = parts.scheme.lower()
    host = (parts.hostname or "").rstrip(".")
    with contextlib.suppress(UnicodeError):
        host = host.encode("idna").decode("ascii")
    if ":" in host:
        host = f"[{host}]"
    port = None
    with contextlib.suppress(ValueError):
        port = parts.port
    # Credentials in a feed link are never part of the page's identity: dropped.
    netloc = host if port is None or DEFAULT_PORTS.get(scheme) == port else f"{host}:{port}"
    path = quote(unquote(parts.path), safe="/:@!$&'()*+,;=~-._") or "/"
    query_pairs = [
        (name, value)
        for name, value in parse_qsl(parts.query, keep_blank_values=True)
        if not _is_tracking(name)
    ]
    query = urlencode(query_pairs, doseq=True, quote_via=quote, safe="/:@!$'()*,;~-._")
    return urlunsplit((scheme, netloc, path, query, ""))


@functools.cache
def _public_suffixes() -> PublicSuffixList:
    # The list bundled with the package: nothing is downloaded at run time.
    return PublicSuffixList()


def _host_of(host_or_url: str) -> str:
    text = host_or_url.strip()
    if "/" in text:
        try:
            return urlsplit(text if "//" in text else f"//{text}").hostname or ""
        except ValueError:
            return ""
    bare = text.strip("[]")
    with contextlib.suppress(ValueError):
        return str(ipaddress.ip_address(bare))
    if text.startswith("["):  # "[v6]:port"
        return text[1:].split("]", 1)[0]
    return text.rsplit(":", 1)[0] if text.count(":") == 1 else text


def registrable_domain(host_or_url: str) -> str:
    """The outlet that a host name or URL belongs to: its registrable domain.

    ``news.bbc.co.uk`` and ``https://www.bbc.co.uk/x`` give ``bbc.co.uk``, while
    ``theguardian.co.uk`` is another outlet; ``user.github.io`` is its own outlet
    because ``github.io`` is a public suffix. Names are lower-cased and given in
    IDNA (punycode) form. An IP address is its own outlet (``127.0.0.1`` and
    ``127.0.0.2`` are two). A name with no registrable part (``localhost``, a bare
    suffix such as ``co.uk``) is returned as it is; "" when there is no host.
    """
    host = _host_of(host_or_url).lower().rstrip(".")
    if not host:
        return ""
    with contextlib.suppress(ValueError):
        return str(ipaddress.ip_address(host.split("%", 1)[0]))
    with contextlib.suppress(UnicodeError):
        host = host.encode("idna").decode("ascii")
    return _public_suffixes().privatesuffix(host) or host
