import io

import pytest
from django.core import mail
from django.core.management import CommandError, call_command

from newsletters.management.commands import send_issue as send_issue_command
from newsletters.models import Delivery, Issue
from newsletters.sending.start import begin_issue_send
from tests.factories import IssueFactory, IssueItemFactory, SubscriberFactory

pytestmark = pytest.mark.django_db


class FakeTerminal(io.StringIO):
    def isatty(self) -> bool:
        return True


@pytest.fixture
def issue():
    issue = IssueFactory(number=7)
    IssueItemFactory(issue=issue)
    return issue


def test_send_issue_sends_to_everyone_and_prints_summary(issue, settings):
    settings.NEWSLETTER_BATCH_SIZE = 2
    subscribers = [SubscriberFactory(active=True) for _ in range(5)]
    out = io.StringIO()
    call_command("send_issue", "7", stdout=out)
    assert sorted(m.to[0] for m in mail.outbox) == sorted(s.email for s in subscribers)
    assert "Issue #7: 5 sent, 0 failed, 0 waiting for a retry, of 5" in out.getvalue()
    assert "\r" not in out.getvalue()  # no bar when not on a terminal
    assert Issue.objects.get(pk=issue.pk).status == Issue.Status.SENT


def test_send_issue_draws_a_progress_bar_on_a_terminal(issue):
    SubscriberFactory(active=True)
    out = FakeTerminal()
    call_command("send_issue", "7", stdout=out)
    assert "\r" in out.getvalue() and "1/1" in out.getvalue()


def test_send_issue_resumes_a_send_under_way(issue):
    done, left = SubscriberFactory(active=True), SubscriberFactory(active=True)
    Issue.objects.filter(pk=issue.pk).update(status=Issue.Status.SENDING)
    Delivery.objects.create(issue=issue, subscriber=done, status=Delivery.Status.SENT)
    Delivery.objects.create(issue=issue, subscriber=left)
    out = io.StringIO()
    call_command("send_issue", "7", stdout=out)
    assert [m.to for m in mail.outbox] == [[left.email]]
    assert "resuming" in out.getvalue()


def test_send_issue_refuses_a_sent_issue_and_unknown_number():
    IssueFactory(number=3, status=Issue.Status.SENT)
    with pytest.raises(CommandError, match="already sent"):
        call_command("send_issue", "3", stdout=io.StringIO())
    with pytest.raises(CommandError, match="no issue #99"):
        call_command("send_issue", "99", stdout=io.StringIO())


def test_send_issue_test_copy_goes_to_one_address_only(issue):
    SubscriberFactory(active=True)
    out = io.StringIO()
    call_command("send_issue", "7", "--test", "editor@example.org", stdout=out)
    assert [m.to for m in mail.outbox] == [["editor@example.org"]]
    assert mail.outbox[0].subject.startswith("[Test]")
    assert Issue.objects.get(pk=issue.pk).status == Issue.Status.DRAFT
    assert "Sent a test copy of #7 to editor@example.org" in out.getvalue()


def test_send_issue_test_copy_refuses_injection(issue):
    with pytest.raises(CommandError, match="line breaks"):
        call_command("send_issue", "7", "--test", "a@b.c\r\nBcc: x@y.z", stdout=io.StringIO())
    assert mail.outbox == []


def test_send_issue_losing_the_start_race_says_so_and_exits_with_1(issue, monkeypatch):
    """Another start moves the issue to sending between the command's check and its own start."""
    SubscriberFactory(active=True)
    real_begin = begin_issue_send

    def someone_else_starts_first(*, issue, **kwargs):
        real_begin(issue=Issue.objects.get(pk=issue.pk), enqueue=False)
        return real_begin(issue=issue, **kwargs)

    monkeypatch.setattr(send_issue_command, "begin_issue_send", someone_else_starts_first)

    with pytest.raises(CommandError, match="Another start of this send won") as raised:
        call_command("send_issue", "7", stdout=io.StringIO())

    assert raised.value.returncode == 1
    assert Issue.objects.get(pk=issue.pk).status == Issue.Status.SENDING
    assert mail.outbox == []
