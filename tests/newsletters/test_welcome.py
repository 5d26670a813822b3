"""The welcome email: sent once on confirmation, from the editors' template, latest issue
linked; none while the template is empty; templates reach only their placeholders."""

from __future__ import annotations

import pytest
from django.core import mail

from newsletters.models import Issue, Subscriber, WelcomeEmail
from newsletters.subscribers.services import confirm_subscription, send_subscriber_email
from newsletters.subscribers.tokens import Purpose, make_token
from newsletters.welcome import (
    WelcomeTemplateError,
    build_welcome,
    check_template,
    send_welcome_email,
)
from tests.factories import IssueFactory, SubscriberFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def template():
    return WelcomeEmail.objects.create(
        subject="Welcome to {{ site_name }}, {{ name }}",
        html="<p>Hello {{ name }}!</p>{% if latest_issue_url %}"
        '<p>Read <a href="{{ latest_issue_url }}">{{ latest_issue_title }}</a>.</p>{% endif %}'
        '<p><a href="{{ preferences_url }}">Preferences</a></p>',
        text="Hello {{ name }}! Latest: {{ latest_issue_url }}",
    )


def confirm(subscriber, capture):
    token = make_token(subscriber=subscriber, purpose=Purpose.CONFIRM)
    with capture(execute=True):
        return confirm_subscription(token=token)


def test_confirming_sends_the_welcome_with_the_latest_issue(
    template, django_capture_on_commit_callbacks, settings
):
    IssueFactory(number=3, title="Older", status=Issue.Status.SENT)
    IssueFactory(number=4, title="Newest", status=Issue.Status.SENT)
    IssueFactory(number=5, title="Draft")  # not published: never linked
    subscriber = SubscriberFactory(email="ada@example.org", name="Ada")
    confirm(subscriber, django_capture_on_commit_callbacks)
    (message,) = mail.outbox
    assert message.to == ["ada@example.org"]
    assert message.subject == f"Welcome to {settings.SITE_NAME}, Ada"
    assert message.body == f"Hello Ada! Latest: {settings.SITE_URL}/issues/4/"
    html = message.alternatives[0][0]
    assert f'<a href="{settings.SITE_URL}/issues/4/">#4 – Newest</a>' in html
    assert "/preferences/" in html
    assert message.extra_headers["List-Unsubscribe"].startswith(
        f"<{settings.SITE_URL}/unsubscribe/"
    )


def test_a_second_confirmation_click_welcomes_nobody_twice(
    template, django_capture_on_commit_callbacks
):
    subscriber = SubscriberFactory()
    confirm(subscriber, django_capture_on_commit_callbacks)
    confirm(subscriber, django_capture_on_commit_callbacks)
    assert len(mail.outbox) == 1


@pytest.mark.parametrize(
    "fields",
    [
        None,  # no template at all
        {"subject": "", "html": "<p>Hi</p>", "text": "Hi"},
        {"subject": "Hi", "html": "", "text": "  "},
    ],
)
def test_an_empty_template_sends_nothing(fields, django_capture_on_commit_callbacks):
    if fields:
        WelcomeEmail.objects.create(**fields)
    confirm(SubscriberFactory(), django_capture_on_commit_callbacks)
    assert mail.outbox == []


def test_html_only_template_gets_a_text_part_and_escapes_the_name(template):
    template.text = ""
    template.save()
    subscriber = SubscriberFactory(name="<script>x</script>", active=True)
    message = build_welcome(subscriber=subscriber, template=template)
    assert "&lt;script&gt;" in message.html and "<script>" not in message.html
    assert "Hello <script>x</script>!" in message.text  # plain text: no markup to escape


def test_subject_is_one_line_whatever_the_name_holds(template):
    subscriber = SubscriberFactory(name="Eve\r\nBcc: all@example.org", active=True)
    message = build_welcome(subscriber=subscriber, template=template)
    assert "\n" not in message.subject and "\r" not in message.subject


@pytest.mark.parametrize(
    "source",
    ["{% include 'base.html' %}", "{% load static %}", "{% if %}", "{{ name|nosuchfilter }}"],
)
def test_templates_cannot_reach_other_templates_or_libraries(source):
    with pytest.raises(WelcomeTemplateError):
        check_template(source)


def test_only_active_subscribers_are_welcomed(template):
    subscriber = SubscriberFactory(status=Subscriber.Status.UNSUBSCRIBED)
    assert send_welcome_email(subscriber=subscriber) is False
    assert mail.outbox == []


def test_welcome_goes_through_the_subscriber_email_path(template):
    subscriber = SubscriberFactory(active=True)
    send_subscriber_email(subscriber=subscriber, kind="welcome")
    assert len(mail.outbox) == 1
