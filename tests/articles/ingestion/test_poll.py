import gzip
import threading
import time
from datetime import timedelta
from ipaddress import ip_address

import pytest
from django.utils import timezone

from articles.fetching import client as fetch_client
from articles.fetching import errors as fetch_errors
from articles.fetching.client import FetchResult
from articles.ingestion import poll as ingestion
from articles.ingestion.poll import PollStatus, poll_source
from articles.models import Article, Source
from tests.articles.builders import (
    article_page,
    rss_feed,
    rss_item,
    serve_story_feed,
    story_paragraphs,
)
from tests.factories import ArticleFactory, SourceFactory, TopicFactory

pytestmark = pytest.mark.django_db


def feed_source(url: str, **fields) -> Source:
    return SourceFactory(url=url, site_url="", **fields)


# ------------------------------------------------------------------ the happy path


def test_poll_stores_each_entry_as_an_extracted_article(loopback):
    source = feed_source(serve_story_feed(loopback, "wire", 3, etag='"feed-v1"'))

    result = poll_source(source=source)

    assert result.status == PollStatus.OK
    assert result.new_articles == 3
    articles = Article.objects.filter(source=source).order_by("guid")
    assert [article.guid for article in articles] == ["wire-0", "wire-1", "wire-2"]
    first = articles[0]
    assert first.extraction_status == Article.Extraction.EXTRACTED
    assert first.extraction_error == ""
    assert first.canonical_url == loopback.url("/wire/story-0.html")
    assert story_paragraphs(0)[0][:60] in first.body_text
    assert first.body_html.startswith("<")
    assert first.title.startswith("Story wire 0")
    assert first.published_at is not None
    source.refresh_from_db()
    assert source.etag == '"feed-v1"'
    assert source.last_success_at is not None
    assert source.consecutive_failures == 0
    assert source.poll_started_at is None
    assert source.next_poll_at > timezone.now() + timedelta(minutes=50)


def test_repoll_with_same_etag_parses_nothing(loopback, django_assert_max_num_queries):
    source = feed_source(serve_story_feed(loopback, "wire", 2, etag='"v1"'))
    poll_source(source=source)
    page_hits = loopback.hits("/wire/story-0.html")

    with django_assert_max_num_queries(4):
        result = poll_source(source=source)

    assert result.status == PollStatus.UNCHANGED
    assert loopback.requests[-1].headers["If-None-Match"] == '"v1"'
    assert loopback.hits("/wire/story-0.html") == page_hits
    assert Article.objects.count() == 2


def test_repoll_without_validators_makes_no_second_article_and_fetches_no_page(
    loopback, django_assert_max_num_queries
):
    source = feed_source(serve_story_feed(loopback, "wire", 3))
    poll_source(source=source)

    with django_assert_max_num_queries(8):
        result = poll_source(source=source)

    assert result.status == PollStatus.OK
    assert result.new_articles == 0
    assert Article.objects.count() == 3
    assert loopback.hits("/wire/story-0.html") == 1


def test_queries_per_new_article_are_bounded_whatever_the_number_of_topics(
    loopback, django_assert_max_num_queries
):
    TopicFactory.create_batch(12, keywords="privacy\ndata protection\nregulator")
    source = feed_source(serve_story_feed(loopback, "wire", 5))

    # Claim, keys, bookkeeping, topics and the source's recent boilerplate: 12; each
    # new article (savepoint, sightings, grouping's read, insert, topics, release):
    # 6, and one more on average for an occasional prune, however many topics.
    with django_assert_max_num_queries(12 + 5 * 7):
        result = poll_source(source=source)

    assert result.new_articles == 5


