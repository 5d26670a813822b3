"""The newsletter admin, one module per page: importing them registers every model admin.

``issues`` (the issue page, with its buttons in ``issue_actions`` and ``previews``),
``inlines`` (its sections), ``forms``, ``progress`` (send counts), ``items``, ``history``,
``subscribers``, ``deliveries`` and ``email_images``.
"""

from newsletters.admin import deliveries, email_images, history, issues, items, subscribers

__all__ = ["deliveries", "email_images", "history", "issues", "items", "subscribers"]
