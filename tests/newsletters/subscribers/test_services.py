import time
from datetime import UTC, datetime
from unittest import mock

import pytest
from django.core import mail
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from newsletters.models import Subscriber
from newsletters.subscribers import services as subscriptions
from newsletters.subscribers.services import (
    ConfirmOutcome,
    InvalidAddress,
    SubscribeOutcome,
    confirm_subscription,
    normalise_address,
    subscribe,
)
from newsletters.subscribers.tokens import InvalidToken, Purpose, make_token
from tests.factories import SubscriberFactory, TopicFactory

pytestmark = pytest.mark.django_db


# --------------------------------------------------------------- addresses


@pytest.mark.parametrize(
    "bad",
    [
        "a@b.c\r\nBcc: x@y.z",
        "a@b.c\nBcc: x@y.z",
        "a@b.c\r\n",
        "\r\na@b.c",
        "a@b.c\x00",
        "not-an-address",
        "@example.org",
        "name@",
        "two@@example.org",
        "name@example",
        "name@localhost",
        "a b@example.org",
        '"quoted"@example.org',
        "a,b@example.org",
        "<a@example.org>",
        "Someone <a@example.org>",
        "a@exa mple.org",
        "a" * 65 + "@example.org",
        "x" * 10_000 + "@example.org",
        "a@" + "b" * 10_000 + ".org",
        "",
        "   ",
    ],
)
def test_bad_addresses_are_refused(bad):
    with pytest.raises(InvalidAddress):
        normalise_address(bad)


def test_ten_thousand_character_address_says_it_is_too_long():
    with pytest.raises(InvalidAddress, match="too long"):
        normalise_address("x" * 10_000)


def test_header_injection_gets_a_line_break_message():
    with pytest.raises(InvalidAddress, match="line breaks"):
        normalise_address("a@b.c\r\nBcc: x@y.z")


def test_idn_domain_is_stored_as_punycode_and_lower_case():
    assert normalise_address("Anna@Bücher.Example") == "Anna@xn--bcher-kva.example"


def test_non_ascii_local_part_is_refused_with_a_clear_message():
    with pytest.raises(InvalidAddress, match="before the @"):
        normalise_address("jörg@example.org")


def test_surrounding_spaces_are_trimmed():
    assert normalise_address("  reader@example.org ") == "reader@example.org"


# --------------------------------------------------------------- subscribe


def test_subscribe_new_address_creates_pending_subscriber_and_sends_confirmation():
    topic = TopicFactory()
    outcome = subscribe(email="reader@example.org", topics=[topic], ip="192.0.2.1")
    assert outcome == SubscribeOutcome.CONFIRMATION_SENT
    subscriber = Subscriber.objects.get()
    assert subscriber.status == Subscriber.Status.PENDING
    assert subscriber.confirmed_at is None
    assert list(subscriber.topics.all()) == [topic]
    assert subscriber.consent_ip == "192.0.2.1"
    assert subscriber.consent_text
    assert len(mail.outbox) == 1
    assert mail.outbox[0].to == ["reader@example.org"]
    assert "/subscribe/confirm/" in mail.outbox[0].body


def test_subscribe_twice_keeps_one_row_and_sends_one_email_within_the_window():
    subscribe(email="reader@example.org")
    outcome = subscribe(email="READER@example.org")
    assert outcome == SubscribeOutcome.RATE_LIMITED
    assert Subscriber.objects.count() == 1
    assert len(mail.outbox) == 1


def test_subscribe_again_after_the_window_resends_confirmation():
    subscribe(email="reader@example.org")
    with mock.patch("digest.core.ratelimit.time.time", return_value=time.time() + 3700):
        assert subscribe(email="reader@example.org") == SubscribeOutcome.CONFIRMATION_SENT
    assert len(mail.outbox) == 2
    assert Subscriber.objects.count() == 1


def test_subscribe_known_active_address_sends_preferences_notice_and_changes_nothing():
    topic = TopicFactory()
    subscriber = SubscriberFactory(active=True, email="reader@example.org", topics=[topic])
    outcome = subscribe(email="reader@example.org", topics=[TopicFactory()])
    assert outcome == SubscribeOutcome.NOTICE_SENT
    subscriber.refresh_from_db()
    assert subscriber.status == Subscriber.Status.ACTIVE
    assert list(subscriber.topics.all()) == [topic]
    assert "/preferences/" in mail.outbox[0].body


