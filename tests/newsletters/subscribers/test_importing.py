"""Importing subscribers: each tool's export, consent, suppression, dry run, bad input."""

from __future__ import annotations

import io
from datetime import UTC, datetime
from pathlib import Path

import pytest
from django.core import mail

from newsletters.models import Subscriber
from newsletters.subscribers.importing import ImportRefused, import_subscribers
from tests.factories import SubscriberFactory, TopicFactory

pytestmark = pytest.mark.django_db

FIXTURES = Path(__file__).resolve().parents[2] / "data" / "imports"
Status = Subscriber.Status


def run(content: bytes | str | Path, **options):
    if isinstance(content, Path):
        content = content.read_bytes()
    if isinstance(content, str):
        content = content.encode()
    return import_subscribers(stream=io.BytesIO(content), **options)


def status_of(email: str) -> str:
    return Subscriber.objects.get(email__iexact=email).status


@pytest.fixture
def topics():
    return {
        "ai": TopicFactory(name="AI", slug="ai"),
        "cyber": TopicFactory(name="Cybersecurity", slug="cybersecurity"),
        "privacy": TopicFactory(name="Data protection", slug="data-protection"),
    }


# ------------------------------------------------------------ each format


def test_mailchimp_subscribed_export_keeps_consent_time_ip_and_tags(topics):
    report = run(FIXTURES / "mailchimp_subscribed.csv")
    assert report.format_label == "Mailchimp"
    assert (report.new, report.invalid) == (2, 1)
    ada = Subscriber.objects.get(email="ada@example.org")
    assert ada.status == Status.ACTIVE and ada.name == "Ada Lovelace"
    # CONFIRM_TIME (the double opt-in) is the consent, with its IP.
    assert ada.confirmed_at == datetime(2023, 3, 1, 9, 15, 2, tzinfo=UTC)
    assert ada.consent_at == ada.confirmed_at
    assert ada.consent_source == "import:mailchimp"
    assert str(ada.consent_ip) == "203.0.113.7"
    assert "CONFIRM_TIME" in ada.consent_text
    assert set(ada.topics.values_list("slug", flat=True)) == {"ai", "data-protection"}
    # Only an OPTIN_TIME: that is the consent date.
    grace = Subscriber.objects.get(email="grace@example.org")
    assert grace.consent_at == datetime(2023, 4, 2, 10, 0, tzinfo=UTC)
    # No date at all: not stored, and the report says why, with its line.
    assert not Subscriber.objects.filter(email="noconsent@example.org").exists()
    (note,) = report.notes
    assert note.line == 4 and "No consent record" in note.reason


def test_mailchimp_unsubscribed_and_cleaned_files_come_in_suppressed():
    run(FIXTURES / "mailchimp_unsubscribed.csv")
    report = run(FIXTURES / "mailchimp_cleaned.csv")
    assert status_of("left@example.org") == Status.UNSUBSCRIBED
    assert status_of("gone@example.org") == Status.BOUNCED  # cleaned = hard bounces
    assert report.suppressed == 1
    assert not Subscriber.objects.receiving().exists()


def test_substack_export_suppresses_disabled_email():
    report = run(FIXTURES / "substack.csv")
    assert report.format_label == "Substack"
    assert status_of("reader@example.org") == Status.ACTIVE
    assert Subscriber.objects.get(email="reader@example.org").consent_at == datetime(
        2024, 2, 11, 16, 20, 44, tzinfo=UTC
    )
    assert status_of("paid@example.org") == Status.ACTIVE
    assert status_of("muted@example.org") == Status.UNSUBSCRIBED


def test_ghost_export_reads_labels_as_topics_and_unsubscribed_members(topics):
    report = run(FIXTURES / "ghost.csv")
    assert report.format_label == "Ghost"
    member = Subscriber.objects.get(email="member@example.org")
    assert member.status == Status.ACTIVE and member.name == "Mia Member"
    assert set(member.topics.values_list("slug", flat=True)) == {"ai", "cybersecurity"}
    assert status_of("quiet@example.org") == Status.UNSUBSCRIBED


