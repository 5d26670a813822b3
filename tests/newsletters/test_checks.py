"""The deploy check for the footer's sender identity."""

from __future__ import annotations

from newsletters.checks import sender_identity_check


def test_missing_postal_address_and_reason_are_errors(settings):
    settings.NEWSLETTER_POSTAL_ADDRESS = " "
    settings.NEWSLETTER_REASON = ""

    ids = [error.id for error in sender_identity_check()]

    assert ids == ["newsletters.E001", "newsletters.E002"]


def test_both_set_passes(settings):
    settings.NEWSLETTER_POSTAL_ADDRESS = "Policy Weekly, 12 Rue du Rhône, 1204 Geneva"
    settings.NEWSLETTER_REASON = "You subscribed at news.example.org."

    assert sender_identity_check() == []
