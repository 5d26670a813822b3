import time
from datetime import UTC, datetime

import pytest

from articles.ingestion.feed_parsing import MalformedFeedError, NotAFeedError, parse_feed

URL = "https://news.example.org/feeds/policy.xml"


def rss(items: str, *, declaration: str = '<?xml version="1.0" encoding="utf-8"?>') -> bytes:
    return (
        f'{declaration}<rss version="2.0"><channel><title>Policy</title>'
        f"<link>https://news.example.org/</link>{items}</channel></rss>"
    ).encode()


def test_rss2_entries_come_back_as_plain_values():
    feed = parse_feed(
        rss(
            "<item><title>EU AI Act enters force</title>"
            "<link>https://news.example.org/ai-act</link>"
            "<guid isPermaLink='false'>ai-act-1</guid>"
            "<author>jane@example.org (Jane Roe)</author>"
            "<pubDate>Fri, 18 Apr 2025 10:00:00 +0200</pubDate>"
            "<description>&lt;p&gt;The law &lt;b&gt;applies&lt;/b&gt;.&lt;/p&gt;</description>"
            "</item>"
        ),
        url=URL,
    )

    assert feed.title == "Policy"
    assert feed.version == "rss20"
    [entry] = feed.entries
    assert entry.title == "EU AI Act enters force"
    assert entry.link == "https://news.example.org/ai-act"
    assert entry.guid == "ai-act-1"
    assert entry.published_at == datetime(2025, 4, 18, 8, 0, tzinfo=UTC)
    assert entry.summary_html == "<p>The law <b>applies</b>.</p>"
    assert "Jane Roe" in entry.author


def test_atom_entries_with_full_content_and_relative_links():
    atom = b"""<?xml version="1.0" encoding="utf-8"?>
<feed xmlns="http://www.w3.org/2005/Atom" xml:base="https://blog.example.org/posts/">
  <title>Analysis</title>
  <entry>
    <title type="html">Chips &amp;amp; trade</title>
    <id>tag:blog.example.org,2025:42</id>
    <link rel="alternate" href="chips-and-trade"/>
    <updated>2025-04-20T12:00:00Z</updated>
    <summary>Short</summary>
    <content type="html">&lt;p&gt;See &lt;a href="../about"&gt;about&lt;/a&gt;.&lt;/p&gt;</content>
  </entry>
</feed>"""

    feed = parse_feed(atom, url="https://blog.example.org/atom.xml")

    assert feed.version == "atom10"
    [entry] = feed.entries
    assert entry.link == "https://blog.example.org/posts/chips-and-trade"
    assert entry.guid == "tag:blog.example.org,2025:42"
    assert entry.title == "Chips & trade"
    assert 'href="https://blog.example.org/about"' in entry.content_html
    assert entry.published_at == datetime(2025, 4, 20, 12, 0, tzinfo=UTC)


def test_rss1_rdf_feed_is_read():
    rdf = b"""<?xml version="1.0"?>
<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#" xmlns="http://purl.org/rss/1.0/"
  xmlns:dc="http://purl.org/dc/elements/1.1/">
  <channel rdf:about="https://old.example.org/"><title>Old</title><link>https://old.example.org/</link>
  <description>d</description></channel>
  <item rdf:about="https://old.example.org/1"><title>Rdf item</title>
  <link>https://old.example.org/1</link><dc:date>2025-01-02T03:04:05Z</dc:date></item>
</rdf:RDF>"""

    feed = parse_feed(rdf, url="https://old.example.org/index.rdf")

    assert feed.version == "rss10"
    assert [entry.title for entry in feed.entries] == ["Rdf item"]
    assert feed.entries[0].published_at == datetime(2025, 1, 2, 3, 4, 5, tzinfo=UTC)


def test_rss091_feed_is_read():
    old = b"""<?xml version="1.0"?><rss version="0.91"><channel><title>Ninety-one</title>
<link>https://x.example.org/</link><description>d</description><language>en</language>
<item><title>Old style</title><link>https://x.example.org/a</link></item></channel></rss>"""

    feed = parse_feed(old, url="https://x.example.org/rss")

    assert feed.version.startswith("rss09")
    assert feed.entries[0].link == "https://x.example.org/a"


