"""The hostile and odd feeds of tests/data/feeds/, end to end.

Each file is served on loopback and polled with the real ``poll_source`` (the real
fetcher, parser, extractor, sanitiser and grouping); every host name resolves to
127.0.0.1, so nothing leaves the machine. Then the site's pages, feeds and iCal files
are fetched: every one must answer 200 and carry no active content.
"""

from __future__ import annotations

import ipaddress
import re
from datetime import UTC, timedelta
from html.parser import HTMLParser
from pathlib import Path

import feedparser
import pytest
from django.test import Client
from django.utils import timezone
from icalendar import Calendar

from articles.fetching import client as fetch_client
from articles.ingestion.poll import PollStatus, poll_source
from articles.models import Article, Event, Source
from newsletters.models import Issue
from tests.articles.builders import article_page, story_paragraphs
from tests.factories import IssueFactory, IssueItemFactory, TopicFactory

pytestmark = [pytest.mark.django_db, pytest.mark.slow]

FEEDS = Path(__file__).resolve().parent.parent / "data" / "feeds"
FIXTURES = sorted(path for path in FEEDS.iterdir() if path.name != "README.md")
HOSTS = {
    "guid-clash-bbc.rss": "news.bbc.co.uk",
    "guid-clash-guardian.rss": "www.theguardian.co.uk",
    "guid-clash-smh.rss": "www.smh.com.au",
    "guid-clash-theage.rss": "www.theage.com.au",
}
CONTENT_TYPES = {
    ".rss": "application/rss+xml",
    ".rdf": "application/rdf+xml",
    ".atom": "application/atom+xml",
    ".ics": "text/calendar",
    ".html": "text/html; charset=utf-8",
}
# The page every entry links to: an article with the usual attacks inside it.
HOSTILE_PAGE_EXTRA = (
    '<script>alert("page")</script><img src=x onerror="alert(1)">'
    '<a href="javascript:alert(2)">link</a><iframe src="http://169.254.169.254/"></iframe>'
)
# The site draws its own charts as inline SVG: an <svg> is judged by its attributes.
ACTIVE_TAGS = {"script", "iframe", "frame", "object", "embed", "applet", "math", "base"}
URL_ATTRIBUTES = {"href", "src", "action", "formaction", "data", "poster", "srcset", "xlink:href"}
ACTIVE_SCHEMES = ("javascript:", "vbscript:", "data:text/html", "data:image/svg")
META_ATTRIBUTES = {"name", "property", "content", "charset"}


def _schedule() -> dict[str, str]:
    start = (timezone.now() + timedelta(days=3)).astimezone(UTC)
    start = start.replace(hour=9, minute=0, second=0, microsecond=0)
    month = (timezone.now() + timedelta(days=40)).date().replace(day=1)
    return {
        "{{WEEKLY_START}}": f"{start:%Y%m%dT%H%M%SZ}",
        "{{WEEKLY_EXDATE}}": f"{start + timedelta(weeks=2):%Y%m%dT%H%M%SZ}",
        "{{MONTHLY_START}}": f"{month:%Y%m%d}",
        "{{MONTHLY_EXTRA}}": f"{month + timedelta(days=14):%Y%m%d}",
    }


def _fill(content: bytes, *, port: int, values: dict[str, str]) -> bytes:
    replacements = {"{{BASE}}": f"http://127.0.0.1:{port}", "{{PORT}}": str(port), **values}
    for placeholder, value in replacements.items():
        content = content.replace(placeholder.encode(), value.encode())
    return content


def _serve_pages(loopback, content: bytes) -> None:
    """Serve a hostile article page at every loopback page the feed links to."""
    pattern = rf"//[a-z0-9.-]+:{loopback.port}(/[^\s<>\"'?#&]*\.html)".encode()
    for number, path in enumerate(sorted(set(re.findall(pattern, content)))):
        if len(path) < 1900:
            page = article_page(
                f"Story {number}", story_paragraphs(number), extra_body=HOSTILE_PAGE_EXTRA
            )
            loopback.serve(path.decode(), page)