def test_same_story_in_two_feeds_of_one_outlet_is_stored_once(loopback):
    page = loopback.serve("/story.html", article_page("Shared", story_paragraphs(7)))
    loopback.serve(
        "/news.xml",
        rss_feed([rss_item(title="Shared", link=page + "?utm_source=news", guid="n-1")]),
    )
    loopback.serve(
        "/policy.xml",
        rss_feed([rss_item(title="Shared", link=page + "?fbclid=xyz#top", guid="p-1")]),
    )
    first = feed_source(loopback.url("/news.xml"))
    second = feed_source(loopback.url("/policy.xml"))

    assert poll_source(source=first).new_articles == 1
    assert poll_source(source=second).new_articles == 0
    assert Article.objects.count() == 1


def test_guid_seen_in_a_sibling_feed_of_the_same_outlet_is_not_stored_again(loopback):
    loopback.serve("/a.html", article_page("Moved", story_paragraphs(3)))
    loopback.serve("/b.html", article_page("Moved", story_paragraphs(3)))
    loopback.serve(
        "/one.xml",
        rss_feed([rss_item(title="Moved", link=loopback.url("/a.html"), guid="tag:x,1")]),
    )
    loopback.serve(
        "/two.xml",
        rss_feed([rss_item(title="Moved", link=loopback.url("/b.html"), guid="tag:x,1")]),
    )

    poll_source(source=feed_source(loopback.url("/one.xml")))
    poll_source(source=feed_source(loopback.url("/two.xml")))

    assert Article.objects.filter(guid="tag:x,1").count() == 1


@pytest.mark.parametrize(
    ("first_host", "second_host"),
    [("news.bbc.co.uk", "www.theguardian.co.uk"), ("www.smh.com.au", "www.theage.com.au")],
)
def test_same_guid_from_two_publishers_under_one_public_suffix_is_stored_twice(
    loopback, monkeypatch, first_host, second_host
):
    """GUIDs are matched per outlet, and bbc.co.uk and theguardian.co.uk are two outlets."""
    monkeypatch.setattr(fetch_client, "resolve", lambda host, port: [ip_address("127.0.0.1")])
    sources = []
    for name, host in (("first", first_host), ("second", second_host)):
        base = f"http://{host}:{loopback.port}"
        loopback.serve(f"/{name}/1001.html", article_page(f"Story {name}", story_paragraphs(4)))
        loopback.serve(
            f"/{name}.xml",
            rss_feed(
                [rss_item(title=f"Story {name}", link=f"{base}/{name}/1001.html", guid="1001")]
            ),
        )
        sources.append(SourceFactory(url=f"{base}/{name}.xml", site_url=f"{base}/"))

    assert [poll_source(source=source).new_articles for source in sources] == [1, 1]
    assert sorted(Article.objects.values_list("title", flat=True)) == [
        "Story first",
        "Story second",
    ]


def test_duplicate_guids_in_one_feed_make_one_article(loopback):
    loopback.serve("/1.html", article_page("One", story_paragraphs(1)))
    loopback.serve("/2.html", article_page("Two", story_paragraphs(2)))
    loopback.serve(
        "/dupes.xml",
        rss_feed(
            [
                rss_item(title="One", link=loopback.url("/1.html"), guid="same"),
                rss_item(title="Two", link=loopback.url("/2.html"), guid="same"),
            ]
        ),
    )
    source = feed_source(loopback.url("/dupes.xml"))

    result = poll_source(source=source)

    assert result.new_articles == 1
    assert Article.objects.get().title == "One"


def test_entry_without_link_keeps_the_feed_content_and_says_why(loopback):
    loopback.serve(
        "/nolink.xml",
        rss_feed(
            [
                rss_item(
                    title="Statement without a page",
                    guid="statement-1",
                    description="<p>The ministry said the consultation closes in May.</p>",
                )
            ]
        ),
    )
    source = feed_source(loopback.url("/nolink.xml"))

    poll_source(source=source)
    poll_source(source=source)

    article = Article.objects.get()
    assert article.extraction_status == Article.Extraction.FEED_ONLY
    assert "no link" in article.extraction_error
    assert "consultation closes in May" in article.body_text
    assert article.canonical_url.startswith(loopback.url("/nolink.xml") + "#entry-")


