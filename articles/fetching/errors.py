"""The fetcher's refusals: one FetchError subclass per reason, each with a readable message."""

from __future__ import annotations


class FetchError(Exception):
    """A URL could not be fetched; the message says why in one sentence."""

    def __init__(self, message: str, *, url: str = "") -> None:
        super().__init__(message)
        self.url = url


class SchemeNotAllowedError(FetchError):
    """The URL is not http or https."""


class InvalidURLError(FetchError):
    """The URL cannot be parsed or has no host."""


class BlockedAddressError(FetchError):
    """The host resolves to a private, loopback, link-local or otherwise non-public address."""


class DNSError(FetchError):
    """The host name could not be resolved."""


class ConnectError(FetchError):
    """No connection could be made, or it broke mid-transfer."""


class FetchTimeoutError(FetchError):
    """The connect timeout or the total deadline passed."""


class TooManyRedirectsError(FetchError):
    """More redirects than FETCH_MAX_REDIRECTS."""


class RedirectLoopError(FetchError):
    """A redirect led back to a URL already visited."""


class ResponseTooLargeError(FetchError):
    """The body (after decompression) is larger than the cap."""


class HTTPStatusError(FetchError):
    """The server answered with an error status (4xx or 5xx)."""

    def __init__(self, message: str, *, url: str = "", status: int = 0) -> None:
        super().__init__(message, url=url)
        self.status = status


class ContentEncodingError(FetchError):
    """The body claims gzip or deflate but does not decompress."""
