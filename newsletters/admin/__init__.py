"""The newsletter admin, one module per page: importing them registers every model admin.

``issues`` (the issue page, with its buttons in ``issue_actions`` and ``previews``),
``inlines`` (its sections), ``forms``, ``progress`` (send counts), ``items``, ``history``,
``subscribers`` (with ``subscriber_tools``), ``deliveries``, ``email_images``, ``welcome``
and ``clicks`` (click reports).
"""

from newsletters.admin import (
    clicks,
    deliveries,
    email_images,
    history,
    issues,
    items,
    subscribers,
    welcome,
)

__all__ = [
    "clicks",
    "deliveries",
    "email_images",
    "history",
    "issues",
    "items",
    "subscribers",
    "welcome",
]
