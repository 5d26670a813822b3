"""Test copies: one copy of the whole issue to one address, now, outside any delivery."""

from __future__ import annotations

from email.utils import make_msgid

from newsletters.models import Issue
from newsletters.rendering import (
    PersonalMessage,
    personalise,
    render_issue_email,
    unsaved_recipient,
)
from newsletters.sending.mime import build_email, message_id_domain
from newsletters.subscribers.services import normalise_address


def send_test_copy(*, issue: Issue, email: str) -> str:
    """Send one copy of the whole issue to ``email`` now; return its Message-ID.

    The address is validated like a subscription (``InvalidAddress`` otherwise).
    The subject starts with "[Test]"; the unsubscribe and preferences links in a
    test copy belong to nobody, so following them changes nothing.
    """
    address = normalise_address(email)
    rendered = render_issue_email(issue=issue)
    nobody = unsaved_recipient(email=address)
    message = personalise(rendered=rendered, subscriber=nobody)
    message = PersonalMessage(
        to=address,
        subject=f"[Test] {message.subject}",
        html=message.html,
        text=message.text,
        headers=message.headers,
        unsubscribe_url=message.unsubscribe_url,
        preferences_url=message.preferences_url,
    )
    message_id = make_msgid(domain=message_id_domain())
    build_email(message=message, message_id=message_id).send(fail_silently=False)
    return message_id
