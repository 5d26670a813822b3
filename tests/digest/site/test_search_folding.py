"""Search folds story groups inside the search, on every backend: a story is one result,
counts and pages are of stories, two reports of one story never land on two pages."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.utils import timezone

from digest.site import search_sqlite
from digest.site.search import SORT_NEWEST, SORT_RELEVANCE, SearchFilters, search_page
from digest.site.views import search as search_view
from tests.factories import ArticleFactory, SourceFactory, StoryGroupFactory

pytestmark = pytest.mark.django_db

GROUPS = 6
ALONE = 4
STORIES = GROUPS + ALONE


@pytest.fixture
def interleaved():
    """Six stories reported twice, the two reports seven hours apart (so newest first
    they would sit on different pages of three), and four stories reported once."""
    now = timezone.now()
    outlets = [SourceFactory(name="Policy Wire"), SourceFactory(name="NetGov Observer")]
    story_of = {}
    for number in range(GROUPS):
        group = StoryGroupFactory()
        for report, hours in enumerate((number, number + 7)):
            article = ArticleFactory(
                title=f"Tariff ruling {number} as told by outlet {report}",
                body_text="The tariff ruling was handed down today." + " More." * report,
                source=outlets[report],
                group=group,
                published_at=now - timedelta(hours=hours, minutes=1),
            )
            story_of[article.pk] = f"group {number}"
    for number in range(ALONE):
        article = ArticleFactory(
            title=f"Tariff note {number}",
            body_text="A tariff note.",
            published_at=now - timedelta(hours=3 + 2 * number, minutes=30),
        )
        story_of[article.pk] = f"alone {number}"
    return story_of


def all_pages(query: str, sort: str, per_page: int = 3) -> tuple[list[list[int]], int]:
    first = search_page(filters=SearchFilters(query=query, sort=sort), per_page=per_page)
    pages = [[article.pk for article in first]]
    for number in range(2, first.paginator.num_pages + 1):
        page = search_page(
            filters=SearchFilters(query=query, sort=sort), page_number=number, per_page=per_page
        )
        pages.append([article.pk for article in page])
    return pages, first.paginator.count


def without_full_text(monkeypatch):
    monkeypatch.setattr(search_sqlite, "fts_available", lambda: False)


@pytest.mark.parametrize("sort", [SORT_NEWEST, SORT_RELEVANCE])
@pytest.mark.parametrize("backend", ["database", "plain"])
def test_each_story_appears_once_on_one_page_and_counts_are_of_stories(
    interleaved, monkeypatch, is_postgres, sort, backend
):
    if backend == "plain":
        if is_postgres:
            pytest.skip("the plain fallback is SQLite without FTS5")
        without_full_text(monkeypatch)
    pages, count = all_pages("tariff", sort)

    shown = [interleaved[pk] for page in pages for pk in page]
    assert count == STORIES
    assert len(pages) == 4  # ten stories, three a page (sixteen articles would be six)
    assert sorted(shown) == sorted(set(interleaved.values()))  # each story once, none lost


def test_a_story_sits_where_its_newest_report_would_newest_first(interleaved):
    pages, _count = all_pages("tariff", SORT_NEWEST, per_page=20)
    (page,) = pages
    order = [interleaved[pk] for pk in page]

    # The newer reports are 0..5 hours old and the notes 3.5, 5.5, 7.5, 9.5 hours.
    assert order[:4] == ["group 0", "group 1", "group 2", "group 3"]
    assert order[4:] == ["alone 0", "group 4", "group 5", "alone 1", "alone 2", "alone 3"]


def test_the_no_query_listing_folds_too(interleaved):
    page = search_page(
        filters=SearchFilters(date_from=timezone.localdate() - timedelta(days=2)), per_page=50
    )

    assert page.paginator.count == STORIES
    assert sorted(interleaved[article.pk] for article in page) == sorted(set(interleaved.values()))


def test_search_page_shows_the_other_outlet_and_names_pages_by_sort(
    client, interleaved, monkeypatch
):
    monkeypatch.setattr(search_view, "SEARCH_RESULTS_PER_PAGE", 3)
    best = client.get("/search/", {"q": "tariff", "page": 2}).content.decode()
    newest = client.get("/search/", {"q": "tariff", "sort": "newest", "page": 2}).content.decode()

    assert "Also reported by" in best
    assert "10 results" in best
    assert "← Previous</a>" in best and "Next →</a>" in best
    assert "Newer" not in best and "Older" not in best
    assert "← Newer</a>" in newest and "Older →</a>" in newest


def test_a_results_other_outlets_are_one_each_oldest_first_published_only(client):
    """On every backend (PostgreSQL's page rows bring them, the others' view adds them):
    the story's other outlets, one report each, oldest first, never the result's own
    outlet again, never a report not yet published; names escaped."""
    now = timezone.now()
    group = StoryGroupFactory()
    own, first, second, later = (
        SourceFactory(name="Policy Wire"),
        SourceFactory(name="Tom & Jerry's <Daily>"),
        SourceFactory(name="NetGov Observer"),
        SourceFactory(name="Tomorrow Times"),
    )
    for source, hours, title in (
        (own, 1, "Spectrum ruling explained"),
        (own, 9, "Spectrum ruling: a first look"),
        (second, 5, "Spectrum judges rule"),
        (first, 7, "Spectrum case decided"),
        (first, 6, "Spectrum case, the reactions"),
        (later, -5, "Spectrum ruling, a week on"),  # scheduled: not published yet
    ):
        ArticleFactory(
            title=title,
            body_text="The spectrum ruling came down today.",
            source=source,
            group=group,
            published_at=now - timedelta(hours=hours),
        )
    page = client.get("/search/", {"q": "spectrum", "sort": "newest"}).content.decode()

    assert "1 result" in page
    also = page.split('class="story-card__also">')[1].split("</p>")[0]
    assert re.findall(r">([^<]+)</a>", also) == [
        "Tom &amp; Jerry&#x27;s &lt;Daily&gt;",
        "NetGov Observer",
    ]
    assert "Spectrum ruling explained" in page  # the newest report is the result
    assert "a week on" not in page
