"""The public issue archive and each issue's web page."""

from __future__ import annotations

import re
from html import unescape

import pytest
from django.template.loader import render_to_string
from django.test import RequestFactory

from newsletters.issue_page import issue_page_context, letter_summary
from newsletters.models import Issue, IssueItem
from newsletters.rendering import render_issue_email
from tests.factories import (
    ArticleFactory,
    EventFactory,
    IssueFactory,
    IssueItemFactory,
)
from tests.reader_world import build_reader_world

pytestmark = pytest.mark.django_db

ISSUE_LIST_QUERIES = 2
ISSUE_PAGE_QUERIES = 4


def text_of(response) -> str:
    return response.content.decode()


def headlines_in(html: str, *candidates: str) -> list[str]:
    """``candidates`` in the order they first appear in ``html``."""
    text = unescape(html)
    found = [(text.find(candidate), candidate) for candidate in candidates]
    return [candidate for position, candidate in sorted(found) if position >= 0]


@pytest.fixture
def sent_issue():
    issue = IssueFactory(
        number=209,
        title="Big Tech on global trial",
        status=Issue.Status.SENT,
        letter="Dear readers,\n\nThis week [the court](/topics/ai/) ruled. **Big** news.",
    )
    # Created out of order on purpose: the page must follow section, then order.
    IssueItemFactory(
        issue=issue, section=IssueItem.Section.READING, order=0, headline="Reading one"
    )
    IssueItemFactory(issue=issue, order=2, headline="Radar second")
    IssueItemFactory(issue=issue, order=1, headline="Radar first")
    IssueItemFactory(
        issue=issue,
        section=IssueItem.Section.EVENTS,
        article=None,
        event=EventFactory(title="Forum on chips"),
        headline="Forum on chips",
        order=0,
    )
    return issue


# ---------------------------------------------------------------- archive


def test_archive_lists_sent_issues_with_number_period_title_and_summary(client):
    world = build_reader_world()
    page = text_of(client.get("/issues/"))
    for issue in world.issues:
        assert f"#{issue.number}" in page
        assert issue.title in page
        assert issue.get_absolute_url() in page
    assert "The letter of issue 1 talks about AI rules." in page
    assert world.draft.title not in page
    latest = world.latest_issue
    assert f"{latest.period_end:%B %Y}" in page
    assert page.index("Issue title 2") < page.index("Issue title 1")


def test_archive_pages_answer_bad_page_numbers(client):
    for number in range(1, 30):
        IssueFactory(number=number, status=Issue.Status.SENT)
    for bad in ("x", "-3", "0", "100000", ""):
        assert client.get("/issues/", {"page": bad}).status_code == 200
    assert "Page 2 of 2" in text_of(client.get("/issues/", {"page": "100000"}))


def test_archive_query_count_is_fixed(client, django_assert_max_num_queries):
    for number in range(1, 60):
        IssueFactory(number=number, status=Issue.Status.SENT)
    with django_assert_max_num_queries(ISSUE_LIST_QUERIES):
        response = client.get("/issues/")
    assert response.status_code == 200


def test_letter_summary_skips_salutation_and_markdown():
    summary = letter_summary("Dear readers,\n\nThe [AI Act](/x/) is **law**.\n\nMore.", words=6)
    assert summary == "The AI Act is law. More."
    assert letter_summary("one two three four", words=2) == "one two …"


def test_archive_links_issue_feeds(client):
    page = text_of(client.get("/issues/"))
    assert 'href="/feeds/issues.rss"' in page
    assert 'href="/feeds/issues.atom"' in page


# ------------------------------------------------------------- issue page


def test_issue_page_shows_sections_and_items_in_email_order(client, sent_issue):
    page = text_of(client.get("/issues/209/"))
    names = ("Radar first", "Radar second", "Reading one", "Forum on chips")
    web_order = headlines_in(page, *names)
    email_order = headlines_in(render_issue_email(issue=sent_issue).html, *names)
    assert web_order == list(names)
    assert web_order == email_order
    sections = headlines_in(
        page, 'id="section-radar"', 'id="section-reading"', 'id="section-events"'
    )
    assert sections == ['id="section-radar"', 'id="section-reading"', 'id="section-events"']


def test_issue_page_shows_letter_period_and_event_times(client, sent_issue):
    page = text_of(client.get("/issues/209/"))
    assert "#209" in page and "Big Tech on global trial" in page
    assert "<strong>Big</strong> news" in page
    assert f"{sent_issue.period_end:%B %Y}" in page
    assert re.search(r"\d\d\.\d\d \w+ \| \d\d\.\d\d UTC", page)


def test_issue_page_escapes_editor_text(client, sent_issue):
    IssueItemFactory(
        issue=sent_issue,
        headline='<img src=x onerror=alert(1)>Chips & "tariffs"',
        blurb="<script>alert(2)</script>Blurb <b>text</b>",
    )
    page = text_of(client.get("/issues/209/"))
    assert "<img src=x" not in page and "onerror" not in page
    assert "alert(2)" not in page
    assert "Chips &amp; &quot;tariffs&quot;" in page
    assert "Blurb text" in page


def test_letter_html_is_sanitised(client):
    IssueFactory(
        number=7,
        status=Issue.Status.SENT,
        letter='Hi <script>alert(1)</script> [x](javascript:alert(2)) <img src=x onerror="y">',
    )
    page = text_of(client.get("/issues/7/"))
    assert "<script>alert(1)" not in page
    assert "javascript:" not in page
    assert "onerror" not in page


def test_unknown_draft_or_odd_issue_numbers_give_404(client, sent_issue):
    IssueFactory(number=300, status=Issue.Status.DRAFT)
    IssueFactory(number=301, status=Issue.Status.SCHEDULED)
    for url in ("/issues/300/", "/issues/301/", "/issues/99999/", "/issues/0/"):
        response = client.get(url)
        assert response.status_code == 404
        assert "We can’t find that page" in text_of(response)
    assert client.get("/issues/abc/").status_code == 404
    assert client.get("/issues/-1/").status_code == 404


def test_issue_page_query_count_is_fixed(client, sent_issue, django_assert_max_num_queries):
    for order in range(40):
        IssueItemFactory(issue=sent_issue, order=10 + order, article=ArticleFactory())
    with django_assert_max_num_queries(ISSUE_PAGE_QUERIES):
        response = client.get("/issues/209/")
    assert response.status_code == 200


def test_issue_page_links_neighbours(client, sent_issue):
    IssueFactory(number=208, status=Issue.Status.SENT, title="Earlier")
    IssueFactory(number=210, status=Issue.Status.DRAFT, title="Not yet")
    page = text_of(client.get("/issues/209/"))
    assert 'rel="prev" href="/issues/208/"' in page
    assert "/issues/210/" not in page


def test_issue_page_context_renders_a_draft_as_preview():
    draft = IssueFactory(number=500, status=Issue.Status.DRAFT, title="Draft title")
    IssueItemFactory(issue=draft, headline="Draft headline")
    request = RequestFactory().get("/admin/preview/")
    html = render_to_string(
        "newsletters/issue_detail.html", issue_page_context(draft), request=request
    )
    assert "Draft headline" in html
    assert "{#" not in html and "comment" not in html
    assert "Preview: this issue is draft and not yet public." in html


def test_issue_page_canonical_url_is_on_site_url(client, sent_issue, settings):
    settings.SITE_URL = "https://digest.example.org"
    page = text_of(client.get("/issues/209/"))
    assert '<link rel="canonical" href="https://digest.example.org/issues/209/">' in page
