"""What an editor is told before sending: the audience, a checklist, and warnings.

Warnings (an overlapping period, a title over the limit) are shown while compiling;
the checklist and the audience counts on the send confirmation. None of them cuts
or changes anything: they say what is wrong and leave the fixing to the editor.
"""

from __future__ import annotations

from dataclasses import dataclass

from digest.core.links import is_web_url
from newsletters.models import Issue, IssueItem, Subscriber

TITLE_MAX_CHARS = Issue._meta.get_field("title").max_length


@dataclass(frozen=True)
class Audience:
    total: int
    full_issue: int
    topic_digests: int

    def sentence(self, issue: Issue) -> str:
        """'Send #210 to 4,213 subscribers: 3,905 full issue, 308 topic digests'."""
        return (
            f"Send #{issue.number} to {self.total:,} subscriber{'s' if self.total != 1 else ''}: "
            f"{self.full_issue:,} full issue, {self.topic_digests:,} topic "
            f"digest{'s' if self.topic_digests != 1 else ''}"
        )


@dataclass(frozen=True)
class Check:
    label: str
    ok: bool
    detail: str = ""


def audience(*, issue: Issue) -> Audience:
    """Who a send of ``issue`` reaches now: active, confirmed, unpaused subscribers,
    split into those who get the full issue and those who chose topics (two queries)."""
    receiving = Subscriber.objects.receiving()
    total = receiving.count()
    digests = receiving.filter(topics__isnull=False).distinct().count()
    return Audience(total=total, full_issue=total - digests, topic_digests=digests)


def period_warnings(*, issue: Issue) -> list[str]:
    """One line per other issue whose period overlaps ``issue``'s."""
    others = (
        Issue.objects.exclude(pk=issue.pk)
        .filter(period_start__lte=issue.period_end, period_end__gte=issue.period_start)
        .order_by("number")
        .only("number", "period_start", "period_end", "status")
    )
    return [
        f"The period overlaps issue #{other.number} ({other.get_status_display().lower()}, "
        f"{other.period_start:%-d %b} – {other.period_end:%-d %b %Y})."
        for other in others
    ]


def title_warning(title: str) -> str:
    """A warning when ``title`` is longer than an issue title may be, else ""."""
    if len(title) > TITLE_MAX_CHARS:
        return f"The title is {len(title)} characters; the limit is {TITLE_MAX_CHARS}."
    return ""


def send_checklist(*, issue: Issue, items: list[IssueItem] | None = None) -> list[Check]:
    """Title, period, letter, every item with a link and a usable image, a test sent."""
    if items is None:
        items = list(issue.items.select_related("article", "event"))
    without_link = [item.headline for item in items if not item.target_url]
    bad_image = [
        item.headline for item in items if item.image_url and not is_web_url(item.image_url)
    ]
    overlaps = period_warnings(issue=issue)
    return [
        Check("Title", bool(issue.title.strip()), "" if issue.title.strip() else "No title yet."),
        Check("Period", not overlaps, " ".join(overlaps)),
        Check("Letter", bool(issue.letter.strip()), "" if issue.letter.strip() else "No letter."),
        Check("Items", bool(items), f"{len(items)} item{'s' if len(items) != 1 else ''}."),
        Check(
            "Every item has a link",
            not without_link,
            ("No link: " + "; ".join(without_link)) if without_link else "",
        ),
        Check(
            "No broken image",
            not bad_image,
            ("Not a web address: " + "; ".join(bad_image)) if bad_image else "",
        ),
        Check("Test sent", issue.test_sent_at is not None, _test_detail(issue)),
    ]


def _test_detail(issue: Issue) -> str:
    if issue.test_sent_at is None:
        return "No test copy sent yet."
    last_save = issue.revisions.values_list("saved_at", flat=True).first()
    if last_save is not None and last_save > issue.test_sent_at:
        return "A test was sent, but the issue changed since: send another to be sure."
    return ""
