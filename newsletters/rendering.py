"""The issue as an email: rendered once, then personalised cheaply per recipient.

``render_issue_email`` does the expensive work (templates, the letter through
``newsletters.compiling.letter.render_letter`` like the web page, CSS inlining) once per
issue and topic selection, leaving markers where each recipient's own links go.
``personalise`` fills only those markers: it signs two tokens and joins
pre-split strings, so per-message cost stays tiny.

Markers carry a random nonce chosen at render time, so no text in the issue
(a headline, a blurb) can contain a marker and be replaced by a recipient's link.
"""

from __future__ import annotations

import functools
import html as html_lib
import re
import secrets
from collections.abc import Iterable
from dataclasses import dataclass, field
from email.utils import formataddr
from urllib.parse import quote, urlsplit

import css_inline
from django.conf import settings
from django.template.loader import render_to_string
from django.urls import reverse

from articles.cleaning.sanitising import html_to_text, plain_text
from articles.models import ArticleTopic, Topic
from articles.timezones import (
    format_event_dates,
    format_event_length,
    format_zoned_times,
)
from digest.core.links import absolute_url
from newsletters.clicks import click_urls, open_pixel_url
from newsletters.compiling.images import email_rendition
from newsletters.compiling.letter import render_letter
from newsletters.compiling.sections import IssueSection, issue_sections
from newsletters.email_images import EMAIL_IMAGE_HEIGHT, EMAIL_IMAGE_WIDTH, email_image_url
from newsletters.email_text import issue_text
from newsletters.models import Issue, IssueItem, Subscriber
from newsletters.subscribers.tokens import Purpose, make_token

PLACEHOLDER_NAMES = ("unsubscribe_url", "preferences_url")
PREHEADER_LENGTH = 140

_INLINER = css_inline.CSSInliner(load_remote_stylesheets=False, keep_at_rules=True)
_WHITESPACE = re.compile(r"\s+")


@dataclass(frozen=True)
class RenderedIssue:
    """An issue's email with markers for per-recipient links. Shared by all recipients
    with the same topic selection; never contains anyone's personal link."""

    issue_id: int
    topic_ids: frozenset[int]
    subject: str
    preheader: str
    html: str
    text: str
    # ``html``/``text`` split at the markers: even indexes are literal text, odd
    # indexes are placeholder names.
    html_parts: tuple[str, ...] = field(repr=False)
    text_parts: tuple[str, ...] = field(repr=False)
    # Tracked links (``newsletters.link_tracking``): placeholder name → original URL.
    links: dict[str, str] = field(default_factory=dict, repr=False)


@dataclass(frozen=True)
class PersonalMessage:
    """One recipient's finished message, ready to hand to an email backend."""

    to: str
    subject: str
    html: str
    text: str
    headers: dict[str, str]
    unsubscribe_url: str
    preferences_url: str


def email_subject(*, issue: Issue) -> str:
    """'Weekly #209 – Big Tech on global trial': one line, whatever the title holds."""
    subject = render_to_string(
        "newsletters/email/issue.subject.txt",
        {"issue": issue, "prefix": settings.NEWSLETTER_SUBJECT_PREFIX},
    )
    return _WHITESPACE.sub(" ", subject).strip()


def _topic_ids(topics: Iterable[Topic | int] | None) -> frozenset[int]:
    if not topics:
        return frozenset()
    return frozenset(t if isinstance(t, int) else t.pk for t in topics)


def _radar_for_topics(items: list[IssueItem], topic_ids: frozenset[int]) -> list[IssueItem]:
    """The Radar items whose article or event is filed under one of ``topic_ids``."""
    article_ids = [item.article_id for item in items if item.article_id]
    matching_articles = set(
        ArticleTopic.objects.filter(
            article_id__in=article_ids, topic_id__in=topic_ids
        ).values_list("article_id", flat=True)
    )
    event_ids = [item.event_id for item in items if item.event_id]
    matching_events: set[int] = set()
    if event_ids:
        matching_events = set(
            Topic.events.through.objects.filter(
                event_id__in=event_ids, topic_id__in=topic_ids
            ).values_list("event_id", flat=True)
        )
    return [
        item
        for item in items
        if (item.article_id in matching_articles) or (item.event_id in matching_events)
    ]


