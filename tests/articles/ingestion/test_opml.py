import pytest

from articles.ingestion.opml import OpmlError, export_opml, import_opml, read_opml
from articles.models import Source
from tests.factories import SourceFactory

pytestmark = pytest.mark.django_db

OPML = b"""<?xml version="1.0" encoding="utf-8"?>
<opml version="2.0">
  <head><title>Policy reading</title></head>
  <body>
    <outline text="News">
      <outline type="rss" text="Policy Wire" xmlUrl="https://policywire.example/feed.xml"
               htmlUrl="https://policywire.example/"/>
      <outline type="rss" text="Policy Wire again" xmlUrl="HTTPS://PolicyWire.example/feed.xml"/>
    </outline>
    <outline text="Analysis">
      <outline type="rss" text="Think &amp; Tank" xmlUrl="https://tank.example/atom"/>
    </outline>
    <outline type="ical" text="Conference calendar" xmlUrl="https://events.example/all.ics"/>
    <outline type="link" text="Speech" url="https://gov.example/speech"/>
    <outline type="rss" text="Local file" xmlUrl="file:///etc/passwd"/>
    <outline type="rss" text="FTP" xmlUrl="ftp://old.example/feed"/>
  </body>
</opml>"""


def test_import_creates_sources_with_kind_and_category():
    report = import_opml(content=OPML)

    assert len(report.created) == 4
    assert report.unchanged == ["HTTPS://PolicyWire.example/feed.xml"]
    assert [what for what, _why in report.rejected] == [
        "file:///etc/passwd",
        "ftp://old.example/feed",
    ]
    wire = Source.objects.get(url="https://policywire.example/feed.xml")
    assert (wire.name, wire.site_url, wire.kind, wire.category) == (
        "Policy Wire",
        "https://policywire.example/",
        Source.Kind.FEED,
        Source.Category.NEWS,
    )
    tank = Source.objects.get(url="https://tank.example/atom")
    assert tank.name == "Think & Tank"
    assert tank.category == Source.Category.ANALYSIS
    calendar = Source.objects.get(url="https://events.example/all.ics")
    assert (calendar.kind, calendar.category) == (Source.Kind.ICAL, Source.Category.EVENTS)
    assert Source.objects.get(url="https://gov.example/speech").kind == Source.Kind.PAGE


def test_importing_twice_creates_nothing_new():
    import_opml(content=OPML)

    report = import_opml(content=OPML)

    assert report.created == []
    assert Source.objects.count() == 4


def test_existing_source_keeps_its_settings_and_gains_a_missing_site_url():
    existing = SourceFactory(
        name="Renamed by an editor", url="https://policywire.example/feed.xml", site_url=""
    )

    report = import_opml(content=OPML)

    existing.refresh_from_db()
    assert existing.name == "Renamed by an editor"
    assert existing.site_url == "https://policywire.example/"
    assert report.updated == ["https://policywire.example/feed.xml"]


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"<html><body>nope</body></html>", "not OPML"),
        (b"<opml><body><outline", "not well-formed"),
        (b"<opml version='2.0'><head/></opml>", "no <body>"),
    ],
)
def test_unreadable_file_is_a_clear_error(content, message):
    with pytest.raises(OpmlError, match=message):
        read_opml(content)


def test_external_entity_is_refused_without_reading_the_file(tmp_path):
    secret = tmp_path / "secret"
    secret.write_text("SECRET-VALUE")
    hostile = (
        f'<?xml version="1.0"?><!DOCTYPE opml [<!ENTITY x SYSTEM "file://{secret}">]>'
        '<opml version="2.0"><body>'
        '<outline type="rss" text="&x;" xmlUrl="https://x.example/feed"/></body></opml>'
    ).encode()

    with pytest.raises(OpmlError) as caught:
        import_opml(content=hostile)

    assert "SECRET-VALUE" not in str(caught.value)
    assert not Source.objects.exists()


def test_entity_bomb_is_refused_without_expanding():
    entities = '<!ENTITY a0 "lol">' + "".join(
        f'<!ENTITY a{n} "{f"&a{n - 1};" * 10}">' for n in range(1, 10)
    )
    bomb = (
        f'<?xml version="1.0"?><!DOCTYPE opml [{entities}]><opml version="2.0"><body>'
        '<outline type="rss" text="&a9;" xmlUrl="https://x.example/feed"/></body></opml>'
    ).encode()

    with pytest.raises(OpmlError, match="not well-formed"):
        import_opml(content=bomb)

    assert not Source.objects.exists()


def test_export_lists_every_source_and_reimports_to_the_same_set():
    SourceFactory(name="A <wire> & co", url="https://a.example/feed?x=1&y=2")
    SourceFactory(name="Blog", url="https://b.example/atom", category=Source.Category.ANALYSIS)
    SourceFactory(
        name="Events",
        url="https://c.example/cal.ics",
        kind=Source.Kind.ICAL,
        category=Source.Category.EVENTS,
    )
    SourceFactory(name="Page", url="https://d.example/speech", kind=Source.Kind.PAGE)
    before = sorted(Source.objects.values_list("url", "kind", "category"))

    exported = export_opml()
    Source.objects.all().delete()
    import_opml(content=exported.encode())

    assert sorted(Source.objects.values_list("url", "kind", "category")) == before
    assert Source.objects.get(url="https://a.example/feed?x=1&y=2").name == "A <wire> & co"
