"""The demo's fake outlets: files of the demo site served like the web, dated from today."""

from __future__ import annotations

from datetime import date

import pytest

from articles.fetching.errors import HTTPStatusError
from digest.demo.outlets import demo_url, make_demo_fetch, render_demo_text


def test_demo_fetch_serves_only_files_of_the_demo_site():
    fetch = make_demo_fetch(today=date(2026, 4, 25))

    feed = fetch(demo_url("policy-wire/feed.rss"))

    assert feed.status == 200 and feed.content_type == "application/rss+xml"
    assert b"Fri, 24 Apr 2026 10:00:00 +0000" in feed.content  # lastBuildDate: a day before
    for url in (
        demo_url("../demo.py"),
        demo_url("policy-wire/%2e%2e/%2e%2e/demo.py"),
        demo_url("nothing-here.html"),
        "https://example.org/policy-wire/feed.rss",
    ):
        with pytest.raises(HTTPStatusError):
            fetch(url)


def test_demo_dates_are_relative_to_today():
    text = (
        "{{iso:-3 09:30}} {{rfc822:+1 14:00}} {{ical:+2 08:15}} {{icalutc:0 00:00}} {{site_url}}"
    )

    rendered = render_demo_text(text, today=date(2026, 1, 2), site_url="http://host")

    assert rendered == (
        "2025-12-30T09:30:00Z Sat, 03 Jan 2026 14:00:00 +0000 20260104T081500 "
        "20260102T000000Z http://host"
    )
