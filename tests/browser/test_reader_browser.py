"""A reader walks home → topic → article → issue → search in Debian's Chromium.

Run at phone (390×844) and desk (1366×900) widths; each step asserts what the page
shows, that it has one h1, a main landmark, alt text on every image and no sideways
scrolling, and leaves a full-page screenshot in test-artifacts/.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from newsletters.models import Issue, IssueItem
from tests.browser.conftest import HAS_CHROMIUM
from tests.factories import (
    ArticleFactory,
    EventFactory,
    IssueFactory,
    IssueItemFactory,
    SourceFactory,
    StoryGroupFactory,
    TopicFactory,
)

VIEWPORTS = {"phone": {"width": 390, "height": 844}, "desk": {"width": 1366, "height": 900}}

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(not HAS_CHROMIUM, reason="Debian's chromium is not installed"),
]

BODY = (
    "<p>The European Parliament on Tuesday adopted the regulation by a wide margin, "
    "closing three years of negotiations between the institutions.</p>"
    "<p>Providers of general-purpose models will have to publish summaries of their "
    "training data and assess systemic risks before release.</p>"
    "<blockquote>“This is a floor, not a ceiling,” said the rapporteur.</blockquote>"
    "<p>Industry groups warned that the compliance timetable is tight, while civil "
    "society organisations said the enforcement provisions are too weak.</p>"
)


def make_world(image_base: str) -> dict:
    now = timezone.now()
    ai = TopicFactory(
        name="Artificial intelligence",
        slug="artificial-intelligence",
        description="Rules, standards and diplomacy for AI systems, from Brussels to Beijing.",
        position=1,
    )
    privacy = TopicFactory(
        name="Data protection", slug="data-protection", description="Privacy law.", position=2
    )
    chips = TopicFactory(
        name="Semiconductors", slug="semiconductors", description="Chips.", position=3
    )
    wire = SourceFactory(name="Policy Wire")
    ledger = SourceFactory(name="Tech Ledger")
    group = StoryGroupFactory()
    lead = ArticleFactory(
        title="European Parliament adopts the AI regulation after three years of talks",
        source=wire,
        body_html=BODY,
        body_text="The European Parliament on Tuesday adopted the regulation by a wide margin.",
        summary="<p>Parliament adopted the AI regulation by a wide margin.</p>",
        image_url=f"{image_base}/static/img/demo/ai.jpg",
        published_at=now - timedelta(hours=5),
        topics=[ai],
        group=group,
    )
    lead.tags.add("AI Act", "European Parliament")
    ArticleFactory(
        title="Parliament's AI vote: what changes for model providers",
        source=ledger,
        published_at=now - timedelta(hours=3),
        topics=[ai],
        group=group,
    )
    stories = [
        ("Regulator fines social network over children's data", privacy, "privacy.jpg"),
        ("Court limits transfers of personal data to third countries", privacy, "privacy.jpg"),
        ("Export controls on advanced chips tightened again", chips, "chips.jpg"),
        ("New fab subsidies announced amid supply worries", chips, "chips.jpg"),
        ("Standards body publishes draft guidance on AI audits", ai, "ai.jpg"),
    ]
    articles = []
    for index, (title, topic, image) in enumerate(stories):
        for week in range(3):
            articles.append(
                ArticleFactory(
                    title=title if week == 0 else f"{title} ({week} weeks on)",
                    source=wire if index % 2 else ledger,
                    image_url=f"{image_base}/static/img/demo/{image}",
                    published_at=now - timedelta(days=7 * week + index, hours=8),
                    topics=[topic],
                )
            )
    IssueFactory(
        number=208,
        title="Chips, courts and the cost of compliance",
        status=Issue.Status.SENT,
        period_start=(now - timedelta(days=14)).date(),
        period_end=(now - timedelta(days=8)).date(),
    )
    issue = IssueFactory(
        number=209,
        title="Brussels sets the rules for AI, courts reshape data flows",
        status=Issue.Status.SENT,
        period_start=(now - timedelta(days=7)).date(),
        period_end=now.date(),
        letter=(
            "Dear readers,\n\nThis week the European Parliament [adopted the AI regulation]"
            f"({lead.get_absolute_url()}), closing three years of negotiations. Courts "
            "reshaped how personal data may leave Europe, and export controls on chips "
            "tightened again.\n\nWe also look at the week ahead."
        ),
        sign_off="The Editors",
    )
    IssueItemFactory(
        issue=issue,
        article=lead,
        order=0,
        headline=lead.title,
        blurb="Providers of general-purpose models must now publish training summaries.",
        image_url=lead.image_url,
    )
    for order, article in enumerate(articles[:4], start=1):
        IssueItemFactory(
            issue=issue,
            article=article,
            order=order,
            headline=article.title,
            blurb="Why it matters, in two sentences for busy readers.",
            image_url=article.image_url,
        )
    IssueItemFactory(
        issue=issue,
        section=IssueItem.Section.READING,
        article=articles[5],
        order=0,
        headline="Analysis: the long road to chip sovereignty",
        blurb="A look at subsidies and their limits.",
    )
    forum = EventFactory(
        title="Geneva forum on AI governance",
        starts_at=(now + timedelta(days=4)).replace(hour=14, minute=0, second=0, microsecond=0),
        topics=[ai],
    )
    IssueItemFactory(
        issue=issue,
        section=IssueItem.Section.EVENTS,
        article=None,
        event=forum,
        order=0,
        headline=forum.title,
        blurb="Diplomats and experts discuss the next steps.",
    )
    return {"lead": lead, "issue": issue, "topic": ai}


def check_page_basics(page, viewport: str) -> None:
    assert page.locator("h1").count() == 1
    assert page.locator("main#main").count() == 1
    assert page.locator("header.site-header").count() == 1
    assert page.locator("footer.site-footer").count() == 1
    missing_alt = page.locator("img:not([alt])").count()
    assert missing_alt == 0
    overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
    assert overflow <= 0, f"page scrolls sideways by {overflow}px at {viewport} width"


def shoot(page, artifacts_dir, viewport: str, step: str) -> None:
    page.screenshot(path=str(artifacts_dir / f"reader-{viewport}-{step}.png"), full_page=True)


@pytest.mark.parametrize("viewport", ["phone", "desk"])
def test_reader_walks_home_topic_article_issue_search(
    live_server, chromium, artifacts_dir, viewport
):
    world = make_world(live_server.url)
    lead = world["lead"]
    context = chromium.new_context(viewport=VIEWPORTS[viewport])
    context.set_default_timeout(15_000)
    page = context.new_page()
    try:
        # Home: the latest issue and the stories by topic.
        page.goto(live_server.url + "/")
        latest = page.locator(".latest-issue")
        assert "#209" in latest.inner_text()
        assert "Brussels sets the rules for AI" in latest.inner_text()
        assert "closing three years of negotiations" in latest.inner_text()
        groups = page.locator(".topic-group h3").all_inner_texts()
        assert groups[:3] == ["Artificial intelligence", "Data protection", "Semiconductors"]
        check_page_basics(page, viewport)
        shoot(page, artifacts_dir, viewport, "1-home")

        # Topic page, reached from the home page's topic heading.
        page.locator(".topic-group h3 a", has_text="Artificial intelligence").click()
        page.wait_for_url("**/topics/artificial-intelligence/")
        assert page.locator("h1").inner_text() == "Artificial intelligence"
        assert "from Brussels to Beijing" in page.locator(".page-header").inner_text()
        chart = page.locator("svg.chart")
        assert chart.get_attribute("role") == "img"
        assert page.locator("svg.chart rect.chart-bar").count() == 12
        stories = page.locator(".two-column__main .story-card__title").all_inner_texts()
        # The story two outlets reported is listed once, by its first report.
        assert (
            stories[0] == "European Parliament adopts the AI regulation after three years of talks"
        )
        assert "Parliament's AI vote: what changes for model providers" not in stories
        assert (
            "Also reported by Tech Ledger" in page.locator(".story-card__also").first.inner_text()
        )
        assert "#209" in page.locator(".issue-mini-list").inner_text()
        check_page_basics(page, viewport)
        shoot(page, artifacts_dir, viewport, "2-topic")

        # Article page.
        page.locator(".story-card__title a", has_text="European Parliament adopts").click()
        page.wait_for_url(f"**{lead.get_absolute_url()}")
        assert page.locator("h1").inner_text() == lead.title
        assert "Policy Wire" in page.locator(".article__meta").inner_text()
        assert "floor, not a ceiling" in page.locator(".article__body").inner_text()
        original = page.locator(".article__original a")
        assert original.get_attribute("href") == lead.canonical_url
        related = page.locator("aside .story-card__title").all_inner_texts()
        assert related[0] == "Parliament's AI vote: what changes for model providers"
        assert page.locator(".tag", has_text="AI Act").count() == 1
        image_loaded = page.evaluate(
            "document.querySelector('.article__image img').naturalWidth > 0"
        )
        assert image_loaded
        check_page_basics(page, viewport)
        shoot(page, artifacts_dir, viewport, "3-article")

        # The issue it was featured in.
        page.locator(".featured-in a", has_text="issue #209").click()
        page.wait_for_url("**/issues/209/")
        assert "Brussels sets the rules for AI" in page.locator("h1").inner_text()
        radar = page.locator("#section-radar + ol .issue-item__headline").all_inner_texts()
        assert radar[0] == lead.title
        assert len(radar) == 5
        assert page.locator("#section-reading").is_visible()
        event_line = page.locator(".issue-item__event").inner_text()
        assert "UTC" in event_line and "|" in event_line
        assert page.locator("a[rel=prev]", has_text="#208").count() == 1
        check_page_basics(page, viewport)
        shoot(page, artifacts_dir, viewport, "4-issue")

        # Search from the header.
        page.locator("#site-search-q").fill("regulation")
        page.locator(".site-search button").click()
        page.wait_for_url("**/search/?q=regulation")
        assert page.locator("#search-q").input_value() == "regulation"
        results = page.locator(".search-result .story-card__title").all_inner_texts()
        assert lead.title in results
        assert page.locator(".search-result mark").count() >= 1
        check_page_basics(page, viewport)
        shoot(page, artifacts_dir, viewport, "5-search")

        # A mistyped address gets the friendly page.
        response = page.goto(live_server.url + "/topics/no-such-topic/")
        assert response.status == 404
        assert "We can’t find that page" in page.locator("h1").inner_text()
        shoot(page, artifacts_dir, viewport, "6-not-found")
    finally:
        context.close()