def test_buttondown_export_maps_subscriber_types(topics):
    report = run(FIXTURES / "buttondown.csv")
    assert report.format_label == "Buttondown"
    one = Subscriber.objects.get(email="bd.one@example.org")
    assert one.status == Status.ACTIVE
    assert list(one.topics.values_list("slug", flat=True)) == ["ai"]
    assert status_of("bd.two@example.org") == Status.UNSUBSCRIBED
    # 'unactivated' never confirmed there: not imported as a subscriber without --as-pending.
    assert not Subscriber.objects.filter(email="bd.three@example.org").exists()
    assert [n.line for n in report.notes] == [4]


def test_listmonk_export_suppresses_blocklisted():
    report = run(FIXTURES / "listmonk.csv")
    assert report.format_label == "listmonk"
    assert Subscriber.objects.get(email="lm.one@example.org").name == "Lee Monk"
    assert status_of("lm.one@example.org") == Status.ACTIVE
    assert status_of("lm.two@example.org") == Status.UNSUBSCRIBED


def test_plain_file_needs_consent_columns_to_confirm(topics):
    report = run(FIXTURES / "plain.csv")
    assert report.format_label == "plain CSV"
    one = Subscriber.objects.get(email="plain.one@example.org")
    assert one.status == Status.ACTIVE
    assert one.consent_source == "conference sign-up sheet"
    assert set(one.topics.values_list("slug", flat=True)) == {"ai", "cybersecurity"}
    assert not Subscriber.objects.filter(email="plain.two@example.org").exists()
    assert report.invalid == 1


