"""The ingestion pipeline: poll one source and store what is new in it.

``poll_source`` is the one entry point (tasks, the ``ingest`` command and the
demo all call it). For a feed it fetches the feed conditionally, parses it,
and for each entry not yet stored fetches the article page, extracts the
text, strips boilerplate, and stores the article complete in one
transaction together with its story group and suggested topics. An article
is keyed by its canonical URL (across all sources) and its GUID (across the
feeds of the same outlet), so neither a re-poll nor the same story in two
feeds of one outlet makes a second row; a concurrent insert of the same
story loses on the unique constraint and is skipped.
"""

from __future__ import annotations

import hashlib
import logging
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from articles.cleaning.extraction import ExtractedArticle, ExtractionError, extract_article
from articles.cleaning.metadata import choose_author, choose_published_at, choose_title
from articles.cleaning.sanitising import html_to_text
from articles.cleaning.trailers import RecentBodies, clean_body
from articles.fetching import client as fetching
from articles.fetching.errors import FetchError
from articles.grouping.canonical import canonicalize_url, registrable_domain
from articles.grouping.classify import source_default_topic_ids, suggest_topics
from articles.grouping.dedupe import assign_story_group
from articles.ingestion import calendar_import as calendars
from articles.ingestion import feed_parsing as feeds
from articles.ingestion import scheduling
from articles.models import Article, Source, Topic

logger = logging.getLogger(__name__)

Fetch = Callable[..., fetching.FetchResult]

HTML_ACCEPT = "text/html, application/xhtml+xml;q=0.9, */*;q=0.5"
FEED_ACCEPT = fetching.DEFAULT_ACCEPT
ICAL_ACCEPT = "text/calendar, */*;q=0.5"
MAX_URL_LENGTH = 2000
# Lookups of existing keys go in chunks well under every database's parameter limit.
LOOKUP_CHUNK = 500
# Errors a single source can cause: recorded on the source, never raised to the caller.
SOURCE_ERRORS = (FetchError, feeds.FeedError, calendars.CalendarError, ExtractionError)


class PollStatus:
    OK = "ok"
    UNCHANGED = "unchanged"
    FAILED = "failed"
    BUSY = "busy"


@dataclass
class PollResult:
    status: str
    """ok, unchanged (304), failed (``error`` says why) or busy (another poll holds it)."""
    new_articles: int = 0
    new_events: int = 0
    skipped_entries: int = 0
    """Entries that could not be stored (no link, GUID or title; URL too long; a bug)."""
    error: str = ""


# ------------------------------------------------------------------- entry


def poll_source(*, source: Source, fetch: Fetch | None = None) -> PollResult:
    """Poll ``source`` once and store what is new; never raises for a bad source.

    ``fetch`` defaults to the safe fetcher; the demo and tests pass a callable
    with the same signature. The source's poll state is updated either way:
    on success failures reset and ETag/Last-Modified are kept; on failure the
    readable error is stored and the next poll backs off. If another poll of
    the source holds the claim, nothing is fetched and the status is ``busy``.
    """
    fetch = fetch or fetching.fetch
    if not scheduling.claim_source(source_id=source.pk):
        return PollResult(status=PollStatus.BUSY, error="Another poll of this source is running.")
    source.refresh_from_db()
    try:
        result = _poll_claimed(source=source, fetch=fetch)
    except SOURCE_ERRORS as error:
        message = str(error)
        logger.info("Poll of %s failed: %s", source, message)
        scheduling.record_failure(source=source, error=message)
        return PollResult(status=PollStatus.FAILED, error=message)
    except Exception as error:  # one broken source must never stop the others
        logger.exception("Poll of %s failed unexpectedly", source)
        message = f"Unexpected error ({type(error).__name__}): {error}"
        scheduling.record_failure(source=source, error=message)
        return PollResult(status=PollStatus.FAILED, error=message)
    except BaseException:
        scheduling.release_claim(source=source)
        raise
    return result


