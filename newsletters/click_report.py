"""An issue's click report: deliveries, unique clickers, clicks per link, item and
section, scanner clicks apart; and the same as CSV.

Clicks are unique per delivery and link by construction (``Click``), so "clicks" here
means "readers who followed it". Four queries, whatever the number of clicks.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field

from django.db.models import Count, Q

from newsletters.models import Click, Delivery, Issue, IssueItem, IssueLink, Open
from newsletters.subscribers.exporting import neutralise_cell

SECTION_LABELS = {
    **dict(IssueItem.Section.choices),
    "letter": "Editors' letter",
    "other": "Other links",
}
CSV_COLUMNS = ("section", "item", "url", "reader_clicks", "scanner_clicks")


@dataclass(frozen=True)
class LinkRow:
    url: str
    section: str
    item: str
    clicks: int
    scanner_clicks: int
    share: float = 0.0  # of the most-clicked link, for the bar


@dataclass(frozen=True)
class SectionRow:
    section: str
    label: str
    clicks: int
    share: float = 0.0


@dataclass
class ClickReport:
    issue: Issue
    deliveries: int = 0
    unique_clickers: int = 0
    clicks: int = 0
    scanner_clicks: int = 0
    opens: int | None = None  # None: open tracking never recorded anything
    links: list[LinkRow] = field(default_factory=list)
    sections: list[SectionRow] = field(default_factory=list)

    @property
    def click_rate(self) -> float:
        return self.unique_clickers / self.deliveries if self.deliveries else 0.0


def issue_click_report(*, issue: Issue) -> ClickReport:
    """The click report of ``issue`` (reader clicks only in every figure but
    ``scanner_clicks``)."""
    report = ClickReport(issue=issue)
    report.deliveries = Delivery.objects.filter(issue=issue, status=Delivery.Status.SENT).count()
    readers = Click.objects.filter(link__issue=issue, is_scanner=False)
    report.unique_clickers = readers.values("delivery_id").distinct().count()
    rows = (
        IssueLink.objects.filter(issue=issue)
        .select_related("item")
        .annotate(
            reader_clicks=Count("clicks", filter=Q(clicks__is_scanner=False)),
            scanner_clicks=Count("clicks", filter=Q(clicks__is_scanner=True)),
        )
        .order_by("position", "pk")
    )
    links = [
        LinkRow(
            url=link.url,
            section=link.section or "other",
            item=link.item.headline if link.item else "",
            clicks=link.reader_clicks,
            scanner_clicks=link.scanner_clicks,
        )
        for link in rows
    ]
    top = max((row.clicks for row in links), default=0) or 1
    report.links = [LinkRow(**{**row.__dict__, "share": row.clicks / top}) for row in links]
    report.clicks = sum(row.clicks for row in links)
    report.scanner_clicks = sum(row.scanner_clicks for row in links)
    by_section: dict[str, int] = {}
    for row in links:
        by_section[row.section] = by_section.get(row.section, 0) + row.clicks
    top_section = max(by_section.values(), default=0) or 1
    order = list(SECTION_LABELS)
    report.sections = [
        SectionRow(
            section=key,
            label=SECTION_LABELS.get(key, key),
            clicks=value,
            share=value / top_section,
        )
        for key, value in sorted(
            by_section.items(), key=lambda kv: order.index(kv[0]) if kv[0] in order else 99
        )
    ]
    opens = Open.objects.filter(delivery__issue=issue).count()
    report.opens = opens or None
    return report


def report_csv_rows(report: ClickReport) -> Iterator[list[str]]:
    """The header, then one row per link; cells neutralised against CSV injection."""
    yield list(CSV_COLUMNS)
    for row in report.links:
        yield [
            neutralise_cell(cell)
            for cell in (
                SECTION_LABELS.get(row.section, row.section),
                row.item,
                row.url,
                row.clicks,
                row.scanner_clicks,
            )
        ]