def test_relative_entry_links_are_resolved_against_the_feed_url():
    feed = parse_feed(rss("<item><title>R</title><link>/2025/relative</link></item>"), url=URL)

    assert feed.entries[0].link == "https://news.example.org/2025/relative"


def test_latin1_feed_with_declared_encoding_and_no_charset_header():
    body = (
        '<?xml version="1.0" encoding="ISO-8859-1"?><rss version="2.0"><channel><title>Ä</title>'
        "<item><title>Données personnelles: la CNIL sanctionne</title>"
        "<link>https://fr.example.org/cnil</link></item></channel></rss>"
    ).encode("latin-1")

    feed = parse_feed(body, url="https://fr.example.org/rss", content_type="application/xml")

    assert feed.entries[0].title == "Données personnelles: la CNIL sanctionne"


def test_latin1_feed_without_any_declared_encoding_is_still_read():
    body = (
        '<?xml version="1.0"?><rss version="2.0"><channel><title>Nachrichten</title>'
        "<item><title>Datenschutz: Bußgeld für Überwachung</title>"
        "<link>https://de.example.org/a</link></item></channel></rss>"
    ).encode("latin-1")

    feed = parse_feed(body, url="https://de.example.org/rss", content_type="text/xml")

    assert feed.entries[0].title == "Datenschutz: Bußgeld für Überwachung"


def test_feed_with_recoverable_errors_keeps_its_good_entries():
    broken = rss(
        "<item><title>First</title><link>https://news.example.org/1</link></item>"
        "<item><title>Second & unescaped</title><link>https://news.example.org/2</link></item>"
        "<item><title>Third</title><link>https://news.example.org/3"
    )[:-30]

    feed = parse_feed(broken, url=URL)

    assert feed.warning
    assert [entry.link for entry in feed.entries][:2] == [
        "https://news.example.org/1",
        "https://news.example.org/2",
    ]


def test_html_page_is_not_a_feed_and_the_error_names_the_feed_it_links_to():
    page = (
        b"<!doctype html><html><head><title>Home</title>"
        b'<link rel="alternate" type="application/rss+xml" href="/rss.xml"></head>'
        b"<body><p>Welcome</p></body></html>"
    )

    with pytest.raises(NotAFeedError) as caught:
        parse_feed(page, url="https://news.example.org/", content_type="text/html")

    message = str(caught.value)
    assert "is an HTML page, not an RSS or Atom feed" in message
    assert "https://news.example.org/rss.xml" in message


def test_garbage_is_not_a_feed():
    with pytest.raises(NotAFeedError, match="not an RSS or Atom feed"):
        parse_feed(b"\x00\x01\x02 binary junk", url=URL)


def test_malformed_xml_with_no_readable_entry_is_a_clear_error():
    with pytest.raises(MalformedFeedError, match="not well-formed XML"):
        parse_feed(b"<rss version='2.0'><channel><item><title>x", url=URL)


def test_billion_laughs_is_not_expanded():
    levels = ['<!ENTITY lol0 "lol">']
    for level in range(1, 10):
        refs = f"&lol{level - 1};" * 10
        levels.append(f'<!ENTITY lol{level} "{refs}">')
    bomb = (
        '<?xml version="1.0"?><!DOCTYPE rss [' + "".join(levels) + "]>"
        '<rss version="2.0"><channel><title>Bomb</title>'
        "<item><title>&lol9;</title><link>https://news.example.org/bomb</link>"
        "<description>&lol9;</description></item>"
        "<item><title>Fine</title><link>https://news.example.org/fine</link></item>"
        "</channel></rss>"
    ).encode()
    started = time.monotonic()

    feed = parse_feed(bomb, url=URL)

    # Expanded, &lol9; is a billion characters: minutes and gigabytes, not seconds.
    assert time.monotonic() - started < 10
    assert all(len(entry.title) < 100 for entry in feed.entries)
    assert all(len(entry.summary_html) < 100 for entry in feed.entries)
    assert "lollollol" not in repr(feed)
    assert "https://news.example.org/fine" in [entry.link for entry in feed.entries]


