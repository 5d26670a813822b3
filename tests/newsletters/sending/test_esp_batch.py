"""Batch sending through an ESP's API (django-anymail): one call per batch with each
recipient's merge data, per-recipient state as for SMTP.

The real anymail backends of SendGrid and Mailgun post to fake APIs on 127.0.0.1; anymail's test
backend, told to report chosen per-recipient statuses, stands in for a provider that
refuses single recipients of a batch call.
"""

from __future__ import annotations

import json
import re
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qsl

import pytest
from anymail.backends.test import EmailBackend as AnymailTestBackend
from anymail.message import AnymailRecipientStatus
from django.core import mail

from newsletters.models import Delivery, Issue, Subscriber
from newsletters.rendering import personalise
from newsletters.sending import esp_batch
from newsletters.sending.batch import send_batch
from newsletters.sending.mime import rendered_issue
from tests.newsletters.sending.helpers import active, sending_issue_with

pytestmark = pytest.mark.django_db


class FakeAPI:
    """An ESP's send API on loopback: records each call, answers ``status``/``body``."""

    def __init__(self, *, body: bytes = b"") -> None:
        self.calls: list[tuple[str, str, bytes]] = []  # path, content type, body
        self.status = 202
        self.body = body
        # Optional: (path, request body) -> (status, answer body), instead of the above.
        self.answer = None
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802 - http.server's name
                length = int(self.headers["Content-Length"])
                request = self.rfile.read(length)
                fake.calls.append((self.path, self.headers["Content-Type"], request))
                status, body = (
                    fake.answer(self.path, request) if fake.answer else (fake.status, fake.body)
                )
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_port}/v3/"

    def json_calls(self) -> list[tuple[str, dict]]:
        return [(path, json.loads(body)) for path, _, body in self.calls]

    def form_calls(self) -> list[tuple[str, list[tuple[str, str]]]]:
        """Each form-encoded call's fields, in order (a name may repeat)."""
        return [
            (path, parse_qsl(body.decode(), keep_blank_values=True))
            for path, _, body in self.calls
        ]

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def _sign_without_time(monkeypatch) -> None:
    # Links signed without the time, so the expected message can be built again here.
    monkeypatch.setattr(
        "newsletters.rendering.make_token",
        lambda *, subscriber, purpose: f"token-{subscriber.pk}-{purpose.value}",
    )


@pytest.fixture
def fake_sendgrid(settings, monkeypatch):
    fake = FakeAPI()
    settings.EMAIL_BACKEND = "anymail.backends.sendgrid.EmailBackend"
    settings.ANYMAIL = {"SENDGRID_API_KEY": "test-key", "SENDGRID_API_URL": fake.url}
    _sign_without_time(monkeypatch)
    try:
        yield fake
    finally:
        fake.close()


@pytest.fixture
def fake_mailgun(settings, monkeypatch):
    fake = FakeAPI(body=b'{"id": "<batch-1@mg.example.org>", "message": "Queued. Thank you."}')
    fake.status = 200
    settings.EMAIL_BACKEND = "anymail.backends.mailgun.EmailBackend"
    settings.ANYMAIL = {
        "MAILGUN_API_KEY": "test-key",
        "MAILGUN_API_URL": fake.url,
        "MAILGUN_SENDER_DOMAIN": "mg.example.org",
    }
    _sign_without_time(monkeypatch)
    try:
        yield fake
    finally:
        fake.close()


def merged(content: str, substitutions: dict[str, str]) -> str:
    """What SendGrid makes of ``content`` for one personalization."""
    for field, value in substitutions.items():
        content = content.replace(field, value)
    return content


