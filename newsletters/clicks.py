"""Click tracking: signed per-recipient link tokens, the redirect's decision, and counting.

A tracked link is ``/r/<delivery id>.<link id>.<mac>``: the MAC (HMAC-SHA256 under the
secret key, cut to 96 bits) proves the pair came from us. Following it records one
``Click`` per delivery and link (a second click changes nothing) and redirects to the
link's URL. A token that is unsigned, altered or forged still gets its reader to the
URL, but only when it names one of the delivery's issue's own links (``IssueLink``
rows); it records nothing. Anything else is "not found": the redirect never sends
anyone to an address that was not in the issue (no open redirect).

Link scanners (corporate mail filters that fetch every link as a message arrives, and
link-preview bots) are counted apart, never as readers: a HEAD request, a known
scanner's user agent (or none), or a click within ``NEWSLETTER_SCANNER_WINDOW_SECONDS``
of the delivery. No IP address and no user agent is stored.
"""

from __future__ import annotations

import base64
import functools
import hashlib
import hmac
import re
from dataclasses import dataclass
from datetime import datetime

from django.conf import settings
from django.urls import reverse
from django.utils import timezone

from newsletters.models import Click, Delivery, IssueLink, Open

MAC_BYTES = 12
OPEN_LINK_ID = 0  # the pixel's token names link 0
_TOKEN = re.compile(r"(\d{1,12})\.(\d{1,12})(?:\.([A-Za-z0-9_-]{1,40}))?")
# Substrings of the user agents of mail-security scanners and link-preview fetchers.
SCANNER_AGENTS = re.compile(
    r"bot\b|bot/|spider|crawl|scan|preview|barracuda|mimecast|proofpoint|symantec|"
    r"messagelabs|forcepoint|trend ?micro|ironport|cisco|sophos|zscaler|fortinet|"
    r"checkpoint|appriver|python-requests|python-urllib|curl/|wget|go-http-client|"
    r"okhttp|java/|libwww|httpclient|headless|phantomjs|facebookexternalhit|whatsapp|"
    r"slack|discord|telegram|skype",
    re.IGNORECASE,
)


@functools.lru_cache(maxsize=4)
def _key(secret_key: str) -> bytes:
    # A key of its own, so a click MAC is never valid as any other signature.
    return hashlib.sha256(b"newsletters.clicks:" + secret_key.encode()).digest()


def _mac(delivery_id: int, link_id: int) -> str:
    # hmac.digest: OpenSSL's one-shot HMAC, several times faster than hmac.new() per link.
    digest = hmac.digest(_key(settings.SECRET_KEY), f"{delivery_id}.{link_id}".encode(), "sha256")
    return base64.urlsafe_b64encode(digest[:MAC_BYTES]).decode().rstrip("=")


def make_token(*, delivery_id: int, link_id: int) -> str:
    """The signed token for one delivery and link (16 characters plus the two ids)."""
    return f"{delivery_id}.{link_id}.{_mac(delivery_id, link_id)}"


@functools.lru_cache(maxsize=4)
def _site_prefix(site_url: str) -> str:
    return site_url + reverse("clicks:follow", kwargs={"token": "T"}).removesuffix("T")


def click_url(*, delivery_id: int, link_id: int) -> str:
    """The absolute ``/r/<token>`` URL for one delivery and link."""
    return _site_prefix(settings.SITE_URL) + make_token(delivery_id=delivery_id, link_id=link_id)


def click_urls(*, delivery_id: int, link_ids: list[int]) -> list[str]:
    """``click_url`` for each of ``link_ids`` of one delivery, in order (the key, the site
    prefix and the delivery's part worked out once: this runs for every link of every
    message sent)."""
    key = _key(settings.SECRET_KEY)
    prefix = f"{_site_prefix(settings.SITE_URL)}{delivery_id}."
    digest, encode = hmac.digest, base64.urlsafe_b64encode
    urls = []
    for link_id in link_ids:
        mac = digest(key, f"{delivery_id}.{link_id}".encode(), "sha256")[:MAC_BYTES]
        urls.append(f"{prefix}{link_id}.{encode(mac).decode().rstrip('=')}")
    return urls


