"""Click tokens, the redirect's decision and the counting: signed, unsigned, altered and
not-an-issue-link tokens; one click per delivery and link; scanners counted apart."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from newsletters.clicks import (
    follow_click,
    is_scanner,
    make_token,
    read_token,
    record_open,
)
from newsletters.models import Click, Delivery, IssueLink, Open
from tests.factories import DeliveryFactory, IssueFactory

pytestmark = pytest.mark.django_db

BROWSER = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 Chrome/120.0 Safari/537.36"


@pytest.fixture
def sent():
    """A delivery sent a minute ago, and two links of its issue."""
    delivery = DeliveryFactory(
        status=Delivery.Status.SENT, sent_at=timezone.now() - timedelta(minutes=1)
    )
    story = IssueLink.objects.create(issue=delivery.issue, url="https://news.example.org/a/")
    other = IssueLink.objects.create(issue=delivery.issue, url="https://news.example.org/b/")
    return delivery, story, other


def test_a_signed_token_redirects_and_records_one_click(sent):
    delivery, story, _ = sent
    token = make_token(delivery_id=delivery.pk, link_id=story.pk)
    assert follow_click(token=token, user_agent=BROWSER) == "https://news.example.org/a/"
    assert follow_click(token=token, user_agent=BROWSER) == "https://news.example.org/a/"
    click = Click.objects.get()
    assert (click.delivery_id, click.link_id, click.is_scanner) == (delivery.pk, story.pk, False)


def test_two_links_of_one_delivery_are_two_clicks(sent):
    delivery, story, other = sent
    for link in (story, other):
        follow_click(
            token=make_token(delivery_id=delivery.pk, link_id=link.pk), user_agent=BROWSER
        )
    assert Click.objects.filter(delivery=delivery).count() == 2


def test_an_unsigned_token_still_gets_the_issue_link_but_records_nothing(sent):
    delivery, story, _ = sent
    assert follow_click(token=f"{delivery.pk}.{story.pk}", user_agent=BROWSER) == story.url
    assert not Click.objects.exists()


def test_an_altered_token_gets_the_issue_link_but_records_nothing(sent):
    delivery, story, other = sent
    token = make_token(delivery_id=delivery.pk, link_id=story.pk)
    mac = token.rsplit(".", 1)[1]
    # The link id swapped for the issue's other link: the MAC no longer matches.
    altered = f"{delivery.pk}.{other.pk}.{mac}"
    assert read_token(altered).signed is False
    assert follow_click(token=altered, user_agent=BROWSER) == other.url
    # A flipped character in the MAC.
    flipped = token[:-1] + ("A" if token[-1] != "A" else "B")
    assert follow_click(token=flipped, user_agent=BROWSER) == story.url
    assert not Click.objects.exists()


def test_a_link_of_another_issue_is_not_found_even_signed(sent):
    delivery, _, _ = sent
    elsewhere = IssueLink.objects.create(issue=IssueFactory(), url="https://evil.example/")
    forged = f"{delivery.pk}.{elsewhere.pk}"
    assert follow_click(token=forged, user_agent=BROWSER) is None
    # Even a correctly signed pair is refused when the link is not the delivery's issue's.
    signed = make_token(delivery_id=delivery.pk, link_id=elsewhere.pk)
    assert follow_click(token=signed, user_agent=BROWSER) is None
    assert not Click.objects.exists()


@pytest.mark.parametrize(
    "token",
    ["", "abc", "1.2.3.4", "https://evil.example/", "999999.1", "1.999999.x", "1.0.abc"],
)
def test_tokens_that_name_nothing_are_not_found(sent, token):
    assert follow_click(token=token, user_agent=BROWSER) is None


@pytest.mark.parametrize(
    ("method", "agent", "age", "scanner"),
    [
        ("GET", BROWSER, 600, False),
        ("HEAD", BROWSER, 600, True),
        ("GET", "", 600, True),
        ("GET", "Mozilla/5.0 (compatible; BarracudaCentral)", 600, True),
        ("GET", "Mimecast-URL-Protect/1.0", 600, True),
        ("GET", "python-requests/2.31", 600, True),
        ("GET", "Mozilla/5.0 (compatible; bingbot/2.0)", 600, True),
        ("GET", BROWSER, 2, True),  # seconds after delivery: a mail filter, not a reader
    ],
)
def test_scanner_rule(method, agent, age, scanner, settings):
    settings.NEWSLETTER_SCANNER_WINDOW_SECONDS = 10
    now = timezone.now()
    sent_at = now - timedelta(seconds=age)
    assert is_scanner(method=method, user_agent=agent, sent_at=sent_at, now=now) is scanner


def test_scanner_and_reader_clicks_of_one_link_are_counted_apart(sent):
    delivery, story, _ = sent
    token = make_token(delivery_id=delivery.pk, link_id=story.pk)
    follow_click(token=token, method="HEAD", user_agent=BROWSER)
    follow_click(token=token, user_agent="Proofpoint URL Defense")
    follow_click(token=token, user_agent=BROWSER)
    assert sorted(Click.objects.values_list("is_scanner", flat=True)) == [False, True]


def test_queries_per_click(sent, django_assert_max_num_queries):
    delivery, story, _ = sent
    token = make_token(delivery_id=delivery.pk, link_id=story.pk)
    with django_assert_max_num_queries(3):  # the delivery, the link, one insert
        follow_click(token=token, user_agent=BROWSER)


def test_the_open_pixel_records_once_and_only_signed(sent):
    delivery, _, _ = sent
    token = make_token(delivery_id=delivery.pk, link_id=0)
    assert record_open(token=token) and record_open(token=token)
    assert Open.objects.filter(delivery=delivery).count() == 1
    assert record_open(token=f"{delivery.pk}.0") is False
    # A pixel token is no click token.
    assert follow_click(token=token, user_agent=BROWSER) is None


def test_click_urls_of_a_delivery_are_its_click_url_per_link():
    from newsletters.clicks import click_url, click_urls

    assert click_urls(delivery_id=42, link_ids=[3, 17, 5]) == [
        click_url(delivery_id=42, link_id=link_id) for link_id in (3, 17, 5)
    ]


def test_open_pixel_url_is_the_open_views_address_for_the_token(settings):
    from django.urls import reverse

    from newsletters.clicks import open_pixel_url

    settings.SITE_URL = "http://127.0.0.1:8000"
    token = make_token(delivery_id=7, link_id=0)
    assert open_pixel_url(delivery_id=7) == settings.SITE_URL + reverse(
        "clicks:open", kwargs={"token": token}
    )