def _poll_claimed(*, source: Source, fetch: Fetch) -> PollResult:
    accept = {Source.Kind.ICAL: ICAL_ACCEPT, Source.Kind.PAGE: HTML_ACCEPT}.get(
        source.kind, FEED_ACCEPT
    )
    response = fetch(
        source.url,
        etag=source.etag or None,
        last_modified=source.last_modified or None,
        accept=accept,
    )
    if response.not_modified:
        scheduling.record_success(
            source=source,
            etag=response.etag or source.etag,
            last_modified=response.last_modified or source.last_modified,
        )
        return PollResult(status=PollStatus.UNCHANGED)

    if source.kind == Source.Kind.ICAL:
        outcome = PollResult(
            status=PollStatus.OK,
            new_events=calendars.ingest_calendar(source=source, content=response.content),
        )
    elif source.kind == Source.Kind.PAGE:
        outcome = PollResult(
            status=PollStatus.OK, new_articles=_ingest_page(source=source, page=response)
        )
    else:
        outcome = _ingest_feed(source=source, response=response, fetch=fetch)
    scheduling.record_success(
        source=source, etag=response.etag, last_modified=response.last_modified
    )
    return outcome


# -------------------------------------------------------------------- feeds


@dataclass
class _Candidate:
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


def _new_candidates(
    source: Source, entries: list[feeds.FeedEntry]
) -> tuple[list[_Candidate], int]:
    """Entries not yet stored, each once; and how many had to be skipped as unusable."""
    candidates: list[_Candidate] = []
    seen: set[str] = set()
    skipped = 0
    for entry in entries:
        canonical = _entry_key_url(source, entry)
        guid = entry.guid or entry.link
        if len(canonical) > MAX_URL_LENGTH:
            skipped += 1
            continue
        # Duplicate GUIDs or links inside one feed: the first entry wins.
        keys = {f"url:{canonical}"} | ({f"guid:{guid}"} if guid else set())
        if keys & seen:
            continue
        seen |= keys
        candidates.append(_Candidate(entry=entry, canonical_url=canonical, guid=guid))
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


def _ingest_feed(*, source: Source, response: fetching.FetchResult, fetch: Fetch) -> PollResult:
    parsed = feeds.parse_feed(
        response.content,
        url=response.url,
        content_type=response.headers.get("content-type", response.content_type),
    )
    if parsed.warning:
        logger.info("Feed %s is ill-formed but readable: %s", source, parsed.warning)
    candidates, skipped = _new_candidates(source, parsed.entries)
    topics = list(Topic.objects.all()) if candidates else []
    default_topic_ids = source_default_topic_ids(source.pk) if candidates else set()
    # The source's recent boilerplate sightings, read once for the whole feed.
    recent = RecentBodies(source)
    new_articles = 0
    for candidate, page, problem in _prefetched_pages(candidates, fetch=fetch):
        try:
            article = _store_entry(
                source=source,
                candidate=candidate,
                page=page,
                problem=problem,
                topics=topics,
                default_topic_ids=default_topic_ids,
                recent=recent,
            )
        except Exception:  # one bad entry must not lose the rest of the feed
            logger.exception("Could not store entry %s of %s", candidate.canonical_url, source)
            skipped += 1
            continue
        if article is not None:
            new_articles += 1
    return PollResult(status=PollStatus.OK, new_articles=new_articles, skipped_entries=skipped)


NO_LINK = "The feed entry has no link; the feed's own content was kept."


def _fetch_page(url: str, *, fetch: Fetch) -> tuple[fetching.FetchResult | None, str]:
    """The article page, or None and why it could not be fetched."""
    try:
        return fetch(url, accept=HTML_ACCEPT), ""
    except FetchError as error:
        return None, f"The article page could not be fetched: {error}"
    except Exception as error:  # an injected fetch may fail in its own way
        logger.exception("Fetching %s failed unexpectedly", url)
        return None, f"The article page could not be fetched ({type(error).__name__})."


def _prefetched_pages(
    candidates: list[_Candidate], *, fetch: Fetch
) -> Iterator[tuple[_Candidate, fetching.FetchResult | None, str]]:
    """Each candidate in order with its fetched page (or why there is none).

    Pages are fetched ``INGEST_PAGE_FETCHES`` at a time in threads, a few entries
    ahead of the caller, so a feed of slow pages costs about one page's latency per
    batch rather than per page; memory stays bounded by the window. Only fetching
    runs in threads: extraction (trafilatura is not thread-safe) and the database
    stay with the caller.
    """
    workers = settings.INGEST_PAGE_FETCHES
    window = 2 * workers
    remaining = iter(candidates)
    pending: deque[tuple[_Candidate, Future | None]] = deque()
    pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="page-fetch")

    def submit_next() -> None:
        candidate = next(remaining, None)
        if candidate is not None:
            link = candidate.entry.link
            future = pool.submit(_fetch_page, link, fetch=fetch) if link else None
            pending.append((candidate, future))

    try:
        for _ in range(window):
            submit_next()
        while pending:
            candidate, future = pending.popleft()
            submit_next()
            page, problem = future.result() if future is not None else (None, NO_LINK)
            yield candidate, page, problem
    finally:
        pool.shutdown(wait=False, cancel_futures=True)