def test_headerless_plain_file_as_pending_sends_confirmations(django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        report = run(FIXTURES / "plain_headerless.csv", as_pending=True)
    assert (report.new, report.confirmations) == (2, 2)
    bea = Subscriber.objects.get(email="bare.one@example.org")
    assert bea.status == Status.PENDING and bea.name == "Bea One"
    assert sorted(m.to[0] for m in mail.outbox) == ["bare.one@example.org", "bare.two@example.org"]
    assert all("/subscribe/confirm/" in m.body for m in mail.outbox)


def test_as_pending_sends_no_confirmation_to_suppressed_rows(django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        run(FIXTURES / "substack.csv", as_pending=True)
    assert status_of("muted@example.org") == Status.UNSUBSCRIBED
    assert status_of("reader@example.org") == Status.PENDING
    assert "muted@example.org" not in [m.to[0] for m in mail.outbox]
    assert len(mail.outbox) == 2


# ------------------------------------------------------ against the database


def test_dry_run_reports_new_updated_unchanged_invalid_and_stores_nothing():
    SubscriberFactory(email="Known@Example.org", active=True, name="Known")
    SubscriberFactory(email="pending@example.org", name="")
    content = (
        "email,name,consent_at,consent_source\n"
        "new@example.org,New,2024-01-01,form\n"
        "KNOWN@example.org,Known,2024-01-01,form\n"
        "pending@example.org,Pen,2024-01-01,form\n"
        "not-an-address,X,2024-01-01,form\n"
    )
    before = list(Subscriber.objects.values_list("email", "status", "name"))
    report = run(content, dry_run=True)
    assert (report.new, report.updated, report.unchanged, report.invalid) == (1, 1, 1, 1)
    assert report.notes[0].line == 5 and "valid email address" in report.notes[0].reason
    assert "dry run" in report.summary()
    assert list(Subscriber.objects.values_list("email", "status", "name")) == before
    assert mail.outbox == []
    # The same file for real does what the dry run said.
    real = run(content)
    assert (real.new, real.updated, real.unchanged, real.invalid) == (1, 1, 1, 1)
    assert status_of("pending@example.org") == Status.ACTIVE


def test_reimport_is_unchanged():
    run(FIXTURES / "ghost.csv")
    again = run(FIXTURES / "ghost.csv")
    assert (again.new, again.updated, again.unchanged) == (0, 0, 2)


def test_an_unsubscribe_in_the_file_suppresses_an_active_subscriber():
    SubscriberFactory(email="left@example.org", active=True)
    report = run(FIXTURES / "mailchimp_unsubscribed.csv")
    assert report.updated == 1 and report.suppressed == 1
    assert status_of("left@example.org") == Status.UNSUBSCRIBED


@pytest.mark.parametrize("here", [Status.UNSUBSCRIBED, Status.BOUNCED, Status.COMPLAINED])
def test_an_address_suppressed_here_is_never_resubscribed_by_an_import(
    here, django_capture_on_commit_callbacks
):
    SubscriberFactory(email="reader@example.org", status=here)
    with django_capture_on_commit_callbacks(execute=True):
        report = run(FIXTURES / "substack.csv", as_pending=True)
    assert status_of("reader@example.org") == here
    assert "reader@example.org" not in [m.to[0] for m in mail.outbox]
    assert any(
        n.email == "reader@example.org" and "left suppressed" in n.reason for n in report.notes
    )


def test_duplicates_in_the_file_compare_case_insensitively():
    content = (
        "email,consent_at,consent_source\n"
        "dup@example.org,2024-01-01,form\n"
        "DUP@Example.ORG,2024-01-01,form\n"
        "other@example.org,2024-01-01,form\n"
    )
    report = run(content)
    assert (report.new, report.duplicates) == (2, 1)
    (note,) = report.notes
    assert note.line == 3 and "Duplicate of line 2" in note.reason
    assert Subscriber.objects.filter(email__iexact="dup@example.org").count() == 1


# ------------------------------------------------------------- bad input

PLAIN_ROWS = (
    "email,name,consent_at,consent_source\n"
    "zoë@example.org,Zoë,2024-01-01,form\n"
    "zoe@example.org,Zoë Ångström,2024-01-01,form\n"
)


@pytest.mark.parametrize(
    ("encoded", "label"),
    [
        (b"\xef\xbb\xbf" + PLAIN_ROWS.encode(), "UTF-8 with BOM"),
        (PLAIN_ROWS.encode("utf-16"), "UTF-16"),
        (PLAIN_ROWS.encode("utf-16-le"), "UTF-16 LE"),
        (PLAIN_ROWS.encode("latin-1"), "Windows-1252 / Latin-1"),
    ],
)
def test_other_encodings_are_detected(encoded, label):
    report = run(encoded)
    assert report.encoding == label
    # A non-ASCII local part is refused as on the form: proof the cell was decoded.
    assert report.invalid == 1 and "accented" in report.notes[0].reason
    assert report.notes[0].email == "zoë@example.org"
    assert Subscriber.objects.get(email="zoe@example.org").name == "Zoë Ångström"


@pytest.mark.parametrize("codec", ["utf-8-sig", "utf-16", "latin-1"])
def test_names_decode_in_every_encoding(codec):
    content = (
        "email;name;consent_at;consent_source\nzoe@example.org;Zoë Ångström;2024-01-01;form\n"
    )
    report = run(content.encode(codec))
    assert report.delimiter == ";" and report.new == 1
    assert Subscriber.objects.get(email="zoe@example.org").name == "Zoë Ångström"


def test_semicolon_separated_mailchimp_export_from_a_spreadsheet():
    content = (FIXTURES / "mailchimp_subscribed.csv").read_text()
    report = run(content.replace(",", ";").replace('""AI"";""Data protection""', ""))
    assert report.format_label == "Mailchimp" and report.new == 2


def test_header_injection_attempts_are_refused_with_their_line():
    content = (
        "email,name,consent_at,consent_source\n"
        '"victim@example.org\r\nBcc: everyone@example.org",X,2024-01-01,form\n'
        'ok@example.org,"Eve\r\nBcc: all@example.org",2024-01-01,form\n'
        "fine@example.org,Fine,2024-01-01,form\n"
    )
    report = run(content)
    assert report.new == 1 and report.invalid == 2
    assert [n.line for n in report.notes] == [2, 4]
    assert "line breaks" in report.notes[0].reason
    assert "line break" in report.notes[1].reason
    assert list(Subscriber.objects.values_list("email", flat=True)) == ["fine@example.org"]


def test_undecodable_bytes_after_the_sniffed_start_are_a_line_in_the_report():
    # The first 64 KB are UTF-8, so the file is read as UTF-8; a bad byte later on
    # spoils its own row only.
    rows = "".join(f"a{n}@example.org,2024-01-01,form\n" for n in range(3000))
    content = b"email,consent_at,consent_source\n" + rows.encode()
    content += b"b\xff\xfe@example.org,2024-01-01,form\nc@example.org,2024-01-01,form\n"
    report = run(content, dry_run=True)
    assert report.encoding == "UTF-8"
    assert report.new == 3001 and report.invalid == 1
    assert report.notes[0].line == 3002 and "not valid text" in report.notes[0].reason


def test_a_file_over_the_limit_is_refused_before_anything_is_stored(settings, tmp_path):
    settings.SUBSCRIBER_IMPORT_MAX_BYTES = 64 * 1024 * 1024
    big = tmp_path / "huge.csv"
    with big.open("wb") as handle:
        handle.write(b"email,consent_at,consent_source\nfirst@example.org,2024-01-01,form\n")
        handle.truncate(200 * 1024 * 1024)  # 200 MB (sparse: no need to write it all)
    with (
        big.open("rb") as stream,
        pytest.raises(ImportRefused, match="200 MB; the limit is 64 MB"),
    ):
        import_subscribers(stream=stream)
    assert not Subscriber.objects.exists()


def test_an_overlong_line_is_skipped_and_reported():
    content = "email,name,consent_at,consent_source\n"
    content += "long@example.org," + "x" * 200_000 + ",2024-01-01,form\n"
    content += "after@example.org,After,2024-01-01,form\n"
    report = run(content)
    assert report.new == 1 and report.invalid == 1
    assert report.notes[0].line == 2 and "longer than" in report.notes[0].reason


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("", "empty"),
        ("name,city\nAda,London\n", "No email column"),
    ],
)
def test_files_that_are_not_subscriber_lists_are_refused(content, message):
    with pytest.raises(ImportRefused, match=message):
        run(content)