def test_entry_without_date_is_dated_when_fetched(loopback):
    loopback.serve("/undated.html", article_page("Undated", story_paragraphs(4)))
    loopback.serve(
        "/undated.xml",
        rss_feed([rss_item(title="Undated", link=loopback.url("/undated.html"), pub_date=None)]),
    )
    before = timezone.now()

    poll_source(source=feed_source(loopback.url("/undated.xml")))

    article = Article.objects.get()
    assert article.published_at >= before - timedelta(seconds=1)
    assert article.date_from_fetch_time is True


def test_entry_with_a_readable_date_is_not_marked_as_dated_by_fetch_time(loopback):
    source = feed_source(serve_story_feed(loopback, "wire", 1))

    poll_source(source=source)

    assert Article.objects.get().date_from_fetch_time is False


def test_items_with_only_a_description_are_stored_once_each(loopback):
    loopback.serve(
        "/bare.xml",
        rss_feed(
            [
                "<item><description>&lt;p&gt;First bare statement.&lt;/p&gt;</description></item>",
                "<item><description>&lt;p&gt;Second bare note.&lt;/p&gt;</description></item>",
            ]
        ),
    )
    source = feed_source(loopback.url("/bare.xml"))

    assert poll_source(source=source).new_articles == 2
    assert poll_source(source=source).new_articles == 0

    texts = sorted(Article.objects.values_list("body_text", flat=True))
    assert texts == ["First bare statement.", "Second bare note."]
    assert all(
        guid.startswith("urn:digest:content:")
        for guid in Article.objects.values_list("guid", flat=True)
    )


def test_every_skipped_entry_is_counted_on_the_source_with_its_reason(loopback):
    loopback.serve("/a.html", article_page("A", story_paragraphs(1)))
    long_link = loopback.url("/" + "x" * 2100)
    loopback.serve(
        "/mixed.xml",
        rss_feed(
            [
                rss_item(title="A", link=loopback.url("/a.html"), guid="a"),
                rss_item(title="A again", link=loopback.url("/a.html"), guid="a"),
                rss_item(title="Too long", link=long_link, guid="long"),
                "<item></item>",
            ]
        ),
    )
    source = feed_source(loopback.url("/mixed.xml"))

    result = poll_source(source=source)

    assert (result.new_articles, result.skipped_entries) == (1, 3)
    source.refresh_from_db()
    assert source.skipped_entries == 3 and source.skipped_entries_total == 3
    assert "no link, GUID, title or content" in source.skip_reasons
    assert "repeats the link or GUID" in source.skip_reasons
    assert "longer than 2000 characters" in source.skip_reasons
    poll_source(source=source)
    source.refresh_from_db()
    assert source.skipped_entries_total == 6


def test_broken_xml_with_readable_entries_is_a_warning_on_the_source(loopback):
    loopback.serve("/ok.html", article_page("Readable", story_paragraphs(2)))
    broken = rss_feed([rss_item(title="Readable", link=loopback.url("/ok.html"), guid="r")])
    loopback.serve("/broken.xml", broken.replace(b"</channel></rss>", b"<item><title>Cut & "))
    source = feed_source(loopback.url("/broken.xml"))

    result = poll_source(source=source)

    assert result.status == PollStatus.OK and result.new_articles == 1
    source.refresh_from_db()
    assert source.last_error == ""
    assert "not well-formed XML" in source.last_warning
    assert "entries were read anyway" in source.last_warning