def test_external_entity_pointing_at_a_local_file_is_not_read(tmp_path):
    secret = tmp_path / "secret.txt"
    secret.write_text("TOP-SECRET-CONTENT")
    xxe = (
        f'<?xml version="1.0"?><!DOCTYPE rss [<!ENTITY xxe SYSTEM "file://{secret}">]>'
        '<rss version="2.0"><channel><title>&xxe;</title>'
        "<item><title>Leak &xxe;</title><link>https://news.example.org/x</link>"
        "<description>&xxe;</description></item></channel></rss>"
    ).encode()

    feed = parse_feed(xxe, url=URL)

    assert "TOP-SECRET-CONTENT" not in repr(feed)


def test_scripts_handlers_javascript_links_and_iframes_are_removed_everywhere():
    hostile = rss(
        "<item>"
        "<title>&lt;script&gt;alert(1)&lt;/script&gt;Safe &lt;b onclick='x()'&gt;title&lt;/b&gt;"
        "</title>"
        "<link>https://news.example.org/hostile</link>"
        "<description>&lt;p onmouseover='steal()'&gt;Hi &lt;a href='javascript:alert(1)'&gt;"
        "click&lt;/a&gt;&lt;iframe src='https://evil.example/'&gt;&lt;/iframe&gt;"
        "&lt;img src='x' onerror='alert(1)'&gt;&lt;/p&gt;</description>"
        '<content:encoded xmlns:content="http://purl.org/rss/1.0/modules/content/">'
        "<![CDATA[<p>Body<script>alert(2)</script><a href='data:text/html,x'>d</a>"
        "<iframe src='https://evil.example/'></iframe><object data='x'></object></p>]]>"
        "</content:encoded>"
        "</item>"
    )

    [entry] = parse_feed(hostile, url=URL).entries

    assert entry.title == "Safe title"
    for html in (entry.summary_html, entry.content_html):
        lowered = html.lower()
        for forbidden in ("<script", "onclick", "onmouseover", "onerror", "javascript:"):
            assert forbidden not in lowered
        assert "<iframe" not in lowered
        assert "<object" not in lowered
        assert "data:" not in lowered
    assert "Hi" in entry.summary_html
    assert "Body" in entry.content_html


def test_javascript_entry_link_is_dropped():
    feed = parse_feed(
        rss("<item><title>x</title><guid>g-1</guid><link>javascript:alert(1)</link></item>"),
        url=URL,
    )

    assert feed.entries[0].link == ""


def test_entries_without_link_or_date_are_kept_with_empty_values():
    feed = parse_feed(
        rss(
            "<item><title>No link</title><guid isPermaLink='false'>nolink-1</guid>"
            "<description>Text only</description></item>"
            "<item><title>No date</title><link>https://news.example.org/nodate</link></item>"
        ),
        url=URL,
    )

    no_link, no_date = feed.entries
    assert no_link.link == ""
    assert no_link.guid == "nolink-1"
    assert no_date.published_at is None


def test_permalink_guid_serves_as_the_link_when_there_is_no_link():
    feed = parse_feed(
        rss("<item><title>G</title><guid>https://news.example.org/by-guid</guid></item>"),
        url=URL,
    )

    assert feed.entries[0].link == "https://news.example.org/by-guid"


def test_date_far_in_the_future_is_replaced_by_the_fetch_time():
    now = datetime(2025, 5, 1, tzinfo=UTC)
    feed = parse_feed(
        rss(
            "<item><title>F</title><link>https://news.example.org/f</link>"
            "<pubDate>Fri, 01 Jan 2100 00:00:00 GMT</pubDate></item>"
        ),
        url=URL,
        now=now,
    )

    assert feed.entries[0].published_at == now


def test_entry_image_comes_from_media_or_enclosure():
    feed = parse_feed(
        rss(
            '<item xmlns:media="http://search.yahoo.com/mrss/"><title>I</title>'
            "<link>https://news.example.org/i</link>"
            '<media:thumbnail url="/img/thumb.jpg"/></item>'
            "<item><title>E</title><link>https://news.example.org/e</link>"
            '<enclosure url="https://cdn.example.org/e.png" type="image/png" length="1"/></item>'
        ),
        url=URL,
    )

    assert feed.entries[0].image_url == "https://news.example.org/img/thumb.jpg"
    assert feed.entries[1].image_url == "https://cdn.example.org/e.png"