@pytest.fixture
def hostile_world(loopback, monkeypatch):
    """Every fixture polled once; returns {file name: (source, poll result)}."""
    monkeypatch.setattr(
        fetch_client, "resolve", lambda host, port: [ipaddress.ip_address("127.0.0.1")]
    )
    TopicFactory(
        name="Data protection", slug="data-protection", keywords="data\nprivacy\nregulator"
    )
    TopicFactory(name="Cyber <b>security</b>\x01", slug="cyber", keywords="cyber\nencryption")
    values = _schedule()
    polled = {}
    for path in FIXTURES:
        content = _fill(path.read_bytes(), port=loopback.port, values=values)
        host = HOSTS.get(path.name, "127.0.0.1")
        if path.suffix != ".ics":
            _serve_pages(loopback, content)
        url = loopback.serve(
            f"/feeds/{path.name}", content, content_type=CONTENT_TYPES[path.suffix]
        )
        url = url.replace("127.0.0.1", host, 1)
        kind = Source.Kind.ICAL if path.suffix == ".ics" else Source.Kind.FEED
        source = Source.objects.create(
            name=path.stem, url=url, site_url=url.rsplit("/", 2)[0] + "/", kind=kind
        )
        polled[path.name] = (source, poll_source(source=source))
    return polled


class _Tags(HTMLParser):
    """Every start tag with its attributes, as a browser would see them."""

    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str]]] = []

    def handle_starttag(self, tag, attrs) -> None:
        self.tags.append((tag, {name: value or "" for name, value in attrs}))


def _assert_no_active_content(url: str, body: str) -> None:
    parser = _Tags()
    parser.feed(body)
    for tag, attributes in parser.tags:
        where = f"{url}: <{tag} {attributes}>"
        assert tag not in ACTIVE_TAGS, where
        assert not [name for name in attributes if name.startswith("on")], where
        for name in URL_ATTRIBUTES & set(attributes):
            value = re.sub(r"\s", "", attributes[name]).lower()
            assert not value.startswith(ACTIVE_SCHEMES), where
        assert "expression(" not in attributes.get("style", "").lower(), where
        if tag == "meta":
            # A quote that broke out of content="…" would add attributes here.
            assert set(attributes) <= META_ATTRIBUTES, where


def _site_urls() -> list[str]:
    urls = [
        "/",
        "/topics/",
        "/events/",
        "/issues/",
        "/search/?q=data",
        "/search/?q=%22%3E%3Cscript%3E",
    ]
    urls += [f"/topics/{slug}/" for slug in ("data-protection", "cyber")]
    urls += [article.get_absolute_url() for article in Article.objects.all()]
    urls += [event.get_absolute_url() for event in Event.objects.all()]
    urls += [f"/issues/{issue.number}/" for issue in Issue.objects.all()]
    return urls


def _feed_urls() -> list[str]:
    urls = [
        "/feeds/articles.rss",
        "/feeds/articles.atom",
        "/feeds/issues.rss",
        "/feeds/issues.atom",
    ]
    urls += [
        f"/feeds/topics/{slug}.{kind}"
        for slug in ("data-protection", "cyber")
        for kind in ("rss", "atom")
    ]
    return urls


def _ical_urls() -> list[str]:
    return ["/feeds/events.ics"] + [
        f"/events/{event.pk}/event.ics" for event in Event.objects.all()
    ]


def test_there_are_at_least_thirty_fixtures():
    assert len(FIXTURES) >= 30


