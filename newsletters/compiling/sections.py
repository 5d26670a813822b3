"""An issue's items grouped into its sections, in the order readers see them.

The web page, the email and the admin previews all call ``issue_sections`` so
that they show the same items in the same order.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from newsletters.models import Issue, IssueItem


@dataclass
class IssueSection:
    key: str
    title: str
    items: list[IssueItem] = field(default_factory=list)


def issue_sections(*, issue: Issue, include_empty: bool = False) -> list[IssueSection]:
    """Return Radar, Reading corner and Upcoming events with their items, in order.

    One query for the items (articles, sources and events joined in).
    """
    sections = {
        key: IssueSection(key=key, title=label) for key, label in IssueItem.Section.choices
    }
    items = (
        issue.items.select_related("article", "article__source", "event")
        .order_by("order", "id")
        .all()
    )
    for item in items:
        sections[item.section].items.append(item)
    return [section for section in sections.values() if include_empty or section.items]
