"""Feed or page: each field keeps the feed's value unless the page's is recognisably better."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

from articles.cleaning.metadata import choose_author, choose_published_at, choose_title

NOW = datetime(2025, 4, 20, 12, 0, tzinfo=UTC)


def test_feed_title_is_kept_unless_missing_placeholder_or_truncated():
    page = "EU fines Big Tech over data transfers"
    assert choose_title(feed="EU fines three firms", page=page) == "EU fines three firms"
    assert choose_title(feed="", page=page) == page
    assert choose_title(feed="Untitled", page=page) == page
    assert choose_title(feed="EU fines Big Tech over…", page=page) == page
    assert choose_title(feed="EU fines Big Tech over ...", page=page) == page
    # An ellipsis that is not a cut of the page's title is the feed's own wording.
    assert choose_title(feed="Fines... and more fines", page=page) == "Fines... and more fines"
    assert choose_title(feed="Waiting for…", page=page) == "Waiting for…"
    assert choose_title(feed="Feed title", page="") == "Feed title"
    assert choose_title(feed=f"{page} | Policy Wire", page=page) == page
    assert choose_title(feed=f"{page} - The Daily Circuit", page=page) == page
    assert choose_title(feed=f"{page} in 2025", page=page) == f"{page} in 2025"


def test_feed_author_is_kept_unless_an_address_or_a_role():
    assert choose_author(feed="Jane Roe", page="By J. Roe") == "Jane Roe"
    assert choose_author(feed="", page="Jane Roe") == "Jane Roe"
    assert choose_author(feed="news@outlet.example", page="Jane Roe") == "Jane Roe"
    assert choose_author(feed="admin", page="Jane Roe") == "Jane Roe"
    assert choose_author(feed="admin", page="") == "admin"


def test_feed_time_is_kept_unless_missing_or_a_bare_date_the_page_times():
    feed_time = datetime(2025, 4, 18, 10, 0, tzinfo=UTC)
    page_time = datetime(2025, 4, 18, 16, 45, tzinfo=timezone(timedelta(hours=2)))
    bare_date = datetime(2025, 4, 18, 0, 0, tzinfo=UTC)

    assert choose_published_at(feed=feed_time, page=page_time, now=NOW) == feed_time
    assert choose_published_at(feed=None, page=page_time, now=NOW) == page_time
    assert choose_published_at(feed=bare_date, page=page_time, now=NOW) == page_time
    assert choose_published_at(feed=None, page=NOW + timedelta(days=3), now=NOW) == NOW
    assert choose_published_at(feed=None, page=None, now=NOW) == NOW
    # A page time on another day, or a page date without a time (noon), is no better.
    other_day = datetime(2025, 4, 17, 9, 0, tzinfo=UTC)
    assert choose_published_at(feed=bare_date, page=other_day, now=NOW) == bare_date
    page_noon = datetime(2025, 4, 18, 12, 0, tzinfo=UTC)
    assert choose_published_at(feed=bare_date, page=page_noon, now=NOW) == bare_date