def test_complained_address_gets_no_email_at_all():
    SubscriberFactory(email="angry@example.org", status=Subscriber.Status.COMPLAINED)
    assert subscribe(email="angry@example.org") == SubscribeOutcome.SUPPRESSED
    assert mail.outbox == []


@pytest.mark.parametrize(
    "address", ["probe@[127.0.0.1]", "probe@[IPv6:::1]", "probe@127.0.0.1", "probe@[10.0.0.1]"]
)
def test_ip_literal_domains_are_refused(address):
    with pytest.raises(InvalidAddress, match="not an IP address"):
        normalise_address(address)


@pytest.mark.parametrize("status", [Subscriber.Status.BOUNCED, Subscriber.Status.COMPLAINED])
def test_bounced_or_complained_address_is_never_mailed_or_reactivated_from_the_form(status):
    subscriber = SubscriberFactory(email="gone@example.org", status=status)
    outcome = subscribe(email="gone@example.org")
    token = make_token(subscriber=subscriber, purpose=Purpose.CONFIRM)

    assert outcome == SubscribeOutcome.SUPPRESSED
    assert mail.outbox == []
    with pytest.raises(InvalidToken):
        confirm_subscription(token=token)
    assert Subscriber.objects.get().status == status


def _request_path_work(monkeypatch, email: str, topics) -> tuple[list[str], list[tuple]]:
    """The SQL (shape, without values) and the enqueued tasks of one subscribe call."""
    queued = []
    monkeypatch.setattr(
        subscriptions, "enqueue", lambda name, **kwargs: queued.append((name, sorted(kwargs)))
    )
    with CaptureQueriesContext(connection) as queries:
        subscribe(email=email, topics=topics)
    shapes = [query["sql"].split(" ")[0] for query in queries.captured_queries]
    return shapes, queued


def test_subscribe_does_the_same_work_for_every_kind_of_address(monkeypatch):
    """No timing oracle: new, pending, active, unsubscribed, bounced, complained and
    rate-limited addresses all cost the same queries and one queued task."""
    topics = [TopicFactory()]
    for status in Subscriber.Status:
        SubscriberFactory(email=f"{status}@example.org", status=status)
    limited = "limited@example.org"
    for _ in range(10):
        subscribe(email=limited)
    mail.outbox.clear()

    addresses = [f"{status}@example.org" for status in Subscriber.Status]
    work = {
        email: _request_path_work(monkeypatch, email, topics)
        for email in ["fresh@example.org", *addresses, limited]
    }

    assert len({repr(value) for value in work.values()}) == 1, work
    shapes, queued = work["fresh@example.org"]
    assert len(queued) == 1
    assert queued[0][0] == subscriptions.SUBSCRIBER_EMAIL_TASK


def _whole_work(email: str, topics) -> dict:
    """Everything one subscribe call does with tasks run eagerly (inside the call, as
    with CELERY_TASK_ALWAYS_EAGER): SQL shapes, templates rendered (by kind), messages
    handed to a mail backend (by kind of backend)."""
    from django.core.mail import EmailMultiAlternatives

    rendered, sent = [], []
    real_render, real_send = subscriptions.render_to_string, EmailMultiAlternatives.send

    def render(name, context):
        rendered.append(name.rsplit("/", 1)[-1].split(".", 1)[1])  # subject.txt, txt, html
        return real_render(name, context)

    def send(message, fail_silently=False):
        sent.append(type(message.get_connection()).__module__.rsplit(".", 1)[-1])
        return real_send(message, fail_silently=fail_silently)

    with (
        mock.patch.object(subscriptions, "render_to_string", render),
        mock.patch.object(EmailMultiAlternatives, "send", send),
        CaptureQueriesContext(connection) as queries,
    ):
        subscribe(email=email, topics=topics)
    shapes = [query["sql"].split(" ")[0] for query in queries.captured_queries]
    return {"sql": shapes, "rendered": rendered, "sends": len(sent), "backends": sent}


