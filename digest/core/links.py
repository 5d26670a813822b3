"""Links: whether a URL is a web address, and absolute links on the site's public address.

Emails, feeds, calendars and meta tags leave the site, so every link in them must be
absolute on ``SITE_URL``; every URL that came from outside must be http(s) with a host
before it is stored, shown or fetched.
"""

from __future__ import annotations

from urllib.parse import urljoin, urlsplit

from django.conf import settings

WEB_SCHEMES = ("http", "https")


def is_web_url(url: str) -> bool:
    """True if ``url`` is an absolute http(s) URL with a host."""
    try:
        parts = urlsplit(url.strip())
        return parts.scheme.lower() in WEB_SCHEMES and bool(parts.hostname)
    except ValueError:  # e.g. an invalid IPv6 literal
        return False


def web_url_or_empty(value: str | None, *, base: str = "") -> str:
    """``value`` resolved against ``base``, if that gives a web URL; "" otherwise."""
    if not value:
        return ""
    try:
        url = urljoin(base, value.strip())
    except ValueError:
        return ""
    return url if is_web_url(url) else ""


def absolute_url(path_or_url: str) -> str:
    """``path_or_url`` made absolute on ``SITE_URL`` if it is a site path ("/…");
    anything else (a full URL, "", "#top") comes back unchanged."""
    if path_or_url.startswith("/") and not path_or_url.startswith("//"):
        return settings.SITE_URL + path_or_url
    return path_or_url
