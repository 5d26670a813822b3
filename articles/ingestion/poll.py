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

import logging
from collections import deque
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
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
from articles.grouping.canonical import canonicalize_url
from articles.grouping.classify import source_default_topic_ids, suggest_topics
from articles.grouping.dedupe import assign_story_group
from articles.ingestion import calendar_import as calendars
from articles.ingestion import feed_parsing as feeds
from articles.ingestion import scheduling
from articles.ingestion.candidates import MAX_URL_LENGTH, Candidate, new_candidates
from articles.models import Article, Source, Topic

logger = logging.getLogger(__name__)

Fetch = Callable[..., fetching.FetchResult]

HTML_ACCEPT = "text/html, application/xhtml+xml;q=0.9, */*;q=0.5"
FEED_ACCEPT = fetching.DEFAULT_ACCEPT
ICAL_ACCEPT = "text/calendar, */*;q=0.5"
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
    """Entries that could not be stored (no content at all, URL too long, repeated, a bug)."""
    skip_reasons: list[str] = field(default_factory=list)
    """One reason per skipped entry."""
    warning: str = ""
    """What was wrong with a feed that was still read (ill-formed XML)."""
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
        source=source,
        etag=response.etag,
        last_modified=response.last_modified,
        warning=outcome.warning,
        skip_reasons=outcome.skip_reasons,
    )
    return outcome


# -------------------------------------------------------------------- feeds


def _ingest_feed(*, source: Source, response: fetching.FetchResult, fetch: Fetch) -> PollResult:
    parsed = feeds.parse_feed(
        response.content,
        url=response.url,
        content_type=response.headers.get("content-type", response.content_type),
    )
    if parsed.warning:
        logger.info("Feed %s is ill-formed but readable: %s", source, parsed.warning)
    candidates, skipped = new_candidates(source, parsed.entries)
    skipped = parsed.skipped + skipped
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
        except Exception as error:  # one bad entry must not lose the rest of the feed
            logger.exception("Could not store entry %s of %s", candidate.canonical_url, source)
            skipped.append(f"Storing the entry failed ({type(error).__name__}: {error}).")
            continue
        if article is not None:
            new_articles += 1
    warning = ""
    if parsed.warning:
        warning = (
            f"The feed is not well-formed XML; {len(parsed.entries)} entries were read "
            f"anyway. The parser said: {parsed.warning}"
        )
    return PollResult(
        status=PollStatus.OK,
        new_articles=new_articles,
        skipped_entries=len(skipped),
        skip_reasons=skipped,
        warning=warning,
    )


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
    candidates: list[Candidate], *, fetch: Fetch
) -> Iterator[tuple[Candidate, fetching.FetchResult | None, str]]:
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
    pending: deque[tuple[Candidate, Future | None]] = deque()
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
    candidate: Candidate,
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
    published_at, date_from_fetch_time = _published_at(entry.published_at, extracted, now)
    article = Article(
        source=source,
        canonical_url=candidate.canonical_url,
        guid=candidate.guid[:1000],
        title=choose_title(feed=entry.title, page=extracted.title if extracted else "")[:500],
        summary=entry.summary_html,
        image_url=((extracted.image_url if extracted else "") or entry.image_url)[:2000],
        author=choose_author(feed=entry.author, page=extracted.author if extracted else "")[:300],
        published_at=published_at,
        date_from_fetch_time=date_from_fetch_time,
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
) -> tuple[datetime, bool]:
    """The article's date, and whether it is only the fetch time (no readable date)."""
    page_date = extracted.published_at if extracted else None
    usable_page = page_date is not None and page_date <= now
    moment = choose_published_at(feed=feed_date, page=page_date, now=now)
    return moment, feed_date is None and not usable_page


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
    published_at, date_from_fetch_time = _published_at(None, extracted, now)
    article = Article(
        source=source,
        canonical_url=canonical[:MAX_URL_LENGTH],
        guid="",
        title=extracted.title[:500],
        image_url=extracted.image_url,
        author=extracted.author,
        published_at=published_at,
        date_from_fetch_time=date_from_fetch_time,
        fetched_at=now,
        language=extracted.language,
        extraction_status=Article.Extraction.EXTRACTED,
    )
    return 1 if _save_complete(article, body_html=extracted.body_html) is not None else 0