def test_charset_in_the_content_type_header_is_honoured():
    body = (
        '<?xml version="1.0"?><rss version="2.0"><channel><title>x</title>'
        "<item><title>Contrôle des exportations</title>"
        "<link>https://fr.example.org/e</link></item></channel></rss>"
    ).encode("latin-1")

    feed = parse_feed(
        body,
        url="https://fr.example.org/rss",
        content_type="application/rss+xml; charset=iso-8859-1",
    )

    assert feed.entries[0].title == "Contrôle des exportations"


def test_html_content_type_with_parameters_is_recognised():
    with pytest.raises(NotAFeedError, match="HTML page"):
        parse_feed(b"<p>hello</p>", url=URL, content_type="text/html; charset=utf-8")


# Texts long enough for a detector to be sure; none of these feeds declares its encoding.
UNDECLARED = [
    ("koi8-r", "Регулятор оштрафовал платформу за утечку данных пользователей"),
    ("shift_jis", "個人情報保護委員会が大手プラットフォームに行政指導を行った"),
    ("euc-jp", "個人情報保護委員会が大手プラットフォームに行政指導を行った"),
    ("euc-kr", "개인정보보호위원회가 대형 플랫폼에 과징금을 부과했다고 밝혔다"),
    ("gb2312", "国家互联网信息办公室发布数据出境安全评估办法征求意见稿"),
    ("windows-1255", "הרשות להגנת הפרטיות הטילה קנס על חברת הטכנולוגיה"),
    ("tis-620", "คณะกรรมการคุ้มครองข้อมูลส่วนบุคคลสั่งปรับบริษัทเทคโนโลยี"),
]


@pytest.mark.parametrize(("encoding", "title"), UNDECLARED)
def test_feed_in_an_undeclared_legacy_encoding_is_decoded(encoding, title):
    description = (title + " ") * 6
    body = (
        '<?xml version="1.0"?><rss version="2.0"><channel><title>News</title>'
        f"<item><title>{title}</title><description>{description}</description>"
        "<link>https://news.example.org/1</link></item></channel></rss>"
    ).encode(encoding)

    feed = parse_feed(body, url=URL, content_type="application/xml")

    assert feed.entries[0].title == title


def test_item_with_only_a_description_is_kept_with_a_stable_guid():
    body = rss(
        "<item><description>A statement on &lt;b&gt;data&lt;/b&gt; rules.</description></item>"
    )

    first = parse_feed(body, url=URL)
    again = parse_feed(body, url=URL)

    (entry,) = first.entries
    assert entry.link == "" and entry.title == ""
    assert entry.summary_html == "A statement on <b>data</b> rules."
    assert entry.guid.startswith("urn:digest:content:")
    assert again.entries[0].guid == entry.guid
    other = parse_feed(rss("<item><description>Another statement.</description></item>"), url=URL)
    assert other.entries[0].guid != entry.guid


def test_item_with_only_a_title_is_kept():
    (entry,) = parse_feed(rss("<item><title>Just a headline</title></item>"), url=URL).entries
    assert entry.title == "Just a headline" and entry.guid.startswith("urn:digest:content:")


def test_empty_item_is_skipped_with_a_reason():
    feed = parse_feed(rss("<item></item><item><title>Kept</title></item>"), url=URL)

    assert [entry.title for entry in feed.entries] == ["Kept"]
    assert feed.skipped == ["The entry has no link, GUID, title or content."]


def test_control_characters_from_the_feed_are_stripped_everywhere():
    body = rss(
        "<item><title>alpha&amp;#26;amp;omega &#x1;x</title><author>Ann&#8;e</author>"
        "<guid>g&#2;1</guid><description>&lt;p&gt;bad&#x1b;byte&lt;/p&gt;</description></item>"
    )

    (entry,) = parse_feed(body, url=URL).entries

    forbidden = {chr(code) for code in range(32)} - {"\t", "\n", "\r"}
    for value in (entry.title, entry.author, entry.guid, entry.summary_html):
        assert not forbidden & set(value), value
