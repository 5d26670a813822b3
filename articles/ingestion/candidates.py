"""Which feed entries are new: one key per entry (canonical URL, GUID matched per outlet)."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass

from articles.grouping.canonical import canonicalize_url, registrable_domain
from articles.ingestion import feed_parsing as feeds
from articles.models import Article, Source

MAX_URL_LENGTH = 2000


# Lookups of existing keys go in chunks well under every database's parameter limit.
LOOKUP_CHUNK = 500


@dataclass
class Candidate:
    """A feed entry not yet stored, with the keys it will be stored under."""

    entry: feeds.FeedEntry
    canonical_url: str
    guid: str


def _same_outlet_source_ids(source: Source) -> list[int]:
    """Sources of the same outlet as ``source`` (same registrable domain), itself included."""
    outlet = {registrable_domain(source.url), registrable_domain(source.site_url)} - {""}
    return [
        pk
        for pk, url, site_url in Source.objects.values_list("pk", "url", "site_url")
        if pk == source.pk or outlet & {registrable_domain(url), registrable_domain(site_url)}
    ]


def _chunks(values: list[str]) -> Iterable[list[str]]:
    for start in range(0, len(values), LOOKUP_CHUNK):
        yield values[start : start + LOOKUP_CHUNK]


def _entry_key_url(source: Source, entry: feeds.FeedEntry) -> str:
    if entry.link:
        return canonicalize_url(entry.link)
    # No link: a stable address inside the source's site, unique per entry.
    identity = entry.guid or f"{entry.title}\n{entry.summary_html}"
    digest = hashlib.sha256(identity.encode()).hexdigest()[:20]
    base = canonicalize_url(source.site_url or source.url)
    return f"{base}#entry-{digest}"


def new_candidates(
    source: Source, entries: list[feeds.FeedEntry]
) -> tuple[list[Candidate], list[str]]:
    """Entries not yet stored, each once; and why each unusable entry was skipped."""
    candidates: list[Candidate] = []
    seen: set[str] = set()
    skipped: list[str] = []
    for entry in entries:
        canonical = _entry_key_url(source, entry)
        guid = entry.guid or entry.link
        if len(canonical) > MAX_URL_LENGTH:
            skipped.append(f"The entry's link is longer than {MAX_URL_LENGTH} characters.")
            continue
        # Duplicate GUIDs or links inside one feed: the first entry wins.
        keys = {f"url:{canonical}"} | ({f"guid:{guid}"} if guid else set())
        if keys & seen:
            skipped.append("The entry repeats the link or GUID of an earlier entry in the feed.")
            continue
        seen |= keys
        candidates.append(Candidate(entry=entry, canonical_url=canonical, guid=guid))
    if not candidates:
        return [], skipped

    urls = [candidate.canonical_url for candidate in candidates]
    guids = [candidate.guid for candidate in candidates if candidate.guid]
    known_urls: set[str] = set()
    for chunk in _chunks(urls):
        known_urls.update(
            Article.objects.filter(canonical_url__in=chunk).values_list("canonical_url", flat=True)
        )
    known_guids: set[str] = set()
    if guids:
        outlet_ids = _same_outlet_source_ids(source)
        for chunk in _chunks(guids):
            known_guids.update(
                Article.objects.filter(source_id__in=outlet_ids, guid__in=chunk).values_list(
                    "guid", flat=True
                )
            )
    fresh = [
        candidate
        for candidate in candidates
        if candidate.canonical_url not in known_urls and candidate.guid not in known_guids
    ]
    return fresh, skipped