def test_bad_consent_dates_are_invalid_rows():
    content = (
        "email,consent_at,consent_source\na@example.org,soon,form\nb@example.org,2999-01-01,form\n"
    )
    report = run(content)
    assert report.invalid == 2
    assert "is not a date" in report.notes[0].reason
    assert "in the future" in report.notes[1].reason


# ------------------------------------------------------------- streaming


def _generated_file(path: Path, rows: int) -> Path:
    with path.open("w", encoding="utf-8", newline="") as handle:
        handle.write("Email Address,First Name,Last Name,OPTIN_TIME,OPTIN_IP,LEID,TAGS\n")
        for n in range(rows):
            handle.write(f"reader{n}@example.org,Reader,Number {n},2024-01-02 03:04:05,,{n},\n")
    return path


def _peak_memory(path: Path, *, dry_run: bool) -> tuple[int, object]:
    import tracemalloc

    tracemalloc.start()
    try:
        with path.open("rb") as stream:
            report = import_subscribers(stream=stream, dry_run=dry_run)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    return peak, report


@pytest.mark.slow
def test_100000_rows_stream_in_constant_memory(tmp_path):
    # Dry run: the whole path (reading, checking, duplicate index, database lookups per
    # chunk) except the inserts, which the next test measures on fewer rows.
    small_peak, _ = _peak_memory(_generated_file(tmp_path / "small.csv", 5_000), dry_run=True)
    large_peak, report = _peak_memory(
        _generated_file(tmp_path / "large.csv", 100_000), dry_run=True
    )
    assert report.new == 100_000 and report.invalid == 0
    print(f"peak: 5,000 rows {small_peak / 1e6:.2f} MB, 100,000 rows {large_peak / 1e6:.2f} MB")
    # Twenty times the rows, about the same peak: memory follows the chunk, not the file.
    assert large_peak < small_peak * 1.5 + 500_000
    assert large_peak < 10_000_000


@pytest.mark.slow
def test_writing_rows_takes_the_memory_of_one_chunk(tmp_path):
    small_peak, _ = _peak_memory(_generated_file(tmp_path / "small.csv", 1_000), dry_run=False)
    Subscriber.objects.all().delete()
    large_peak, report = _peak_memory(
        _generated_file(tmp_path / "large.csv", 10_000), dry_run=False
    )
    assert report.new == 10_000 and Subscriber.objects.count() == 10_000
    print(f"peak: 1,000 rows {small_peak / 1e6:.2f} MB, 10,000 rows {large_peak / 1e6:.2f} MB")
    assert large_peak < small_peak * 1.5 + 500_000
