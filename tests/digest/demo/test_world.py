"""The demo command: an offline demo world built through the real ingestion code."""

from __future__ import annotations

import io
import re

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.http import HttpRequest

from articles.fetching import client as fetching
from articles.models import Article, Event, Source, Topic
from digest.demo.data import ADMIN_USERNAME, DEMO_PASSWORD
from newsletters.models import Delivery, Issue, IssueItem, Subscriber

TRAILER_WORDS = ("DigestBot chatbot", "NetGov Observer briefing", "become a member")


class TerminalOutput(io.StringIO):
    def isatty(self) -> bool:
        return True


def run_demo(stdout: io.StringIO | None = None) -> str:
    out = stdout or io.StringIO()
    call_command("demo", stdout=out, stderr=io.StringIO())
    return out.getvalue()


def world_counts() -> dict[str, int]:
    return {
        "topics": Topic.objects.count(),
        "sources": Source.objects.count(),
        "articles": Article.objects.count(),
        "events": Event.objects.count(),
        "issues": Issue.objects.count(),
        "items": IssueItem.objects.count(),
        "subscribers": Subscriber.objects.count(),
        "deliveries": Delivery.objects.count(),
        "users": get_user_model().objects.count(),
    }


@pytest.fixture
def no_network(monkeypatch):
    """Make any use of the real fetcher fail the test."""

    def refuse(url, **kwargs):
        raise AssertionError(f"the demo tried the network: {url}")

    monkeypatch.setattr(fetching, "fetch", refuse)


@pytest.mark.django_db
@pytest.mark.slow
def test_demo_builds_the_world_offline(no_network, client):
    output = run_demo()

    assert Topic.objects.count() >= 10
    feeds = Source.objects.filter(kind=Source.Kind.FEED)
    assert feeds.count() >= 3
    assert Article.objects.count() >= 30
    for source in feeds:
        assert source.articles.count() >= 5, source
        assert source.last_error == ""
    assert Article.objects.filter(extraction_status=Article.Extraction.EXTRACTED).count() >= 30
    assert Event.objects.filter(source__kind=Source.Kind.ICAL).count() >= 5
    # Every story is filed under at least one topic by the real classifier.
    assert not Article.objects.filter(topics__isnull=True).exists()

    sent = Issue.objects.get(number=1)
    assert sent.status == Issue.Status.SENT
    sections = set(sent.items.values_list("section", flat=True))
    assert sections == {"radar", "reading", "events"}
    assert sent.items.filter(section="radar").count() >= 8
    assert Delivery.objects.filter(issue=sent, status=Delivery.Status.SENT).count() == 4
    assert Issue.objects.get(number=2).status == Issue.Status.DRAFT

    statuses = set(Subscriber.objects.values_list("status", flat=True))
    assert {"active", "pending", "unsubscribed"} <= statuses

    assert "Demo ready:" in output.splitlines()[-1]
    login = re.search(r"Admin login: \S+/admin/  user: (\S+)  password: (\S+)", output)
    assert login and login[1] == ADMIN_USERNAME
    # django-axes checks each sign-in against its request, so the login needs one.
    assert client.login(request=HttpRequest(), username=login[1], password=login[2])
    assert client.get("/admin/").status_code == 200


@pytest.mark.django_db
def test_demo_password_is_fixed_only_in_debug(settings, no_network):
    settings.DEBUG = True
    assert f"password: {DEMO_PASSWORD}" in run_demo()

    settings.DEBUG = False
    output = run_demo()

    assert "password: " in output and f"password: {DEMO_PASSWORD}" not in output


@pytest.mark.django_db
@pytest.mark.slow
def test_demo_twice_duplicates_nothing(no_network):
    run_demo()
    first = world_counts()

    output = run_demo()

    assert world_counts() == first
    assert "(0 new)" in output
    assert "issues already there" in output


@pytest.mark.django_db
@pytest.mark.slow
def test_demo_articles_lose_promotional_trailers(no_network):
    run_demo()

    for words in TRAILER_WORDS:
        assert not Article.objects.filter(body_text__contains=words).exists(), words
        assert not Article.objects.filter(body_html__contains=words).exists(), words
    # The story text right before a trailer survives.
    guidance = Article.objects.get(canonical_url__contains="ai-office-guidance-general-purpose")
    assert "public register of general-purpose models" in guidance.body_text


@pytest.mark.django_db
@pytest.mark.slow
def test_demo_groups_the_same_story_from_two_outlets(no_network):
    pytest.importorskip("articles.grouping.dedupe", reason="near-duplicate grouping not in yet")
    run_demo()

    policy_wire = Article.objects.get(canonical_url__contains="ai-office-guidance-general")
    netgov = Article.objects.get(canonical_url__contains="ai-office-issues-guidance")
    unrelated = Article.objects.get(canonical_url__contains="borealia-approves-chip-fab")

    assert policy_wire.group_id is not None
    assert policy_wire.group_id == netgov.group_id
    assert unrelated.group_id != policy_wire.group_id


@pytest.mark.django_db
@pytest.mark.slow
def test_demo_progress_bar_only_on_a_terminal(no_network):
    plain = run_demo()
    terminal = run_demo(TerminalOutput())

    assert "\r[" not in plain
    assert "\r[" in terminal and "#" * 30 in terminal