@dataclass
class EmailItem:
    """One item as the email shows it: plain text fields and absolute URLs."""

    headline: str
    blurb_text: str
    url: str
    image_url: str
    source_name: str
    image_alt: str = ""
    image_width: int = EMAIL_IMAGE_WIDTH
    image_height: int = EMAIL_IMAGE_HEIGHT
    when: str = ""
    zoned_times: str = ""
    duration: str = ""
    place: str = ""


def _email_item(item: IssueItem) -> EmailItem:
    image = item.image_url or (item.article.image_url if item.article_id else "")
    source_name = item.article.source.name if item.article_id else ""
    url = item.target_url or ""
    if item.event_id:
        # The site's event page: it holds the times, the calendar file and the link on.
        url = item.event.get_absolute_url()
    result = EmailItem(
        headline=plain_text(item.headline),
        blurb_text=plain_text(item.blurb),
        url=absolute_url(url),
        # An uploaded or fetched picture has a 600 px copy made for email: start there.
        image_url=email_image_url(email_rendition(image)),
        # The image is not a link (the headline is the item's one link), so its alt
        # text says what it is rather than repeating the headline.
        image_alt=f"Picture from {source_name}" if source_name else "Picture for this item",
        source_name=source_name,
    )
    if item.event_id:
        event = item.event
        result.when = format_event_dates(
            starts_at=event.starts_at, ends_at=event.ends_at, zone_name=event.time_zone
        )
        result.zoned_times = format_zoned_times(moment=event.starts_at)
        result.duration = format_event_length(
            starts_at=event.starts_at, ends_at=event.ends_at, zone_name=event.time_zone
        )
        result.place = "Online" if event.is_online else event.place
    return result


def _split(rendered: str, markers: dict[str, str]) -> tuple[str, ...]:
    by_marker = {marker: name for name, marker in markers.items()}
    pattern = "(" + "|".join(re.escape(m) for m in by_marker) + ")"
    pieces = re.split(pattern, rendered)
    return tuple(by_marker.get(piece, piece) if i % 2 else piece for i, piece in enumerate(pieces))


def render_issue_email(
    *, issue: Issue, topics: Iterable[Topic | int] | None = None
) -> RenderedIssue:
    """Render ``issue`` as an email for a topic selection (none: the whole issue).

    A topic digest holds the letter and only the Radar items filed under the chosen
    topics. Items come from ``issue_sections`` so email and web agree on order.
    Links and images are absolute; CSS is inlined; the plain-text part carries the
    same items. Queries: the sections (one), plus one or two for a topic digest.
    """
    topic_ids = _topic_ids(topics)
    sections: list[IssueSection] = issue_sections(issue=issue)
    if topic_ids:
        chosen_topics = list(Topic.objects.filter(pk__in=topic_ids).order_by("position", "name"))
        radar = next((s for s in sections if s.key == IssueItem.Section.RADAR), None)
        sections = []
        if radar is not None:
            radar_items = _radar_for_topics(radar.items, topic_ids)
            if radar_items:
                sections = [IssueSection(key=radar.key, title=radar.title, items=radar_items)]
    else:
        chosen_topics = []
    email_sections = [
        {"key": s.key, "title": s.title, "items": [_email_item(i) for i in s.items]}
        for s in sections
    ]
    nonce = secrets.token_hex(8)
    markers = {name: f"x-digest-{nonce}-{name.replace('_', '-')}" for name in PLACEHOLDER_NAMES}
    # The same function as the web page, so both show the same letter.
    letter_html = render_letter(issue.letter or "")
    letter_text = html_to_text(letter_html)
    subject = email_subject(issue=issue)
    preheader = _preheader(issue=issue, letter_text=letter_text, sections=email_sections)
    context = {
        "issue": issue,
        "subject": subject,
        "preheader": preheader,
        "site_name": settings.SITE_NAME,
        "site_url": settings.SITE_URL,
        "web_url": absolute_url(issue.get_absolute_url()),
        "letter_html": letter_html,
        "letter_text": letter_text,
        "sign_off": issue.sign_off or settings.NEWSLETTER_SIGN_OFF,
        "sections": email_sections,
        "chosen_topics": chosen_topics,
        "period": _period(issue),
        "postal_address": settings.NEWSLETTER_POSTAL_ADDRESS,
        "reason": settings.NEWSLETTER_REASON
        or f"You receive this because you subscribed to {settings.SITE_NAME}.",
        **markers,
    }
    html = _INLINER.inline(render_to_string("newsletters/email/issue.html", context))
    text = issue_text(context=context)
    return RenderedIssue(
        issue_id=issue.pk,
        topic_ids=topic_ids,
        subject=subject,
        preheader=preheader,
        html=html,
        text=text,
        html_parts=_split(html, markers),
        text_parts=_split(text, markers),
    )