def test_article_page_that_fails_keeps_the_feed_content_with_the_reason(loopback):
    loopback.serve("/gone.html", b"gone", status=404)
    loopback.serve(
        "/feed.xml",
        rss_feed(
            [
                rss_item(
                    title="Page gone",
                    link=loopback.url("/gone.html"),
                    content="<p>Full text from the feed itself, kept as is.</p>",
                )
            ]
        ),
    )

    poll_source(source=feed_source(loopback.url("/feed.xml")))

    article = Article.objects.get()
    assert article.extraction_status == Article.Extraction.FEED_ONLY
    assert "HTTP 404" in article.extraction_error
    assert "Full text from the feed itself" in article.body_text


def test_entry_linking_to_the_metadata_address_is_never_fetched(loopback):
    loopback.serve(
        "/feed.xml",
        rss_feed(
            [
                rss_item(
                    title="Innocent-looking entry",
                    link="http://169.254.169.254/latest/meta-data/iam/",
                    description="<p>Teaser text from the feed.</p>",
                )
            ]
        ),
    )

    poll_source(source=feed_source(loopback.url("/feed.xml")))

    article = Article.objects.get()
    assert article.extraction_status == Article.Extraction.FEED_ONLY
    assert "169.254.169.254 is a link-local or cloud metadata address" in article.extraction_error
    assert "Teaser text from the feed." in article.body_text


def test_page_without_main_text_keeps_the_feed_content(loopback):
    loopback.serve("/empty.html", b"<html><body><nav>Home</nav></body></html>")
    loopback.serve(
        "/feed.xml",
        rss_feed([rss_item(title="Empty", link=loopback.url("/empty.html"), description="Lead.")]),
    )

    poll_source(source=feed_source(loopback.url("/feed.xml")))

    article = Article.objects.get()
    assert article.extraction_status == Article.Extraction.FEED_ONLY
    assert "could not be extracted" in article.extraction_error


def test_hostile_markup_in_feed_and_page_never_reaches_the_database(loopback):
    hostile_page = article_page(
        "Hostile page",
        story_paragraphs(9),
        extra_body=(
            "<p>Click <a href='javascript:alert(1)'>here</a>"
            "<img src='/x.png' onerror='alert(2)'></p>"
            "<script>alert(3)</script><iframe src='https://evil.example/'></iframe>"
        ),
    )
    loopback.serve("/hostile.html", hostile_page)
    loopback.serve(
        "/feed.xml",
        rss_feed(
            [
                rss_item(
                    title="<script>alert(1)</script>Budget <b onclick='x()'>vote</b>",
                    link=loopback.url("/hostile.html"),
                    description=(
                        "<p onmouseover='steal()'>Sum <a href='javascript:x()'>y</a></p>"
                        "<iframe src='https://evil.example/'></iframe>"
                    ),
                )
            ]
        ),
    )

    poll_source(source=feed_source(loopback.url("/feed.xml")))

    article = Article.objects.get()
    assert article.title == "Budget vote"
    for stored in (article.summary, article.body_html):
        lowered = stored.lower()
        for forbidden in (
            "<script",
            "onclick",
            "onmouseover",
            "onerror",
            "javascript:",
            "<iframe",
        ):
            assert forbidden not in lowered
    assert "alert(3)" not in article.body_text


def test_latin1_feed_without_charset_header_is_read(loopback):
    loopback.serve("/fr.html", article_page("Données", story_paragraphs(5)))
    body = rss_feed(
        [rss_item(title="Données personnelles: amende record", link=loopback.url("/fr.html"))],
        encoding="iso-8859-1",
    )
    loopback.serve("/latin1.xml", body, content_type="application/rss+xml")

    poll_source(source=feed_source(loopback.url("/latin1.xml")))

    assert Article.objects.get().title == "Données personnelles: amende record"


# ------------------------------------------------------------- bad sources


def _drip(request):
    request.send_response(200)
    request.send_header("Content-Length", "1000")
    request.end_headers()
    for _ in range(1000):
        request.wfile.write(b"<")
        request.wfile.flush()
        time.sleep(1)


