"""A subscriber's own data on request, and erasure.

``subscriber_data`` is everything stored about one subscriber, as JSON-ready values:
the subscription, the consent record, topics, and each issue sent to them with any
links they followed. ``erase_subscriber`` deletes the subscriber and keeps their
delivery rows only as anonymous counts: the link to the person, the Message-ID (which
a mail log could tie back to the address) and any error text (which may quote it) go.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.db import transaction
from django.utils import timezone

from newsletters.models import Click, Delivery, Subscriber

OPEN = (Delivery.Status.PENDING, Delivery.Status.SENDING)


def _when(moment) -> str | None:
    return moment.isoformat() if moment else None


def subscriber_data(*, subscriber: Subscriber) -> dict[str, object]:
    """Everything stored about ``subscriber`` (a data-subject access request). Three
    queries, whatever the number of issues and clicks."""
    deliveries = (
        Delivery.objects.filter(subscriber=subscriber)
        .select_related("issue")
        .order_by("issue__number")
    )
    followed: dict[int, list[dict[str, object]]] = {}
    clicks = (
        Click.objects.filter(delivery__subscriber=subscriber, is_scanner=False)
        .order_by("clicked_at")
        .values_list("delivery_id", "link__url", "clicked_at")
    )
    for delivery_id, url, clicked_at in clicks:
        followed.setdefault(delivery_id, []).append({"url": url, "at": _when(clicked_at)})
    return {
        "email": subscriber.email,
        "name": subscriber.name,
        "status": subscriber.status,
        "paused": subscriber.is_paused,
        "topics": [topic.name for topic in subscriber.topics.order_by("name")],
        "subscribed_at": _when(subscriber.created_at),
        "confirmed_at": _when(subscriber.confirmed_at),
        "unsubscribed_at": _when(subscriber.unsubscribed_at),
        "bounce_count": subscriber.bounce_count,
        "consent": {
            "text": subscriber.consent_text,
            "at": _when(subscriber.consent_at),
            "ip": subscriber.consent_ip,
            "source": subscriber.consent_source,
        },
        "deliveries": [
            {
                "issue": delivery.issue.number,
                "title": delivery.issue.title,
                "status": delivery.status,
                "sent_at": _when(delivery.sent_at),
                "links_followed": followed.get(delivery.pk, []),
            }
            for delivery in deliveries
        ],
    }


@dataclass(frozen=True)
class Erasure:
    deliveries_anonymised: int
    deliveries_cancelled: int


def erase_subscriber(*, subscriber: Subscriber) -> Erasure:
    """Delete ``subscriber``; their delivery rows stay (issue counts stay right) with
    nothing that points back to them. A delivery not yet sent is cancelled first, so
    no worker sends to an address that is gone."""
    now = timezone.now()
    with transaction.atomic():
        mine = Delivery.objects.filter(subscriber_id=subscriber.pk)
        open_ids = list(mine.filter(status__in=OPEN).values_list("pk", flat=True))
        anonymised = mine.update(subscriber=None, message_id="", error="", updated_at=now)
        cancelled = Delivery.objects.filter(pk__in=open_ids, status__in=OPEN).update(
            status=Delivery.Status.FAILED, error="Not sent: the subscriber was erased."
        )
        Subscriber.objects.filter(pk=subscriber.pk).delete()
    return Erasure(deliveries_anonymised=anonymised, deliveries_cancelled=cancelled)