def open_pixel_url(*, delivery_id: int) -> str:
    """The absolute URL of a delivery's open-tracking pixel."""
    token = make_token(delivery_id=delivery_id, link_id=OPEN_LINK_ID)
    before, after = _around_token("clicks:open", settings.SITE_URL)
    return before + token + after


@functools.lru_cache(maxsize=4)
def _around_token(view_name: str, site_url: str) -> tuple[str, str]:
    # reverse() once: it cost more than the rest of a message's pixel.
    url = site_url + reverse(view_name, kwargs={"token": "TOKEN-SLOT"})
    before, _, after = url.rpartition("TOKEN-SLOT")
    return before, after


@dataclass(frozen=True)
class ClickToken:
    delivery_id: int
    link_id: int
    signed: bool  # the MAC is present and right


def read_token(token: str) -> ClickToken | None:
    """The ids a token names and whether its MAC is right; None if it is not shaped
    like a token at all."""
    match = _TOKEN.fullmatch(token or "")
    if match is None:
        return None
    delivery_id, link_id, mac = int(match[1]), int(match[2]), match[3] or ""
    signed = bool(mac) and hmac.compare_digest(mac, _mac(delivery_id, link_id))
    return ClickToken(delivery_id=delivery_id, link_id=link_id, signed=signed)


def is_scanner(*, method: str, user_agent: str, sent_at: datetime | None, now: datetime) -> bool:
    """True if the request looks like a link scanner rather than a reader."""
    if method.upper() == "HEAD":
        return True
    if not user_agent.strip() or SCANNER_AGENTS.search(user_agent):
        return True
    window = settings.NEWSLETTER_SCANNER_WINDOW_SECONDS
    return sent_at is not None and window > 0 and (now - sent_at).total_seconds() < window


def follow_click(*, token: str, method: str = "GET", user_agent: str = "") -> str | None:
    """Where ``/r/<token>`` goes: the link's URL, or None for "not found".

    A signed token records the click (once per delivery, link and reader-or-scanner).
    Three queries.
    """
    claims = read_token(token)
    if claims is None or claims.link_id == OPEN_LINK_ID:
        return None
    delivery = Delivery.objects.filter(pk=claims.delivery_id).values("issue_id", "sent_at").first()
    if delivery is None:
        return None
    link = (
        IssueLink.objects.filter(pk=claims.link_id, issue_id=delivery["issue_id"])
        .values_list("url", flat=True)
        .first()
    )
    if link is None:
        return None  # not one of this issue's links: never redirect there
    if claims.signed:
        now = timezone.now()
        scanner = is_scanner(
            method=method, user_agent=user_agent, sent_at=delivery["sent_at"], now=now
        )
        _record_once(delivery_id=claims.delivery_id, link_id=claims.link_id, scanner=scanner)
    return link


def _record_once(*, delivery_id: int, link_id: int, scanner: bool) -> None:
    # One INSERT … ON CONFLICT DO NOTHING: a repeat (or a concurrent) click of the same
    # link from the same delivery leaves the first one as it is.
    Click.objects.bulk_create(
        [Click(delivery_id=delivery_id, link_id=link_id, is_scanner=scanner)],
        ignore_conflicts=True,
    )


def record_open(*, token: str) -> bool:
    """Record the first load of a delivery's pixel; True if the token was good."""
    claims = read_token(token)
    if claims is None or not claims.signed or claims.link_id != OPEN_LINK_ID:
        return False
    if not Delivery.objects.filter(pk=claims.delivery_id).exists():
        return False
    Open.objects.bulk_create([Open(delivery_id=claims.delivery_id)], ignore_conflicts=True)
    return True