def _sixty_megabytes(request):
    request.send_response(200)
    request.send_header("Content-Type", "application/rss+xml")
    request.end_headers()
    for _ in range(60):
        request.wfile.write(b" " * (1024 * 1024))


def _serve_bad(server, case: str) -> str:
    if case == "404":
        return server.serve("/bad", b"missing", status=404)
    if case == "500":
        return server.serve("/bad", b"boom", status=500)
    if case == "drip":
        return server.handle("/bad", _drip)
    if case == "redirect-loop":
        server.redirect("/bad", "/bad2")
        return server.redirect("/bad2", "/bad")
    if case == "metadata-redirect":
        return server.redirect("/bad", "http://169.254.169.254/latest/meta-data/")
    if case == "html":
        return server.serve("/bad", b"<!doctype html><html><body><p>Hello</p></body></html>")
    if case == "malformed":
        return server.serve(
            "/bad", b"<rss version='2.0'><channel><item><title>Cut", content_type="text/xml"
        )
    if case == "gzip-bomb":
        bomb = gzip.compress(b"\0" * (12 * 1024 * 1024), compresslevel=9)
        return server.serve("/bad", bomb, headers={"Content-Encoding": "gzip"})
    if case == "sixty-megabytes":
        return server.handle("/bad", _sixty_megabytes)
    raise AssertionError(case)


@pytest.mark.parametrize(
    ("case", "expected_error"),
    [
        ("404", "HTTP 404"),
        ("500", "HTTP 500"),
        ("drip", "Timed out"),
        ("redirect-loop", "Redirect loop"),
        ("metadata-redirect", "169.254.169.254 is a link-local or cloud metadata address"),
        ("html", "is an HTML page, not an RSS or Atom feed"),
        ("malformed", "not well-formed XML"),
        ("gzip-bomb", "10,485,760-byte limit"),
        ("sixty-megabytes", "10,485,760-byte limit"),
    ],
)
def test_bad_source_records_a_clear_error_and_others_still_ingest(
    loopback, settings, case, expected_error
):
    settings.FETCH_TOTAL_TIMEOUT = 1.5
    bad = feed_source(_serve_bad(loopback, case))
    good = feed_source(serve_story_feed(loopback, "good", 2))

    bad_result = poll_source(source=bad)
    good_result = poll_source(source=good)

    assert bad_result.status == PollStatus.FAILED
    assert expected_error in bad_result.error
    bad.refresh_from_db()
    assert expected_error in bad.last_error
    assert bad.consecutive_failures == 1
    assert bad.poll_started_at is None
    assert bad.next_poll_at > timezone.now() + timedelta(hours=1)
    assert not Article.objects.filter(source=bad).exists()
    assert good_result.status == PollStatus.OK
    assert Article.objects.filter(source=good).count() == 2


def test_billion_laughs_feed_is_ingested_without_expansion(loopback):
    loopback.serve("/fine.html", article_page("Fine", story_paragraphs(11)))
    entities = ['<!ENTITY a0 "lol">'] + [
        f'<!ENTITY a{n} "{f"&a{n - 1};" * 10}">' for n in range(1, 10)
    ]
    bomb = (
        '<?xml version="1.0"?><!DOCTYPE rss [' + "".join(entities) + "]>"
        '<rss version="2.0"><channel><title>B</title>'
        f"<item><title>&a9;</title><description>&a9;</description>"
        f"<link>{loopback.url('/fine.html')}</link></item></channel></rss>"
    ).encode()
    source = feed_source(loopback.serve("/bomb.xml", bomb, content_type="application/xml"))

    result = poll_source(source=source)

    assert result.status == PollStatus.OK
    article = Article.objects.get()
    assert "lollol" not in article.title + article.summary
    # The refused expansion leaves a trace on the source, not only in the log.
    source.refresh_from_db()
    assert "not well-formed XML" in source.last_warning