def test_the_eager_email_task_does_the_same_work_for_known_and_unknown_addresses(settings):
    """With the email task run inside the request, a new, pending, active, unsubscribed,
    bounced, complained or rate-limited address still costs the same statements, three
    templates rendered and one message handed to a backend; only suppressed and limited
    addresses' message goes to the null backend, and nothing reaches them."""
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    topics = [TopicFactory(), TopicFactory()]
    for status in Subscriber.Status:
        SubscriberFactory(email=f"{status}@example.org", status=status)
    limited = "limited@example.org"
    for _ in range(3):
        subscribe(email=limited)
    mail.outbox.clear()

    addresses = ["fresh@example.org", *[f"{s}@example.org" for s in Subscriber.Status], limited]
    work, mailed = {}, {}
    for email in addresses:
        work[email] = _whole_work(email, topics)
        mailed[email] = [message.to for message in mail.outbox]
        mail.outbox.clear()

    shape = {key: value for key, value in work["fresh@example.org"].items() if key != "backends"}
    for email, done in work.items():
        assert {key: value for key, value in done.items() if key != "backends"} == shape, email
    assert shape["rendered"] == ["subject.txt", "txt", "html"] and shape["sends"] == 1
    quiet = {"bounced@example.org", "complained@example.org", limited}
    for email in addresses:
        expected_backend = "dummy" if email in quiet else "locmem"
        assert work[email]["backends"] == [expected_backend], email
        assert mailed[email] == ([] if email in quiet else [[email]]), email
    # The topics were set only where the address is still pending.
    for status in Subscriber.Status:
        chosen = set(Subscriber.objects.get(email=f"{status}@example.org").topics.all())
        assert chosen == (set(topics) if status == Subscriber.Status.PENDING else set()), status
    assert set(Subscriber.objects.get(email="fresh@example.org").topics.all()) == set(topics)


def test_subscribe_refuses_injection_and_stores_nothing():
    with pytest.raises(InvalidAddress):
        subscribe(email="a@b.c\r\nBcc: x@y.z")
    assert Subscriber.objects.count() == 0
    assert mail.outbox == []


# ----------------------------------------------------------------- confirm


def test_confirm_activates_pending_subscriber():
    subscriber = SubscriberFactory()
    token = make_token(subscriber=subscriber, purpose=Purpose.CONFIRM)
    result = confirm_subscription(token=token)
    assert result.outcome == ConfirmOutcome.CONFIRMED
    subscriber.refresh_from_db()
    assert subscriber.status == Subscriber.Status.ACTIVE
    assert subscriber.confirmed_at is not None
    assert Subscriber.objects.receiving().filter(pk=subscriber.pk).exists()


def test_reusing_confirm_token_is_harmless():
    subscriber = SubscriberFactory()
    token = make_token(subscriber=subscriber, purpose=Purpose.CONFIRM)
    confirm_subscription(token=token)
    confirmed_at = Subscriber.objects.get().confirmed_at
    assert confirm_subscription(token=token).outcome == ConfirmOutcome.ALREADY_ACTIVE
    assert Subscriber.objects.get().confirmed_at == confirmed_at


def test_confirm_token_from_before_an_unsubscribe_does_not_resubscribe():
    subscriber = SubscriberFactory()
    old_token = make_token(subscriber=subscriber, purpose=Purpose.CONFIRM)
    confirm_subscription(token=old_token)
    with mock.patch(
        "django.utils.timezone.now", return_value=timezone.now() + timezone.timedelta(seconds=5)
    ):
        subscriptions.unsubscribe(subscriber=subscriber)
    with pytest.raises(InvalidToken, match="older than your last unsubscribe"):
        confirm_subscription(token=old_token)
    assert Subscriber.objects.get().status == Subscriber.Status.UNSUBSCRIBED


def test_confirm_link_issued_in_the_same_second_before_an_unsubscribe_is_refused():
    """The age check compares exact times, not whole seconds."""
    subscriber = SubscriberFactory()
    second = float(int(time.time()))
    with mock.patch("newsletters.subscribers.tokens.time.time", return_value=second + 0.1):
        token = make_token(subscriber=subscriber, purpose=Purpose.CONFIRM)
    confirm_subscription(token=token)
    unsubscribed_at = datetime.fromtimestamp(second + 0.5, tz=UTC)
    with mock.patch("django.utils.timezone.now", return_value=unsubscribed_at):
        subscriptions.unsubscribe(subscriber=subscriber)

    with pytest.raises(InvalidToken, match="older than your last unsubscribe"):
        confirm_subscription(token=token)
    assert Subscriber.objects.get().status == Subscriber.Status.UNSUBSCRIBED