def _fallback_title(text: str, url: str) -> str:
    words = text.split()
    if words:
        title = " ".join(words[:12])
        return title + ("…" if len(words) > 12 else "")
    return url


def _store_entry(
    *,
    source: Source,
    candidate: _Candidate,
    page: fetching.FetchResult | None,
    problem: str,
    topics: list[Topic],
    default_topic_ids: set[int] | None = None,
    recent: RecentBodies | None = None,
) -> Article | None:
    """Extract one entry's fetched page, then store the article complete (see
    _save_complete); None if a concurrent poll stored the same story first."""
    entry = candidate.entry
    extracted: ExtractedArticle | None = None
    if page is not None:
        try:
            extracted = extract_article(html=page.content, url=page.url)
        except ExtractionError as error:
            problem = f"The article page could not be extracted: {error}"
    feed_html = entry.content_html or entry.summary_html
    if extracted is not None:
        body_html, status = extracted.body_html, Article.Extraction.EXTRACTED
    elif feed_html:
        body_html, status = feed_html, Article.Extraction.FEED_ONLY
    else:
        body_html, status = "", Article.Extraction.FAILED
        problem = f"{problem} The feed has no content for it either."

    now = timezone.now()
    article = Article(
        source=source,
        canonical_url=candidate.canonical_url,
        guid=candidate.guid[:1000],
        title=choose_title(feed=entry.title, page=extracted.title if extracted else "")[:500],
        summary=entry.summary_html,
        image_url=((extracted.image_url if extracted else "") or entry.image_url)[:2000],
        author=choose_author(feed=entry.author, page=extracted.author if extracted else "")[:300],
        published_at=_published_at(entry.published_at, extracted, now),
        fetched_at=now,
        language=(extracted.language if extracted else "")[:20],
        extraction_status=status,
        extraction_error=problem,
    )
    return _save_complete(
        article,
        body_html=body_html,
        topics=topics,
        default_topic_ids=default_topic_ids,
        recent=recent,
    )


def _published_at(
    feed_date: datetime | None, extracted: ExtractedArticle | None, now: datetime
) -> datetime:
    page_date = extracted.published_at if extracted else None
    return choose_published_at(feed=feed_date, page=page_date, now=now)


def _save_complete(
    article: Article,
    *,
    body_html: str,
    topics: list[Topic] | None = None,
    default_topic_ids: set[int] | None = None,
    recent: RecentBodies | None = None,
) -> Article | None:
    """Clean the body, then insert the article with its story group and suggested topics,
    all in one transaction: the row is stored complete or not at all."""
    try:
        with transaction.atomic():
            cleaned = clean_body(source=article.source, body_html=body_html, recent=recent)
            article.body_html = cleaned.html
            article.body_text = cleaned.text or html_to_text(cleaned.html)
            if not article.title:
                article.title = _fallback_title(article.body_text, article.canonical_url)[:500]
            # Signed and grouped before the insert, so the insert writes both.
            assign_story_group(article=article)
            article.save()
            suggest_topics(
                article=article, topics=topics, default_topic_ids=default_topic_ids, fresh=True
            )
    except IntegrityError:
        # The same canonical URL or GUID was stored meanwhile (a concurrent poll).
        logger.info("Article %s already stored; skipped", article.canonical_url)
        if recent is not None:
            recent.discard_last()
        return None
    except BaseException:
        # Rolled back: the body's sightings were never stored, so they must not count.
        if recent is not None:
            recent.discard_last()
        raise
    return article


# -------------------------------------------------------------------- pages


def _ingest_page(*, source: Source, page: fetching.FetchResult) -> int:
    """A page source is one article: store it once (0 if already stored)."""
    canonical = canonicalize_url(page.url)
    if Article.objects.filter(canonical_url=canonical).exists():
        return 0
    extracted = extract_article(html=page.content, url=page.url)
    now = timezone.now()
    article = Article(
        source=source,
        canonical_url=canonical[:MAX_URL_LENGTH],
        guid="",
        title=extracted.title[:500],
        image_url=extracted.image_url,
        author=extracted.author,
        published_at=_published_at(None, extracted, now),
        fetched_at=now,
        language=extracted.language,
        extraction_status=Article.Extraction.EXTRACTED,
    )
    return 1 if _save_complete(article, body_html=extracted.body_html) is not None else 0
