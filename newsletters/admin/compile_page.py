"""The compile screen: one page with the candidate pool beside the issue's sections.

Served inside the admin (staff login, the Editors' permissions). The page loads once;
htmx then swaps only the fragment an action changes (``compile_items``), so nothing
an editor is typing is replaced. Every action is also a plain form POST that returns
to the page, so it works without JavaScript.
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlencode

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import dateformat
from django.utils.timezone import localtime
from django.views.decorators.http import require_POST

from articles.models import Source, Topic
from newsletters.admin.issue_actions import int_or_none
from newsletters.compiling.checks import TITLE_MAX_CHARS, period_warnings
from newsletters.compiling.editing import (
    ITEM_FIELDS,
    EditRefused,
    StaleEdit,
    save_issue_fields,
)
from newsletters.compiling.items import EDITABLE_STATUSES, event_schedule, events_after_period
from newsletters.compiling.letter import render_letter
from newsletters.compiling.pool import PoolPage, candidate_pool
from newsletters.compiling.presence import HEARTBEAT_SECONDS, heartbeat, presence_line
from newsletters.models import Issue, IssueItem

POOL_FILTERS = ("q", "topic", "source", "page")
# The pool pane is half a screen wide: 25 stories fill it twice over and keep each
# filter change a small fragment ("Older ›" pages on).
COMPILE_POOL_PAGE_SIZE = 25
ISSUE_TEXT_FIELDS = ("title", "letter", "sign_off", "period_start", "period_end")


def is_htmx(request: HttpRequest) -> bool:
    """True when htmx sent the request (it wants a fragment, not a page)."""
    return request.headers.get("HX-Request") == "true"


@dataclass(frozen=True)
class PoolRow:
    """One pool story as the pane shows it, in plain values: the template looks up
    nothing through models (those lookups were most of the pool fragment's CPU)."""

    pk: int
    title: str
    url: str
    image_url: str
    meta: str
    outlet_count: int
    mark: str
    addable: bool
    in_this_issue: bool


def pool_rows(pool: PoolPage) -> list[PoolRow]:
    """The page of ``pool`` as ``PoolRow`` values (source · date · topics, and where a
    taken story is)."""
    rows = []
    for story in pool.stories:
        article = story.article
        meta = [
            article.source.name,
            dateformat.format(localtime(article.published_at), "D j M, H:i"),
        ]
        topics = ", ".join(topic.name for topic in article.topics.all())
        if topics:
            meta.append(topics)
        marks = ["✓ In this issue"] if story.in_this_issue else []
        if story.used_in:
            numbers = ", ".join(f"#{number}" for number in story.used_in)
            marks.append(f"Used in issue{'s' if len(story.used_in) != 1 else ''} {numbers}")
        rows.append(
            PoolRow(
                pk=article.pk,
                title=article.title,
                url=article.get_absolute_url(),
                image_url=article.image_url,
                meta=" · ".join(meta),
                outlet_count=story.outlet_count,
                mark=" · ".join(marks),
                addable=story.addable,
                in_this_issue=story.in_this_issue,
            )
        )
    return rows


class CompileBaseMixin:
    """What every compile view shares: loading the issue, permissions, replies."""

    def compile_url(self, issue: Issue) -> str:
        return reverse("admin:newsletters_issue_compile", args=[issue.pk])

    def _compile_issue(self, request: HttpRequest, object_id: str, *, change: bool) -> Issue:
        issue = self.get_object(request, object_id)
        if issue is None or not self.has_view_permission(request, issue):
            raise Http404("No such issue.")
        if change and not self.has_change_permission(request, issue):
            raise PermissionDenied("You may not change this issue.")
        return issue

    def _done(self, request: HttpRequest, issue: Issue, message: str, level=messages.SUCCESS):
        """The no-JavaScript reply: back to the compile page with ``message``."""
        self.message_user(request, message, level)
        return HttpResponseRedirect(self.compile_url(issue))

    def _fragment(self, request: HttpRequest, template: str, context: dict, status: int = 200):
        return TemplateResponse(
            request, f"admin/newsletters/issue/compile/{template}", context, status=status
        )

    def _compile_route(self, func, route: str, name: str):
        """A URL under the issue's compile page, behind the admin's login and permissions."""
        return path(
            f"<path:object_id>/compile/{route}",
            self.admin_site.admin_view(func),
            name=f"newsletters_issue_{name}",
        )

    def _saved_or_refused(self, request: HttpRequest, issue: Issue, context: dict, save, done):
        """Run ``save()`` (an issue or item save based on a version). Returns what it saved,
        or the answer to send instead: a stale save's conflict (409, both texts), a refusal
        (422), or, without htmx, the reloaded page with a message (``done(saved)`` on
        success)."""
        mine = context["mine"]
        try:
            saved = save()
        except StaleEdit as stale:
            if not is_htmx(request):
                return self._done(request, issue, str(stale), messages.ERROR)
            context["stale"] = stale
            # Every field goes back (for "take theirs"); only those that differ show.
            context["conflict_fields"] = [
                (name, theirs, mine.get(name, ""), name in stale.changed)
                for name, theirs in stale.theirs.items()
            ]
            return self._fragment(request, "save_state.html", context, status=409)
        except EditRefused as refused:
            if not is_htmx(request):
                return self._done(request, issue, str(refused), messages.ERROR)
            context["refused"] = str(refused)
            return self._fragment(request, "save_state.html", context, status=422)
        if not is_htmx(request):
            return self._done(request, issue, done(saved))
        context["version"] = saved.version
        return saved


class CompilePageMixin(CompileBaseMixin):
    """The page itself, its pool fragment, the heartbeat and the issue's own fields."""

    def get_urls(self):
        view = self._compile_route
        return [
            view(self.compile_view, "", "compile"),
            view(self.compile_pool_view, "pool/", "compile_pool"),
            view(require_POST(self.compile_presence_view), "presence/", "compile_presence"),
            view(require_POST(self.compile_save_issue_view), "save/", "compile_save_issue"),
            view(require_POST(self.compile_letter_preview_view), "letter/", "compile_letter"),
            *super().get_urls(),
        ]

    # ------------------------------------------------------------ the page
    def compile_view(self, request: HttpRequest, object_id: str) -> HttpResponse:
        issue = self._compile_issue(request, object_id, change=False)
        items = list(
            issue.items.select_related("article__source", "event").defer(
                "article__body_html", "article__body_text", "article__summary", "article__minhash"
            )
        )
        sections = [
            {
                "key": key,
                "label": label,
                "items": [item for item in items if item.section == key],
                "moves": [(k, v) for k, v in IssueItem.Section.choices if k != key],
            }
            for key, label in IssueItem.Section.choices
        ]
        for item in items:
            if item.event_id:
                item.schedule = event_schedule(item.event)
        may_change = self.has_change_permission(request, issue)
        editable = may_change and issue.status in EDITABLE_STATUSES
        context = {
            **self.admin_site.each_context(request),
            "title": f"Compile issue #{issue.number}",
            "issue": issue,
            "compile_base": self.compile_url(issue),
            "opts": self.model._meta,
            "sections": sections,
            "editable": editable,
            "may_edit_text": may_change,
            "letter_html": render_letter(issue.letter or ""),
            "story_choices": [item for item in items if item.article_id],
            "warnings": period_warnings(issue=issue),
            "title_max": TITLE_MAX_CHARS,
            "headline_max": ITEM_FIELDS["headline"],
            "blurb_max": settings.NEWSLETTER_BLURB_MAX_CHARS,
            "heartbeat_seconds": HEARTBEAT_SECONDS,
            "presence": presence_line(heartbeat(issue_id=issue.pk, user=request.user)),
        }
        if editable:
            context.update(self._pool_context(request, issue))
            context["event_candidates"] = [
                (event, event_schedule(event))
                for event in events_after_period(issue=issue).exclude(issue_items__issue=issue)[
                    :50
                ]
            ]
        return TemplateResponse(request, "admin/newsletters/issue/compile/page.html", context)

    def _pool_context(self, request: HttpRequest, issue: Issue, *, choices: bool = True) -> dict:
        """The pool pane's page of stories (and, for the whole page, the filters' choices)."""
        topic_id = int_or_none(request.GET.get("topic"))
        source_id = int_or_none(request.GET.get("source"))
        text = request.GET.get("q", "")[:200]
        filters = {
            key: request.GET[key] for key in ("q", "topic", "source") if request.GET.get(key)
        }
        pool = candidate_pool(
            issue=issue,
            topic_id=topic_id,
            source_id=source_id,
            text=text,
            page_number=request.GET.get("page", 1),
            per_page=COMPILE_POOL_PAGE_SIZE,
            # The pane says how many outlets carried a story, not which.
            with_others=False,
            # Stories already taken stay in view, marked with the issue they are in.
            include_used=True,
        )
        context = {
            "pool": pool,
            "pool_rows": pool_rows(pool),
            "pool_filters": {"q": text, "topic": topic_id, "source": source_id},
            "pool_filter_query": urlencode(filters),
        }
        if choices:
            context["pool_topics"] = list(Topic.objects.only("id", "name"))
            context["pool_sources"] = list(Source.objects.only("id", "name").order_by("name"))
        return context

    def compile_pool_view(self, request: HttpRequest, object_id: str) -> HttpResponse:
        """The pool pane alone, for a filter change or another page of it."""
        issue = self._compile_issue(request, object_id, change=True)
        if not is_htmx(request):
            query = urlencode({k: request.GET[k] for k in POOL_FILTERS if request.GET.get(k)})
            return HttpResponseRedirect(f"{self.compile_url(issue)}?{query}#pool")
        context = {
            "issue": issue,
            "compile_base": self.compile_url(issue),
            "editable": True,
            # The filters are outside the swapped fragment: their choices are not needed.
            **self._pool_context(request, issue, choices=False),
        }
        return self._fragment(request, "pool.html", context)

    # ------------------------------------------------------------ presence
    def compile_presence_view(self, request: HttpRequest, object_id: str) -> HttpResponse:
        issue = self._compile_issue(request, object_id, change=False)
        line = presence_line(heartbeat(issue_id=issue.pk, user=request.user))
        return self._fragment(request, "presence.html", {"presence": line})

    # ------------------------------------------------------- issue's fields
    def compile_save_issue_view(self, request: HttpRequest, object_id: str) -> HttpResponse:
        issue = self._compile_issue(request, object_id, change=True)
        values = {name: request.POST[name] for name in ISSUE_TEXT_FIELDS if name in request.POST}
        if issue.status in (Issue.Status.SENDING, Issue.Status.SENT):
            values.pop("period_start", None)
            values.pop("period_end", None)
        based_on = int_or_none(request.POST.get("version")) or 0
        period_before = (issue.period_start, issue.period_end)
        context = {"issue": issue, "target": "issue", "mine": values}
        saved = self._saved_or_refused(
            request,
            issue,
            context,
            lambda: save_issue_fields(
                issue=issue, based_on=based_on, values=values, user=request.user
            ),
            lambda saved: f"Issue #{saved.number} saved.",
        )
        if isinstance(saved, HttpResponse):
            return saved
        context["issue"] = saved
        if (saved.period_start, saved.period_end) != period_before:
            # Only a new period can change what it overlaps: the warnings are redrawn.
            context["warnings"] = period_warnings(issue=saved)
        return self._fragment(request, "save_state.html", context)

    def compile_letter_preview_view(self, request: HttpRequest, object_id: str) -> HttpResponse:
        """The letter's Markdown as readers will see it, for the live preview."""
        self._compile_issue(request, object_id, change=False)
        html = render_letter(request.POST.get("letter", "")[:100_000])
        return self._fragment(request, "letter_preview.html", {"letter_html": html})