def _period(issue: Issue) -> str:
    start, end = issue.period_start, issue.period_end
    if start.year != end.year:
        return f"{start:%-d %B %Y} – {end:%-d %B %Y}"
    if start.month != end.month:
        return f"{start:%-d %B} – {end:%-d %B %Y}"
    return f"{start:%-d} – {end:%-d %B %Y}"


def _preheader(*, issue: Issue, letter_text: str, sections: list[dict]) -> str:
    source = letter_text
    if source.lower().startswith("dear readers"):
        source = source.split("\n\n", 1)[1] if "\n\n" in source else ""
    if not source:
        source = " · ".join(item.headline for s in sections for item in s["items"][:3])
    source = _WHITESPACE.sub(" ", source).strip() or issue.title
    if len(source) > PREHEADER_LENGTH:
        source = source[: PREHEADER_LENGTH - 1].rsplit(" ", 1)[0] + "…"
    return source


_SLOT_MARK = "TOKEN-SLOT"


@functools.lru_cache(maxsize=8)
def _url_around_token(view_name: str, site_url: str) -> tuple[str, str]:
    # reverse() once; per recipient only the token changes (reverse() per message
    # was a visible share of a send's time).
    url = site_url + reverse(view_name, kwargs={"token": _SLOT_MARK})
    before, _, after = url.partition(_SLOT_MARK)
    return before, after


def _token_url(view_name: str, token: str) -> str:
    before, after = _url_around_token(view_name, settings.SITE_URL)
    return before + token + after


def subscriber_links(*, subscriber: Subscriber) -> dict[str, str]:
    """The absolute unsubscribe and preferences URLs for ``subscriber``."""
    unsubscribe = make_token(subscriber=subscriber, purpose=Purpose.UNSUBSCRIBE)
    preferences = make_token(subscriber=subscriber, purpose=Purpose.PREFERENCES)
    return {
        "unsubscribe_token": unsubscribe,
        "unsubscribe_url": _token_url("subscriptions:unsubscribe", unsubscribe),
        "preferences_url": _token_url("subscriptions:preferences", preferences),
    }


OPEN_PIXEL = "open_pixel"


def _link_values(links: dict[str, str], delivery_id: int | None) -> dict[str, str]:
    if delivery_id is None:
        return dict(links)
    urls = click_urls(
        delivery_id=delivery_id, link_ids=[int(name.removeprefix("link-")) for name in links]
    )
    return dict(zip(links, urls, strict=True))


def fill_parts(parts: tuple[str, ...], values: dict[str, str]) -> str:
    filled = list(parts)
    for index in range(1, len(filled), 2):
        filled[index] = values[filled[index]]
    return "".join(filled)


