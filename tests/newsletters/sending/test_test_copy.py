"""Test copies: one address, no delivery touched, bad input refused."""

import pytest
from django.core import mail

from newsletters.models import Delivery, Issue
from newsletters.sending.test_copy import send_test_copy
from newsletters.subscribers.services import InvalidAddress
from tests.newsletters.sending.helpers import active

pytestmark = pytest.mark.django_db


def test_test_copy_goes_to_one_address_and_touches_no_delivery(issue, smtp_sink):
    active(2)
    message_id = send_test_copy(issue=issue, email="editor@example.org")
    [recorded] = smtp_sink.messages
    message = recorded.parsed()
    assert recorded.recipients == ["editor@example.org"]
    assert message["Message-ID"] == message_id
    assert message["Subject"].startswith("[Test] Weekly #12")
    assert Delivery.objects.count() == 0
    assert Issue.objects.get(pk=issue.pk).status == Issue.Status.DRAFT


def test_test_copy_refuses_header_injection(issue):
    with pytest.raises(InvalidAddress):
        send_test_copy(issue=issue, email="a@b.c\r\nBcc: x@y.z")
    assert mail.outbox == []