def test_external_entity_feed_does_not_read_local_files(loopback, tmp_path):
    secret = tmp_path / "secret.txt"
    secret.write_text("ROOT-PASSWORD-HASH")
    loopback.serve("/page.html", article_page("Page", story_paragraphs(12)))
    xxe = (
        f'<?xml version="1.0"?><!DOCTYPE rss [<!ENTITY x SYSTEM "file://{secret}">]>'
        '<rss version="2.0"><channel><title>&x;</title>'
        f"<item><title>Leak &x;</title><description>&x;</description>"
        f"<link>{loopback.url('/page.html')}</link></item></channel></rss>"
    ).encode()
    source = feed_source(loopback.serve("/xxe.xml", xxe, content_type="application/xml"))

    poll_source(source=source)

    for article in Article.objects.all():
        assert "ROOT-PASSWORD-HASH" not in article.title + article.summary + article.body_text


# ------------------------------------------------------------- integrity


def test_article_is_stored_complete_or_not_at_all(loopback, monkeypatch):
    source = feed_source(serve_story_feed(loopback, "wire", 3))
    real = ingestion.suggest_topics

    def failing_for_story_one(*, article, topics=None, **options):
        if article.guid == "wire-1":
            raise RuntimeError("classifier crashed")
        return real(article=article, topics=topics, **options)

    monkeypatch.setattr(ingestion, "suggest_topics", failing_for_story_one)

    result = poll_source(source=source)

    assert result.status == PollStatus.OK
    assert result.new_articles == 2
    assert result.skipped_entries == 1
    assert sorted(Article.objects.values_list("guid", flat=True)) == ["wire-0", "wire-2"]


def test_story_stored_concurrently_by_another_poll_is_skipped_quietly(loopback, monkeypatch):
    source = feed_source(serve_story_feed(loopback, "wire", 1))
    real = ingestion.extract_article

    def racing(*, html, url):
        extracted = real(html=html, url=url)
        # Another poll stores the same story while this one is extracting.
        ArticleFactory(canonical_url=url.split("?")[0], guid="other")
        return extracted

    monkeypatch.setattr(ingestion, "extract_article", racing)

    result = poll_source(source=source)

    assert result.status == PollStatus.OK
    assert result.new_articles == 0
    assert Article.objects.count() == 1


def test_slow_article_pages_are_fetched_several_at_a_time(loopback, settings):
    settings.INGEST_PAGE_FETCHES = 4
    items = []
    for number in range(4):
        body = article_page(f"Slow {number}", story_paragraphs(60 + number))

        def slow(request, body=body):
            time.sleep(1)
            request.send_response(200)
            request.send_header("Content-Type", "text/html; charset=utf-8")
            request.send_header("Content-Length", str(len(body)))
            request.end_headers()
            request.wfile.write(body)

        items.append(
            rss_item(title=f"Slow {number}", link=loopback.handle(f"/slow-{number}", slow))
        )
    source = feed_source(loopback.serve("/slow.xml", rss_feed(items)))
    started = time.monotonic()

    result = poll_source(source=source)

    assert result.new_articles == 4
    assert time.monotonic() - started < 3.5  # one at a time: over 4 s


def test_poll_of_a_source_already_being_polled_does_nothing(loopback):
    url = serve_story_feed(loopback, "wire", 1)
    source = feed_source(url, poll_started_at=timezone.now() - timedelta(minutes=1))

    result = poll_source(source=source)

    assert result.status == PollStatus.BUSY
    assert loopback.requests == []


def test_stale_claim_of_a_crashed_poll_is_taken_over(loopback, settings):
    source = feed_source(
        serve_story_feed(loopback, "wire", 1),
        poll_started_at=timezone.now() - settings.SOURCE_POLL_STALE_AFTER - timedelta(minutes=1),
    )

    assert poll_source(source=source).status == PollStatus.OK