def test_confirm_link_issued_after_an_unsubscribe_in_the_same_second_works():
    subscriber = SubscriberFactory(active=True)
    second = float(int(time.time()))
    with mock.patch(
        "django.utils.timezone.now", return_value=datetime.fromtimestamp(second + 0.2, tz=UTC)
    ):
        subscriptions.unsubscribe(subscriber=subscriber)
    with mock.patch("newsletters.subscribers.tokens.time.time", return_value=second + 0.7):
        token = make_token(subscriber=subscriber, purpose=Purpose.CONFIRM)

    assert confirm_subscription(token=token).outcome == ConfirmOutcome.CONFIRMED


def test_unsubscribed_address_subscribing_again_is_reactivated_by_the_new_link():
    subscriber = SubscriberFactory(
        active=True,
        email="back@example.org",
        status=Subscriber.Status.UNSUBSCRIBED,
        unsubscribed_at=timezone.now() - timezone.timedelta(days=3),
    )
    assert subscribe(email="back@example.org") == SubscribeOutcome.CONFIRMATION_SENT
    assert (
        Subscriber.objects.get().status == Subscriber.Status.UNSUBSCRIBED
    )  # not before confirming
    token = make_token(subscriber=subscriber, purpose=Purpose.CONFIRM)
    assert confirm_subscription(token=token).outcome == ConfirmOutcome.CONFIRMED
    assert Subscriber.objects.get().status == Subscriber.Status.ACTIVE


def test_confirm_refused_for_complained_subscriber():
    subscriber = SubscriberFactory(status=Subscriber.Status.COMPLAINED)
    with pytest.raises(InvalidToken):
        confirm_subscription(token=make_token(subscriber=subscriber, purpose=Purpose.CONFIRM))


# ------------------------------------------------- preferences and leaving


def test_update_preferences_sets_topics_and_pause():
    subscriber = SubscriberFactory(active=True)
    topics = [TopicFactory(), TopicFactory()]
    subscriptions.update_preferences(subscriber=subscriber, topics=topics, paused=True)
    subscriber.refresh_from_db()
    assert set(subscriber.topics.all()) == set(topics)
    assert subscriber.is_paused
    assert not Subscriber.objects.receiving().exists()


def test_unsubscribe_is_idempotent_and_resubscribe_restores():
    subscriber = SubscriberFactory(active=True)
    assert subscriptions.unsubscribe(subscriber=subscriber) is True
    assert subscriptions.unsubscribe(subscriber=subscriber) is False
    assert not Subscriber.objects.receiving().exists()
    assert subscriptions.resubscribe(subscriber=subscriber) is True
    assert Subscriber.objects.receiving().get() == subscriber


def test_resubscribe_needs_an_earlier_confirmation():
    subscriber = SubscriberFactory(status=Subscriber.Status.UNSUBSCRIBED)
    assert subscriptions.resubscribe(subscriber=subscriber) is False
    assert Subscriber.objects.get().status == Subscriber.Status.UNSUBSCRIBED


def test_permanent_failures_mark_bounced_at_the_limit(settings):
    settings.NEWSLETTER_BOUNCE_LIMIT = 2
    subscriber = SubscriberFactory(active=True)
    assert subscriptions.record_permanent_failure(subscriber=subscriber) is False
    assert Subscriber.objects.get().status == Subscriber.Status.ACTIVE
    assert subscriptions.record_permanent_failure(subscriber=subscriber) is True
    subscriber.refresh_from_db()
    assert subscriber.status == Subscriber.Status.BOUNCED
    assert subscriber.bounce_count == 2
    assert not Subscriber.objects.receiving().exists()


def test_complaint_and_bounce_by_address_stop_receiving():
    one = SubscriberFactory(active=True, email="one@example.org")
    two = SubscriberFactory(active=True, email="two@example.org")
    assert subscriptions.mark_complained(email="ONE@example.org")
    assert subscriptions.mark_bounced(email="two@example.org")
    one.refresh_from_db()
    two.refresh_from_db()
    assert one.status == Subscriber.Status.COMPLAINED
    assert two.status == Subscriber.Status.BOUNCED
    assert not Subscriber.objects.receiving().exists()
    assert not subscriptions.mark_bounced(email="nobody@example.org")
