"""Reader pages for topics, articles and events: what they show, what they cost, bad input."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.utils import timezone
from icalendar import Calendar

from articles.models import Article
from newsletters.models import Issue
from tests.factories import (
    ArticleFactory,
    IssueItemFactory,
    SourceFactory,
    StoryGroupFactory,
    TopicFactory,
)
from tests.reader_world import build_reader_world

pytestmark = pytest.mark.django_db

# Query budgets per page; each is checked against a world with many rows.
# Issue, letter, events; stories: newest date, the stories, their topics, also-reported.
HOME_QUERIES = 6
TOPIC_LIST_QUERIES = 1
TOPIC_DETAIL_QUERIES = 5
ARTICLE_QUERIES = 5
EVENTS_QUERIES = 3


@pytest.fixture
def world():
    return build_reader_world(articles_per_topic=4)


@pytest.fixture
def big_world():
    return build_reader_world(articles_per_topic=45, issues=6)


def text_of(response) -> str:
    return response.content.decode()


# ------------------------------------------------------------------ home


def test_home_shows_latest_sent_issue_not_the_draft(client, world):
    page = text_of(client.get("/"))
    latest = world.latest_issue
    assert f"#{latest.number}" in page
    assert latest.title in page
    assert "The letter of issue 2 talks about" in page
    assert latest.get_absolute_url() in page
    assert "Unpublished draft" not in page


def test_home_shows_issue_period(client, world):
    latest = world.latest_issue
    page = text_of(client.get("/"))
    assert f"{latest.period_end:%B %Y}" in page
    assert f"{latest.period_end.day} " in page


def test_home_groups_latest_stories_by_topic(client, world):
    page = text_of(client.get("/"))
    for topic in world.topics:
        assert f'id="topic-group-{topic.slug}"' in page
    ai_group = page.split('id="topic-group-ai"')[1].split("</section>")[0]
    assert "Artificial intelligence story 1" in ai_group
    assert "Data protection story 1" not in ai_group


def test_home_without_anything_published_still_answers(client):
    response = client.get("/")
    assert response.status_code == 200
    assert "No stories yet" in text_of(response)


def test_home_query_count_is_fixed(client, big_world, django_assert_max_num_queries):
    with django_assert_max_num_queries(HOME_QUERIES):
        response = client.get("/")
    assert response.status_code == 200


# ---------------------------------------------------------------- topics


def test_topic_index_counts_published_stories(client, world):
    ArticleFactory(topics=[world.topics[0]], published_at=timezone.now() + timedelta(days=2))
    page = text_of(client.get("/topics/"))
    assert re.search(r"Artificial intelligence</a>\s*<span[^>]*>4 stories", page)


def test_topic_index_is_one_query(client, big_world, django_assert_max_num_queries):
    with django_assert_max_num_queries(TOPIC_LIST_QUERIES):
        client.get("/topics/")


def test_topic_page_shows_description_stories_issues_and_chart(client, world):
    page = text_of(client.get("/topics/ai/"))
    assert "Rules for AI." in page
    assert "Artificial intelligence story 0" in page
    assert "Data protection story 0" not in page
    assert "<svg" in page and 'role="img"' in page
    assert '<title id="topic-chart-title">' in page
    assert re.search(r'<div class="visually-hidden">\s*<table>', page)
    issue_numbers = {
        item.issue.number for item in world.items if item.article.topics.filter(slug="ai").exists()
    }
    for number in issue_numbers:
        assert f'href="/issues/{number}/"' in page


def test_topic_page_paginates_and_bad_page_numbers_answer(client, big_world):
    first = text_of(client.get("/topics/ai/"))
    assert "Page 1 of 3" in first
    for bad in ("abc", "0", "-1", "9999", "1e9", "%00"):
        response = client.get("/topics/ai/", {"page": bad})
        assert response.status_code == 200
    assert "Page 3 of 3" in text_of(client.get("/topics/ai/", {"page": "9999"}))
    assert "Page 1 of 3" in text_of(client.get("/topics/ai/", {"page": "abc"}))


def test_topic_page_query_count_is_fixed(client, big_world, django_assert_max_num_queries):
    with django_assert_max_num_queries(TOPIC_DETAIL_QUERIES):
        response = client.get("/topics/ai/", {"page": 2})
    assert response.status_code == 200


def test_unknown_topic_gives_friendly_404(client, world):
    response = client.get("/topics/no-such-topic/")
    assert response.status_code == 404
    assert "We can’t find that page" in text_of(response)


def test_topic_page_links_its_feeds(client, world):
    page = text_of(client.get("/topics/ai/"))
    assert '<link rel="alternate" type="application/rss+xml"' in page
    assert 'href="/feeds/topics/ai.rss"' in page
    assert 'href="/feeds/topics/ai.atom"' in page


# -------------------------------------------------------------- articles


def test_article_page_shows_story_source_topics_tags_and_issue(client, world):
    article = world.items[0].article
    article.image_url = "https://images.example.org/lead.jpg"
    article.save()
    page = text_of(client.get(article.get_absolute_url()))
    assert article.title in page
    assert "Policy Wire" in page or "Tech Ledger" in page
    assert f'href="{article.canonical_url}"' in page
    assert 'src="https://images.example.org/lead.jpg"' in page
    assert "<p>The first paragraph of the story.</p>" in page
    assert "tag-" in page
    assert f"issue #{world.items[0].issue.number}" in page


def test_article_page_does_not_mention_draft_issues(client, world):
    article = world.draft.items.get().article
    page = text_of(client.get(article.get_absolute_url()))
    assert f"issue #{world.draft.number}" not in page


def test_article_body_is_sanitised_again_on_display(client):
    article = ArticleFactory(
        body_html='<p>Fine words</p><script>alert("x")</script><img src=x onerror="alert(1)">'
    )
    page = text_of(client.get(article.get_absolute_url()))
    assert "<p>Fine words</p>" in page
    assert 'alert("x")' not in page
    assert "onerror" not in page


def test_related_stories_put_same_group_first(client):
    topic = TopicFactory()
    group = StoryGroupFactory()
    now = timezone.now()
    article = ArticleFactory(topics=[topic], group=group, published_at=now - timedelta(days=1))
    same_topic_newer = ArticleFactory(topics=[topic], published_at=now - timedelta(hours=1))
    same_group_older = ArticleFactory(group=group, published_at=now - timedelta(days=5))
    unrelated = ArticleFactory(published_at=now - timedelta(hours=2))
    page = text_of(client.get(article.get_absolute_url()))
    related = page.split('id="related-title"')[1]
    assert related.index(same_group_older.title) < related.index(same_topic_newer.title)
    assert unrelated.title not in related


def test_article_with_wrong_slug_redirects_to_its_address(client, world):
    article = world.articles[0]
    response = client.get(f"/articles/{article.pk}-wrong-slug/")
    assert response.status_code == 301
    assert response["Location"] == article.get_absolute_url()


def test_unknown_or_unpublished_article_gives_404(client, world):
    future = ArticleFactory(published_at=timezone.now() + timedelta(days=1))
    assert client.get("/articles/999999-nothing/").status_code == 404
    assert client.get(future.get_absolute_url()).status_code == 404


def test_article_page_query_count_is_fixed(client, big_world, django_assert_max_num_queries):
    article = big_world.items[0].article
    with django_assert_max_num_queries(ARTICLE_QUERIES):
        response = client.get(article.get_absolute_url())
    assert response.status_code == 200


def test_titles_with_markup_are_escaped_everywhere(client, world):
    article = world.articles[1]  # not in a story group, so listed under its own title
    Article.objects.filter(pk=article.pk).update(title='<script>alert("t")</script> Title')
    for url in ("/", "/topics/ai/", article.get_absolute_url()):
        page = text_of(client.get(url))
        assert '<script>alert("t")' not in page
        assert "&lt;script&gt;alert(&quot;t&quot;)" in page


# ------------------------------------------------------------ sharing


def test_pages_carry_canonical_and_social_tags_on_site_url(client, world, settings):
    settings.SITE_URL = "https://digest.example.org"
    article = world.articles[0]
    page = text_of(client.get(article.get_absolute_url()))
    canonical = f"https://digest.example.org{article.get_absolute_url()}"
    assert f'<link rel="canonical" href="{canonical}">' in page
    assert f'<meta property="og:url" content="{canonical}">' in page
    assert '<meta property="og:type" content="article">' in page
    assert f'<meta property="og:title" content="{article.title}">' in page
    assert '<meta name="twitter:card" content="summary_large_image">' in page
    assert 'content="https://digest.example.org/static/img/og-default.png"' in page


def test_canonical_url_drops_unknown_query_parameters(client, world, settings):
    settings.SITE_URL = "https://digest.example.org"
    page = text_of(client.get("/topics/ai/", {"page": "1", "utm_source": "x"}))
    assert '<link rel="canonical" href="https://digest.example.org/topics/ai/">' in page


def test_robots_txt_points_at_sitemap(client, settings):
    settings.SITE_URL = "https://digest.example.org"
    response = client.get("/robots.txt")
    assert response["Content-Type"].startswith("text/plain")
    assert "Sitemap: https://digest.example.org/sitemap.xml" in text_of(response)
    assert "Disallow: /admin/" in text_of(response)


def test_sitemap_lists_articles_topics_and_sent_issues(client, world, settings):
    settings.SITE_URL = "https://digest.example.org"
    index = text_of(client.get("/sitemap.xml"))
    assert "sitemap-articles.xml" in index
    articles = text_of(client.get("/sitemap-articles.xml"))
    assert (
        f"<loc>https://digest.example.org{world.articles[0].get_absolute_url()}</loc>" in articles
    )
    issues = text_of(client.get("/sitemap-issues.xml"))
    assert "<loc>https://digest.example.org/issues/1/</loc>" in issues
    assert f"/issues/{world.draft.number}/" not in issues
    topics = text_of(client.get("/sitemap-topics.xml"))
    assert "<loc>https://digest.example.org/topics/ai/</loc>" in topics


def test_health_check_answers_without_database(client, django_assert_num_queries):
    with django_assert_num_queries(0):
        response = client.get("/healthz")
    assert response.content == b"ok"


# ---------------------------------------------------------------- events


def test_events_page_lists_upcoming_and_past_with_zoned_times(client, world, settings):
    settings.EVENT_DISPLAY_TIME_ZONES = ["America/New_York", "UTC", "Europe/Zurich"]
    page = text_of(client.get("/events/"))
    upcoming, past = page.split('id="past-title"')
    assert "Upcoming AI forum" in upcoming
    assert "Past privacy summit" in past
    assert re.search(r"\d\d\.\d\d E[SD]T \| \d\d\.\d\d UTC \| \d\d\.\d\d CES?T", upcoming)
    assert "(2 h)" in upcoming


def test_events_page_query_count_is_fixed(client, world, django_assert_max_num_queries):
    with django_assert_max_num_queries(EVENTS_QUERIES):
        client.get("/events/", {"page": "nope"})


def test_event_page_offers_calendar_file(client, world):
    event = world.events[0]
    page = text_of(client.get(event.get_absolute_url()))
    assert f'href="/events/{event.pk}/event.ics"' in page
    assert "<p>A discussion on digital policy.</p>" in page
    response = client.get(f"/events/{event.pk}/event.ics")
    assert response["Content-Type"].startswith("text/calendar")
    calendar = Calendar.from_ical(response.content)
    (entry,) = calendar.walk("VEVENT")
    assert str(entry["SUMMARY"]) == "Upcoming AI forum"
    assert entry.decoded("DTSTART") == event.starts_at.replace(microsecond=0)
    assert entry.decoded("DTEND") == event.ends_at.replace(microsecond=0)
    assert str(entry["LOCATION"]) == "Online"


def test_events_calendar_feed_holds_upcoming_and_recent_events(client, world):
    response = client.get("/feeds/events.ics")
    calendar = Calendar.from_ical(response.content)
    titles = {str(entry["SUMMARY"]) for entry in calendar.walk("VEVENT")}
    assert titles == {"Upcoming AI forum", "Past privacy summit"}
    uids = [str(entry["UID"]) for entry in calendar.walk("VEVENT")]
    assert len(set(uids)) == 2


def test_event_page_and_calendar_query_counts_are_fixed(
    client, world, django_assert_max_num_queries
):
    event = world.events[0]
    with django_assert_max_num_queries(2):
        assert client.get(event.get_absolute_url()).status_code == 200
    with django_assert_max_num_queries(2):
        assert client.get("/feeds/events.ics").status_code == 200


def test_sitemap_section_query_count_is_fixed(client, big_world, django_assert_max_num_queries):
    with django_assert_max_num_queries(2):
        assert client.get("/sitemap-articles.xml").status_code == 200


def test_unknown_event_gives_404(client, world):
    assert client.get("/events/999999/").status_code == 404
    assert client.get("/events/999999/event.ics").status_code == 404


# ------------------------------------------------------------ error pages


def test_server_error_gives_friendly_500_page(monkeypatch):
    from django.test import Client

    def broken():
        raise RuntimeError("database on fire")

    monkeypatch.setattr("digest.site.queries.topics_with_counts", broken)
    response = Client(raise_request_exception=False).get("/topics/")
    assert response.status_code == 500
    page = text_of(response)
    assert "Something went wrong on our side" in page
    assert "database on fire" not in page


def test_nothing_but_get_and_head_is_accepted(client, world):
    assert client.post("/topics/ai/").status_code == 405
    assert client.head("/topics/ai/").status_code == 200


def test_draft_issue_article_listing_stays_hidden_from_home(client, world):
    assert Issue.objects.published().count() == 2
    page = text_of(client.get("/"))
    assert f"#{world.draft.number}" not in page


def test_issue_item_for_event_does_not_break_article_page(client, world):
    IssueItemFactory(issue=world.issues[0], article=None, event=world.events[0], order=99)
    article = world.items[0].article
    assert client.get(article.get_absolute_url()).status_code == 200


# ------------------------------------------------------ story groups folded


@pytest.fixture
def reported_twice():
    """One story from two outlets, filed under two topics; one ungrouped story."""
    first_topic = TopicFactory(name="Competition", slug="competition", position=1)
    second_topic = TopicFactory(name="Trade", slug="trade-2", position=2)
    group = StoryGroupFactory()
    now = timezone.now()
    first = ArticleFactory(
        title="Watchdog opens marketplace probe",
        source=SourceFactory(name="Policy Wire"),
        published_at=now - timedelta(hours=5),
        topics=[first_topic, second_topic],
        group=group,
    )
    second = ArticleFactory(
        title="Marketplace faces competition probe",
        source=SourceFactory(name="NetGov Observer"),
        published_at=now - timedelta(hours=2),
        topics=[first_topic, second_topic],
        group=group,
    )
    alone = ArticleFactory(title="Trade pact signed", topics=[second_topic])
    return {"first": first, "second": second, "alone": alone, "topic": first_topic}


def test_home_shows_a_story_once_in_its_first_topic_with_its_other_outlets(client, reported_twice):
    page = text_of(client.get("/"))

    assert page.count("Watchdog opens marketplace probe") == 1
    assert "Marketplace faces competition probe" not in page
    competition = page.split('id="topic-group-competition"')[1].split("</section>")[0]
    assert "Watchdog opens marketplace probe" in competition
    assert re.search(
        r'Also reported by <a href="'
        + re.escape(reported_twice["second"].get_absolute_url())
        + r'">NetGov Observer</a>',
        competition,
    )
    trade = page.split('id="topic-group-trade-2"')[1].split("</section>")[0]
    assert "Trade pact signed" in trade and "Watchdog" not in trade


def test_topic_page_lists_a_story_group_once(client, reported_twice):
    page = text_of(client.get("/topics/competition/"))

    assert page.count("Watchdog opens marketplace probe") == 1
    assert "Marketplace faces competition probe" not in page
    assert "Also reported by" in page and "NetGov Observer</a>" in page


def test_feeds_list_a_story_group_once_with_its_other_outlets(client, reported_twice):
    for url in ("/feeds/articles.rss", "/feeds/topics/competition.atom"):
        feed = client.get(url).content.decode()

        assert feed.count("<title>Watchdog opens marketplace probe</title>") == 1, url
        assert "<title>Marketplace faces competition probe</title>" not in feed, url
        assert "Also reported by" in feed, url


def test_search_results_fold_a_story_group(client, reported_twice):
    page = text_of(client.get("/search/", {"q": "marketplace probe"}))

    titles = re.findall(r'class="story-card__title"><a [^>]+>([^<]+)</a>', page)
    assert len([title for title in titles if "probe" in title]) == 1
    assert "Also reported by" in page


def test_search_dates_are_read_in_the_sites_format(client, reported_twice):
    page = text_of(
        client.get("/search/", {"q": "probe", "from": "1 Jan 2020", "to": "3 Dec 2099"})
    )

    assert 'value="1 Jan 2020"' in page and 'value="3 Dec 2099"' in page
    assert "was not in the form" not in page
    assert 'type="date"' not in page


def test_summaries_show_entities_once_on_cards_and_in_meta_tags(client):
    topic = TopicFactory(name="Law", slug="law")
    article = ArticleFactory(
        title="Borealia law",
        summary="<p>Borealia&#x27;s &amp; its &quot;law&quot;</p>",
        topics=[topic],
    )

    for url in ("/topics/law/", article.get_absolute_url()):
        page = client.get(url).content.decode()
        assert "&amp;#x27;" not in page and "&amp;amp;" not in page and "&amp;quot;" not in page
        assert "Borealia&#x27;s &amp; its &quot;law&quot;" in page, url
