"""Helpers every reader view shares: canonical links and pagination."""

from __future__ import annotations

from django.conf import settings
from django.core.paginator import Page, Paginator
from django.http import HttpRequest

ARTICLES_PER_PAGE = 20


def canonical_url(request: HttpRequest, *, keep_page: bool = True) -> str:
    """The page's address on the public site (SITE_URL), keeping only ``?page=`` if asked."""
    url = settings.SITE_URL + request.path
    page = request.GET.get("page", "")
    if keep_page and page.isdigit() and page != "1":
        url += f"?page={page}"
    return url


def paginate(request: HttpRequest, items, per_page: int) -> Page:
    """The requested page; a missing, non-numeric or out-of-range number gives first or last."""
    return Paginator(items, per_page).get_page(request.GET.get("page"))
