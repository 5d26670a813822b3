"""send_issue NUMBER: send an issue now (or resume a send), or --test EMAIL for one copy."""

from __future__ import annotations

import time

from django.core.management.base import BaseCommand, CommandError

from digest.core.progress import ProgressBar
from newsletters.models import Issue
from newsletters.sending.batch import send_batch
from newsletters.sending.deliveries import delivery_counts, finish_issue_if_done
from newsletters.sending.start import (
    IssueNotSendable,
    begin_issue_send,
    enqueue_batches,
    pending_batches,
)
from newsletters.sending.test_copy import send_test_copy
from newsletters.subscribers.services import InvalidAddress


class Command(BaseCommand):
    help = (
        "Send issue NUMBER to every receiving subscriber (resumes a send already under "
        "way), or with --test EMAIL send a single test copy."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument("number", type=int, help="The issue number.")
        parser.add_argument("--test", metavar="EMAIL", help="Send one test copy to EMAIL only.")
        parser.add_argument(
            "--queue",
            action="store_true",
            help="Hand the batches to the Celery workers and follow their progress, "
            "instead of sending from this process.",
        )

    def handle(self, *args, number: int, test: str | None, queue: bool, **options) -> None:
        issue = Issue.objects.filter(number=number).first()
        if issue is None:
            raise CommandError(f"There is no issue #{number}.")
        if test is not None:
            try:
                message_id = send_test_copy(issue=issue, email=test)
            except InvalidAddress as error:
                raise CommandError(f"Cannot send a test copy: {error}") from None
            self.stdout.write(f"Sent a test copy of #{number} to {test} ({message_id}).")
            return
        if issue.status == Issue.Status.SENT:
            raise CommandError(f"Issue #{number} was already sent on {issue.sent_at:%Y-%m-%d}.")
        started = time.monotonic()
        if issue.status in (Issue.Status.DRAFT, Issue.Status.SCHEDULED):
            try:
                start = begin_issue_send(issue=issue, enqueue=queue)
            except IssueNotSendable as error:
                # Another start (the admin, beat, a second shell) won the race: it sends.
                raise CommandError(
                    f"{error} Another start of this send won; it is sending the issue. "
                    f"Run send_issue {number} again to follow or resume it."
                ) from None
            self.stdout.write(f"Issue #{number}: sending to {start.deliveries} subscribers.")
        else:
            self.stdout.write(f"Issue #{number} is already sending: resuming.")
            if queue:
                enqueue_batches(issue_id=issue.pk, batches=pending_batches(issue_id=issue.pk))
        if queue:
            self._follow(issue)
        else:
            self._send_here(issue)
        finish_issue_if_done(issue=issue)
        counts = delivery_counts(issue)
        open_count = counts["pending"] + counts["sending"]
        elapsed = time.monotonic() - started
        summary = (
            f"Issue #{number}: {counts['sent']} sent, {counts['failed']} failed, "
            f"{open_count} waiting for a retry, of {counts['total']} in {elapsed:.1f} s."
        )
        self.stdout.write(self.style.SUCCESS(summary) if not open_count else summary)

    def _send_here(self, issue: Issue) -> None:
        counts = delivery_counts(issue)
        done = counts["sent"] + counts["failed"]
        bar = ProgressBar(self.stdout, unit="message", total=counts["total"])
        bar.update_to(done)
        for batch in pending_batches(issue_id=issue.pk):
            result = send_batch(issue_id=issue.pk, delivery_ids=batch)
            done += result.sent + result.failed
            bar.update_to(done)
        bar.finish()

    def _follow(self, issue: Issue) -> None:
        bar = ProgressBar(self.stdout, unit="message", total=delivery_counts(issue)["total"])
        last_change = time.monotonic()
        last_done = -1
        while True:
            counts = delivery_counts(issue)
            done = counts["sent"] + counts["failed"]
            bar.update_to(done)
            if counts["pending"] + counts["sending"] == 0:
                break
            if done != last_done:
                last_done, last_change = done, time.monotonic()
            elif time.monotonic() - last_change > 120:
                self.stdout.write("\nNo progress for two minutes; the workers carry on alone.")
                break
            time.sleep(1)
        bar.finish()
