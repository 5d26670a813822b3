"""The import_subscribers command: report lines, summary, dry run, refusals."""

from __future__ import annotations

from io import StringIO
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from newsletters.models import Subscriber

pytestmark = pytest.mark.django_db

FIXTURES = Path(__file__).resolve().parents[1] / "data" / "imports"


def run(*args: str) -> str:
    out = StringIO()
    call_command("import_subscribers", *args, stdout=out)
    return out.getvalue()


def test_dry_run_prints_each_problem_line_and_a_summary_and_stores_nothing():
    output = run(str(FIXTURES / "mailchimp_subscribed.csv"), "--dry-run")
    assert "line 4: noconsent@example.org: No consent record" in output
    assert output.strip().endswith(
        "3 rows (Mailchimp, UTF-8): 2 new, 0 updated, 0 unchanged, 0 duplicates, "
        "1 invalid — dry run: nothing was stored."
    )
    assert not Subscriber.objects.exists()


def test_import_stores_and_as_pending_queues_confirmations(
    mailoutbox, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        output = run(str(FIXTURES / "plain_headerless.csv"), "--as-pending")
    assert "2 new" in output and "2 confirmation emails were sent" in output
    assert Subscriber.objects.filter(status=Subscriber.Status.PENDING).count() == 2
    assert len(mailoutbox) == 2  # queued after each chunk commits


def test_unknown_files_are_a_command_error(tmp_path):
    path = tmp_path / "people.csv"
    path.write_text("name,city\nAda,London\n")
    with pytest.raises(CommandError, match="people.csv: No email column"):
        run(str(path))
    with pytest.raises(CommandError, match="is not a file"):
        run(str(tmp_path / "missing.csv"))