def unsaved_recipient(*, email: str) -> Subscriber:
    """A subscriber that is not saved and never will be, for previews and test copies:
    its unsubscribe and preferences links are signed with a key no row has, so
    following them changes nothing."""
    return Subscriber(pk=0, email=email, token_key="unsaved")  # noqa: S106 - not a secret


def link_placeholder(link_id: int) -> str:
    """The placeholder name of a tracked link in a rendered issue's parts."""
    return f"link-{link_id}"


@dataclass(frozen=True)
class PersonalValues:
    """One recipient's values for a rendered issue's placeholders (text and HTML-escaped)
    and headers: what ``personalise`` fills in, or an ESP's batch call merges."""

    text: dict[str, str]
    html: dict[str, str]
    headers: dict[str, str]
    unsubscribe_url: str
    preferences_url: str


def personal_values(
    *, rendered: RenderedIssue, subscriber: Subscriber, delivery_id: int | None = None
) -> PersonalValues:
    """``subscriber``'s own links for ``rendered``'s placeholders; no query, no template.

    Tracked links become this delivery's signed ``/r/`` links (or, without a delivery,
    as for a test copy, their own URLs again); an open pixel only with a delivery.
    """
    links = subscriber_links(subscriber=subscriber)
    text_values = {name: links[name] for name in PLACEHOLDER_NAMES}
    if rendered.links:
        text_values.update(_link_values(rendered.links, delivery_id))
    html_values = {name: html_lib.escape(value) for name, value in text_values.items()}
    if delivery_id is not None and OPEN_PIXEL in rendered.html_parts:
        html_values[OPEN_PIXEL] = (
            f'<img src="{html_lib.escape(open_pixel_url(delivery_id=delivery_id))}" width="1" '
            'height="1" alt="" style="display:block;border:0">'
        )
    else:
        html_values[OPEN_PIXEL] = ""
    mailto = (
        f"mailto:{settings.UNSUBSCRIBE_MAILTO}"
        f"?subject={quote('unsubscribe-' + links['unsubscribe_token'])}"
    )
    headers = {
        "List-Unsubscribe": f"<{links['unsubscribe_url']}>, <{mailto}>",
        "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
        "List-Id": _list_id(settings.SITE_NAME, settings.SITE_URL),
        "Precedence": "bulk",
    }
    return PersonalValues(
        text=text_values,
        html=html_values,
        headers=headers,
        unsubscribe_url=links["unsubscribe_url"],
        preferences_url=links["preferences_url"],
    )


def personalise(
    *, rendered: RenderedIssue, subscriber: Subscriber, delivery_id: int | None = None
) -> PersonalMessage:
    """``rendered`` with ``subscriber``'s own links filled in (see ``personal_values``)."""
    values = personal_values(rendered=rendered, subscriber=subscriber, delivery_id=delivery_id)
    return filled_message(rendered=rendered, subscriber=subscriber, values=values)


def filled_message(
    *, rendered: RenderedIssue, subscriber: Subscriber, values: PersonalValues
) -> PersonalMessage:
    """``rendered`` with ``values`` (``subscriber``'s, from ``personal_values``) filled in."""
    return PersonalMessage(
        to=subscriber.email,
        subject=rendered.subject,
        html=fill_parts(rendered.html_parts, values.html),
        text=fill_parts(rendered.text_parts, values.text),
        headers=values.headers,
        unsubscribe_url=values.unsubscribe_url,
        preferences_url=values.preferences_url,
    )


@functools.lru_cache(maxsize=4)
def _list_id(site_name: str, site_url: str) -> str:
    """'Site name <weekly.host>' (RFC 2919), the name quoted if it needs to be."""
    host = urlsplit(site_url).hostname or "localhost"
    return formataddr((plain_text(site_name), f"weekly.{host}"))