def test_hostile_feeds_are_ingested_and_the_site_stays_safe(hostile_world):
    results = {name: result for name, (_source, result) in hostile_world.items()}
    sources = {name: source for name, (source, _result) in hostile_world.items()}
    for source in sources.values():
        source.refresh_from_db()

    # Only the page that is not a feed fails, with a clear error; nothing raised.
    failed = {
        name: result.error for name, result in results.items() if result.status != PollStatus.OK
    }
    assert list(failed) == ["html-not-a-feed.html"]
    assert "is an HTML page, not an RSS or Atom feed" in failed["html-not-a-feed.html"]

    # Control characters never reach the database.
    forbidden = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")
    for article in Article.objects.all():
        for value in (
            article.title,
            article.summary,
            article.body_html,
            article.body_text,
            article.author,
            article.guid,
        ):
            assert not forbidden.search(value), (article.source.name, value[:80])
    assert Article.objects.filter(title__startswith="alphaamp;omega").exists()

    # Items with only a description, only a title, only content: all kept.
    assert Article.objects.filter(source=sources["only-description.rss"]).count() == 3
    assert Article.objects.filter(source=sources["only-title.rss"]).count() == 2
    assert Article.objects.filter(source=sources["atom-no-links.atom"]).count() == 2

    # Skipped entries are counted on the source, with their reasons.
    empty = sources["empty-items.rss"]
    assert (empty.skipped_entries, Article.objects.filter(source=empty).count()) == (3, 1)
    assert "no link, GUID, title or content" in empty.skip_reasons
    assert sources["huge-values.rss"].skipped_entries == 1
    assert "repeats the link or GUID" in sources["duplicate-guids.rss"].skip_reasons

    # Broken XML that was still read leaves a warning; so does the entity bomb.
    for name in ("broken-xml-readable.rss", "entity-bomb.rss", "control-chars-raw.rss"):
        assert "not well-formed XML" in sources[name].last_warning, name
    assert Article.objects.filter(source=sources["broken-xml-readable.rss"]).count() >= 2
    assert not Article.objects.filter(body_text__contains="lollollol").exists()
    assert not Article.objects.filter(body_text__contains="root:").exists()

    # One GUID, four publishers under two public suffixes: four articles.
    clashing = Article.objects.filter(guid="article-1001")
    assert clashing.count() == 4

    # Undeclared legacy encodings are decoded.
    titles = set(Article.objects.values_list("title", flat=True))
    assert "Регулятор оштрафовал платформу за утечку данных пользователей" in titles
    assert "개인정보보호위원회가 대형 플랫폼에 과징금을 부과했다고 밝혔다" in titles
    for name in (path.name for path in FIXTURES if path.name.startswith("undeclared-")):
        article = Article.objects.get(source=sources[name])
        assert not re.search("[ÃÐÑÂ¤¦]", article.title), (name, article.title)

    # Undatable entries are marked, dated ones are not.
    undated = Article.objects.filter(source=sources["undatable.rss"])
    assert undated.count() == 3 and all(article.date_from_fetch_time for article in undated)
    assert not Article.objects.get(source=sources["rss1-rdf.rdf"]).date_from_fetch_time

    # Recurring events are expanded; the excluded week and the every-second rule are not.
    weekly = Event.objects.filter(uid__startswith="weekly-briefing@hostile.example/")
    assert weekly.count() == 7
    assert not Event.objects.filter(uid__startswith="every-second@").exists()
    assert Event.objects.filter(uid__startswith="monthly-forum@hostile.example/").count() >= 5
    assert not Event.objects.filter(title="Cancelled").exists()

    # An issue that carries some of these stories, with a hostile letter.
    issue = IssueFactory(
        number=77,
        status=Issue.Status.SENT,
        title='Hostile " onmouseover="alert(1)',
        letter='Dear readers, " http-equiv="refresh" content="0;url=javascript:alert(1)" x="',
    )
    for article in Article.objects.order_by("pk")[:6]:
        IssueItemFactory(
            issue=issue, article=article, headline=article.title[:300], blurb=article.summary[:500]
        )

    client = Client()
    for url in _site_urls():
        response = client.get(url)
        assert response.status_code == 200, url
        _assert_no_active_content(url, response.content.decode())
    for url in _feed_urls():
        response = client.get(url)
        assert response.status_code == 200, url
        parsed = feedparser.parse(response.content)
        assert not parsed.bozo, (url, parsed.get("bozo_exception"))
        for entry in parsed.entries:
            _assert_no_active_content(url, entry.get("summary", "") + entry.get("title", ""))
            for content in entry.get("content", []):
                _assert_no_active_content(url, content.value)
    for url in _ical_urls():
        response = client.get(url)
        assert response.status_code == 200, url
        calendar = Calendar.from_ical(response.content)
        lines = response.content.split(b"\r\n")
        assert all(len(line) <= 75 for line in lines), url
        names = {
            line.split(b":", 1)[0].split(b";", 1)[0]
            for line in lines
            if line and not line.startswith(b" ")
        }
        assert not names & {b"ATTENDEE", b"X-EVIL"}, url
        for event in calendar.walk("VEVENT"):
            assert not forbidden.search(str(event.get("SUMMARY", ""))), url
            # Only plain TEXT goes out (RFC 5545): no HTML alternative a client would render.
            assert "X-ALT-DESC" not in event, url