def test_success_after_failures_resets_the_count(loopback):
    url = loopback.serve("/flaky.xml", b"down", status=503)
    source = feed_source(url)
    poll_source(source=source)
    Source.objects.filter(pk=source.pk).update(next_poll_at=None)
    source.refresh_from_db()
    assert source.consecutive_failures == 1
    serve_story_feed(loopback, "wire", 1)
    loopback.redirect("/flaky.xml", "/wire/feed.xml")

    poll_source(source=source)

    source.refresh_from_db()
    assert source.consecutive_failures == 0
    assert source.last_error == ""


# ------------------------------------------------------------- other kinds


def test_page_source_is_stored_as_one_article(loopback):
    url = loopback.serve(
        "/speech.html", article_page("Minister's speech", story_paragraphs(21)), etag='"s1"'
    )
    source = feed_source(url, kind=Source.Kind.PAGE)

    first = poll_source(source=source)
    Source.objects.filter(pk=source.pk).update(etag="")
    source.refresh_from_db()
    second = poll_source(source=source)
    third = poll_source(source=source)

    assert first.new_articles == 1
    assert second.new_articles == 0
    assert third.status == PollStatus.UNCHANGED
    article = Article.objects.get()
    assert article.title == "Minister's speech"
    assert article.canonical_url == url


def test_page_source_without_text_fails_with_the_reason(loopback):
    source = feed_source(loopback.serve("/blank.html", b"<html></html>"), kind=Source.Kind.PAGE)

    result = poll_source(source=source)

    assert result.status == PollStatus.FAILED
    assert "page" in result.error.lower()
    assert not Article.objects.exists()


def test_injected_fetch_function_replaces_the_network():
    """The demo command feeds files through this seam; nothing touches a socket."""
    feed_url = "https://demo.example/feed.xml"
    page_url = "https://demo.example/story"
    files = {
        feed_url: rss_feed([rss_item(title="Demo story", link=page_url)]),
        page_url: article_page("Demo story", story_paragraphs(30)),
    }

    def serve_files(url, **kwargs):
        return FetchResult(url=url, status=200, content=files[url])

    result = poll_source(source=feed_source(feed_url), fetch=serve_files)

    assert result.new_articles == 1
    assert Article.objects.get().extraction_status == Article.Extraction.EXTRACTED


def test_unexpected_error_is_recorded_on_the_source(monkeypatch):
    def broken_fetch(url, **kwargs):
        raise ValueError("parser exploded")

    source = feed_source("https://broken.example/feed.xml")

    result = poll_source(source=source, fetch=broken_fetch)

    assert result.status == PollStatus.FAILED
    source.refresh_from_db()
    assert "ValueError" in source.last_error
    assert source.poll_started_at is None


def test_fetch_error_classes_are_source_errors():
    assert issubclass(fetch_errors.BlockedAddressError, fetch_errors.FetchError)
    assert fetch_errors.FetchError in ingestion.SOURCE_ERRORS


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_polls_of_two_feeds_with_the_same_stories_store_each_story_once(loopback):
    from django.db import connection

    pages = [
        loopback.serve(f"/shared-{n}.html", article_page(f"Shared {n}", story_paragraphs(40 + n)))
        for n in range(4)
    ]
    for name in ("left", "right"):
        items = [
            rss_item(title=f"Shared {n}", link=f"{url}?utm_source={name}")
            for n, url in enumerate(pages)
        ]
        loopback.serve(f"/{name}.xml", rss_feed(items))
    sources = [feed_source(loopback.url(f"/{name}.xml")) for name in ("left", "right")]
    barrier = threading.Barrier(2)
    results = []

    def poll(source):
        try:
            barrier.wait()
            results.append(poll_source(source=source))
        finally:
            connection.close()

    threads = [threading.Thread(target=poll, args=(source,)) for source in sources]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert [result.status for result in results] == [PollStatus.OK, PollStatus.OK]
    assert sum(result.new_articles for result in results) == 4
    assert Article.objects.count() == 4