def test_sendgrid_batch_is_one_api_call_carrying_each_recipients_own_message(issue, fake_sendgrid):
    deliveries = sending_issue_with(active(5), issue)

    result = send_batch(issue_id=issue.pk, delivery_ids=[d.pk for d in deliveries])

    assert (result.sent, result.failed) == (5, 0)
    [(path, body)] = fake_sendgrid.json_calls()
    assert path == "/v3/mail/send"
    content = {part["type"]: part["value"] for part in body["content"]}
    assert body["headers"]["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    rendered = rendered_issue(issue=issue, topic_ids=frozenset())
    assert rendered.links, "the issue should have tracked links, signed per delivery"
    by_address = {d.subscriber.email: d for d in deliveries}
    personalizations = body["personalizations"]
    assert sorted(p["to"][0]["email"] for p in personalizations) == sorted(by_address)
    for personalization in personalizations:
        [to] = personalization["to"]  # each recipient gets a message of their own
        delivery = by_address[to["email"]]
        expected = personalise(
            rendered=rendered, subscriber=delivery.subscriber, delivery_id=delivery.pk
        )
        substitutions = personalization["substitutions"]
        assert merged(content["text/plain"], substitutions) == expected.text
        assert merged(content["text/html"], substitutions) == expected.html
        assert (
            personalization["headers"]["List-Unsubscribe"] == expected.headers["List-Unsubscribe"]
        )
        assert personalization["custom_args"]["delivery_id"] == str(delivery.pk)
        delivery.refresh_from_db()
        assert delivery.status == Delivery.Status.SENT and delivery.attempts == 1
        # The provider's id for this recipient's message (what its webhooks report).
        assert delivery.message_id == personalization["custom_args"]["anymail_id"]


def test_mailgun_batch_is_one_api_call_carrying_each_recipients_own_message(issue, fake_mailgun):
    deliveries = sending_issue_with(active(4), issue)

    result = send_batch(issue_id=issue.pk, delivery_ids=[d.pk for d in deliveries])

    assert (result.sent, result.failed) == (4, 0)
    [(path, fields)] = fake_mailgun.form_calls()
    assert path == "/v3/mg.example.org/messages"
    form = dict(fields)  # the last value of a repeated name
    by_address = {d.subscriber.email: d for d in deliveries}
    assert sorted(value for name, value in fields if name == "to") == sorted(by_address)
    variables = json.loads(form["recipient-variables"])
    rendered = rendered_issue(issue=issue, topic_ids=frozenset())
    for address, delivery in by_address.items():
        expected = personalise(
            rendered=rendered, subscriber=delivery.subscriber, delivery_id=delivery.pk
        )

        def mailgun_merges(text: str, mine=variables[address]) -> str:
            return re.sub(r"%recipient\.([^%]+)%", lambda m: mine[m.group(1)], text)

        assert mailgun_merges(form["text"]) == expected.text
        assert mailgun_merges(form["html"]) == expected.html
        assert mailgun_merges(form["h:List-Unsubscribe"]) == expected.headers["List-Unsubscribe"]
        delivery.refresh_from_db()
        assert delivery.status == Delivery.Status.SENT and delivery.attempts == 1
        assert delivery.message_id == "<batch-1@mg.example.org>"
    assert form["h:List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"


def test_topic_selections_in_a_batch_get_one_call_each(issue, fake_sendgrid):
    from tests.factories import TopicFactory

    topic = TopicFactory()
    full, chosen = active(2)
    chosen.topics.add(topic)
    deliveries = sending_issue_with([full, chosen], issue)

    send_batch(issue_id=issue.pk, delivery_ids=[d.pk for d in deliveries])

    assert len(fake_sendgrid.calls) == 2
    assert set(Delivery.objects.values_list("status", flat=True)) == {"sent"}


def test_an_esp_api_failure_pauses_the_send_and_charges_nobody(issue, fake_sendgrid):
    fake_sendgrid.status = 503
    deliveries = sending_issue_with(active(3), issue)

    result = send_batch(issue_id=issue.pk, delivery_ids=[d.pk for d in deliveries])

    assert len(fake_sendgrid.calls) == 1
    assert result.paused and sorted(result.retry_ids) == sorted(d.pk for d in deliveries)
    assert set(Delivery.objects.values_list("status", "attempts")) == {("pending", 0)}
    issue = Issue.objects.get(pk=issue.pk)
    assert issue.relay_paused_since is not None and "503" in issue.relay_error


class ScriptedStatusBackend(AnymailTestBackend):
    """Anymail's test backend, reporting ``statuses[address]`` for chosen recipients as a
    provider's batch answer does."""

    statuses: dict[str, str] = {}

    def post_to_esp(self, payload, message):
        response = super().post_to_esp(payload, message)
        for address, status in self.statuses.items():
            if address in response["recipient_status"]:
                response["recipient_status"][address] = AnymailRecipientStatus(
                    message_id=None, status=status
                )
        return response


@pytest.fixture
def scripted_esp(settings, monkeypatch):
    settings.EMAIL_BACKEND = f"{__name__}.ScriptedStatusBackend"
    settings.ANYMAIL = {}
    # Anymail's test backend merges nothing itself; declare it a merging ESP.
    monkeypatch.setitem(
        esp_batch.MERGE_FIELDS,
        "Test",
        esp_batch.MergeFields(written_as="{{{{{}}}}}", esp_extra={}),
    )
    monkeypatch.setattr(ScriptedStatusBackend, "statuses", {})
    return ScriptedStatusBackend


def test_a_recipient_refused_in_the_batch_answer_fails_alone(issue, scripted_esp):
    ok, rejected, invalid, temporary, also_ok = active(5)
    scripted_esp.statuses = {
        rejected.email: "rejected",
        invalid.email: "invalid",
        temporary.email: "failed",
    }
    deliveries = sending_issue_with([ok, rejected, invalid, temporary, also_ok], issue)

    result = send_batch(issue_id=issue.pk, delivery_ids=[d.pk for d in deliveries])

    [message] = mail.outbox  # one call for the whole batch
    assert message.anymail_test_params["is_batch_send"]
    assert len(message.to) == 5
    assert (result.sent, result.failed) == (2, 2)
    state = {d.subscriber.email: d for d in Delivery.objects.select_related("subscriber")}
    assert state[ok.email].status == state[also_ok.email].status == Delivery.Status.SENT
    for refused, how in ((rejected, "rejected"), (invalid, "invalid")):
        assert state[refused.email].status == Delivery.Status.FAILED
        assert how in state[refused.email].error
        assert Subscriber.objects.get(pk=refused.pk).bounce_count == 1
    retry = state[temporary.email]
    assert retry.status == Delivery.Status.PENDING and retry.attempts == 1
    assert retry.next_attempt_at is not None and result.retry_ids == [retry.pk]
    assert Subscriber.objects.get(pk=ok.pk).bounce_count == 0


def test_every_recipient_refused_fails_each_of_them(issue, scripted_esp):
    subscribers = active(2)
    scripted_esp.statuses = {s.email: "rejected" for s in subscribers}
    deliveries = sending_issue_with(subscribers, issue)

    result = send_batch(issue_id=issue.pk, delivery_ids=[d.pk for d in deliveries])

    assert (result.sent, result.failed) == (0, 2)
    assert set(Delivery.objects.values_list("status", flat=True)) == {"failed"}


def test_an_issue_sent_through_the_batch_api_twice_sends_nobody_twice(issue, scripted_esp):
    deliveries = sending_issue_with(active(3), issue)
    ids = [d.pk for d in deliveries]

    send_batch(issue_id=issue.pk, delivery_ids=ids)
    again = send_batch(issue_id=issue.pk, delivery_ids=ids)

    assert len(mail.outbox) == 1 and again.sent == 0


MAILGUN_INVALID = (
    b'{"message": "\'to\' parameter is not a valid address. please check documentation"}'
)
MAILGUN_QUEUED = b'{"id": "<batch-1@mg.example.org>", "message": "Queued. Thank you."}'


def refusing(invalid: set[str]):
    """A Mailgun answer: the whole call refused (400) if any ``to`` is in ``invalid``."""

    def answer(path: str, request: bytes) -> tuple[int, bytes]:
        to = {value for name, value in parse_qsl(request.decode()) if name == "to"}
        return (400, MAILGUN_INVALID) if to & invalid else (200, MAILGUN_QUEUED)

    return answer


def accepted_addresses(fake: FakeAPI, invalid: set[str]) -> list[str]:
    """Every address of every call the fake accepted (an address twice: sent twice)."""
    accepted = []
    for _, fields in fake.form_calls():
        to = [value for name, value in fields if name == "to"]
        if not set(to) & invalid:
            accepted += to
    return accepted


@pytest.mark.parametrize("bad_positions", [(5,), (1, 6)])
def test_addresses_the_esp_refuses_for_the_whole_call_fail_alone(
    issue, fake_mailgun, bad_positions
):
    subscribers = active(8)
    invalid = {subscribers[i].email for i in bad_positions}
    fake_mailgun.answer = refusing(invalid)
    deliveries = sending_issue_with(subscribers, issue)

    result = send_batch(issue_id=issue.pk, delivery_ids=[d.pk for d in deliveries])

    assert (result.sent, result.failed, result.paused) == (8 - len(invalid), len(invalid), False)
    good = sorted(s.email for s in subscribers if s.email not in invalid)
    assert sorted(accepted_addresses(fake_mailgun, invalid)) == good  # each exactly once
    # Halving: at most two calls per level for each refused address.
    assert len(fake_mailgun.calls) <= 1 + 2 * len(invalid) * 3
    state = {d.subscriber.email: d for d in Delivery.objects.select_related("subscriber")}
    for address in invalid:
        assert state[address].status == Delivery.Status.FAILED
        assert "for this address alone" in state[address].error
        assert "not a valid address" in state[address].error
        assert state[address].subscriber.bounce_count == 1
    for address in good:
        assert (state[address].status, state[address].attempts) == (Delivery.Status.SENT, 1)
    assert Issue.objects.get(pk=issue.pk).relay_paused_since is None


def test_a_call_refused_whatever_the_addresses_pauses_the_send_and_fails_nobody(
    issue, fake_mailgun
):
    # Every call refused (a sender domain the account may not use, say) before any call
    # of the issue was accepted: the message is at fault, not the addresses.
    fake_mailgun.status, fake_mailgun.body = 400, b'{"message": "from parameter is missing"}'
    deliveries = sending_issue_with(active(8), issue)

    result = send_batch(issue_id=issue.pk, delivery_ids=[d.pk for d in deliveries])

    assert result.paused and sorted(result.retry_ids) == sorted(d.pk for d in deliveries)
    assert len(fake_mailgun.calls) == 1 + esp_batch._unproven_budget(8)
    assert set(Delivery.objects.values_list("status", "attempts")) == {("pending", 0)}
    assert Subscriber.objects.filter(bounce_count__gt=0).count() == 0
    assert "from parameter" in Issue.objects.get(pk=issue.pk).relay_error


def test_a_lone_refused_address_fails_once_the_issue_has_been_accepted_before(issue, fake_mailgun):
    first, bad = active(2)
    fake_mailgun.answer = refusing({bad.email})
    earlier, later = sending_issue_with([first, bad], issue)
    send_batch(issue_id=issue.pk, delivery_ids=[earlier.pk])

    result = send_batch(issue_id=issue.pk, delivery_ids=[later.pk])

    assert (result.sent, result.failed, result.paused) == (0, 1, False)
    later.refresh_from_db()
    assert later.status == Delivery.Status.FAILED and "alone" in later.error


def test_a_lone_refused_address_of_an_issue_never_accepted_pauses_the_send(issue, fake_mailgun):
    [bad] = active(1)
    fake_mailgun.answer = refusing({bad.email})
    [delivery] = sending_issue_with([bad], issue)

    result = send_batch(issue_id=issue.pk, delivery_ids=[delivery.pk])

    assert result.paused and result.failed == 0
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts) == (Delivery.Status.PENDING, 0)
    assert "not a valid address" in Issue.objects.get(pk=issue.pk).relay_error
