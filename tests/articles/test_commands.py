import io
from datetime import timedelta

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone

from articles.models import Article, Source
from tests.articles.builders import serve_story_feed
from tests.factories import SourceFactory

pytestmark = pytest.mark.django_db


class FakeTerminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def run(*args, stdout=None):
    out = stdout or io.StringIO()
    err = io.StringIO()
    call_command(*args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def test_ingest_polls_due_sources_and_prints_a_summary(loopback):
    SourceFactory(url=serve_story_feed(loopback, "due", 2, etag='"e"'), next_poll_at=None)
    SourceFactory(
        url=serve_story_feed(loopback, "later", 3),
        next_poll_at=timezone.now() + timedelta(hours=1),
    )
    SourceFactory(url=loopback.serve("/down.xml", b"", status=500), next_poll_at=None)

    out, err = run("ingest")

    assert "2 sources polled, 0 unchanged, 2 new articles, 1 failures" in out
    assert "HTTP 500" in err
    assert Article.objects.count() == 2


def test_ingest_all_polls_sources_that_are_not_due_and_counts_unchanged(loopback):
    SourceFactory(
        url=serve_story_feed(loopback, "a", 1, etag='"a"'),
        next_poll_at=timezone.now() + timedelta(hours=1),
    )
    run("ingest", "--all")

    out, _err = run("ingest", "--all")

    assert "1 sources polled, 1 unchanged, 0 new articles, 0 failures" in out


def test_ingest_one_source_by_id(loopback):
    wanted = SourceFactory(
        url=serve_story_feed(loopback, "w", 1), next_poll_at=timezone.now() + timedelta(days=1)
    )
    SourceFactory(url=serve_story_feed(loopback, "x", 1), next_poll_at=None)

    out, _err = run("ingest", "--source", str(wanted.pk))

    assert "1 sources polled" in out
    assert list(Article.objects.values_list("source_id", flat=True)) == [wanted.pk]


def test_ingest_unknown_source_is_an_error():
    with pytest.raises(CommandError, match="No source with id 999"):
        run("ingest", "--source", "999")


def test_ingest_draws_a_progress_bar_only_on_a_terminal(loopback):
    SourceFactory(name="Wire", url=serve_story_feed(loopback, "t", 1), next_poll_at=None)

    terminal_out, _ = run("ingest", "--all", stdout=FakeTerminal())
    piped_out, _ = run("ingest", "--all")

    assert "\r" in terminal_out and "1/1" in terminal_out and "Wire" in terminal_out
    assert "\r" not in piped_out


def test_import_and_export_opml_commands(tmp_path):
    opml = tmp_path / "sources.opml"
    opml.write_text(
        '<opml version="2.0"><body>'
        '<outline type="rss" text="Wire" xmlUrl="https://wire.example/feed"/>'
        '<outline type="rss" text="Bad" xmlUrl="file:///etc/passwd"/>'
        "</body></opml>"
    )

    out, err = run("import_opml", str(opml))
    exported, summary = run("export_opml")

    assert "1 created, 0 updated, 0 already present, 1 rejected" in out
    assert "Rejected file:///etc/passwd" in err
    assert Source.objects.get().name == "Wire"
    assert 'xmlUrl="https://wire.example/feed"' in exported
    assert exported.startswith("<?xml")
    assert "Exported 1 sources." in summary


def test_import_opml_missing_file_is_an_error(tmp_path):
    with pytest.raises(CommandError, match="No such file"):
        run("import_opml", str(tmp_path / "nope.opml"))


def test_import_opml_unreadable_file_is_an_error(tmp_path):
    bad = tmp_path / "bad.opml"
    bad.write_text("<html></html>")

    with pytest.raises(CommandError, match="not OPML"):
        run("import_opml", str(bad))
