"""The compile screen's item actions: add from the pool, save as typed, remove, move,
reorder, and set an item's image.

Each answers htmx with the smallest fragment that changed (a new card, a save state, a
pool row marked used), so what the editor is typing elsewhere is never replaced; each
answers a plain form POST by returning to the compile page with a message.
"""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404
from django.views.decorators.http import require_POST

from articles.models import Article, Event
from newsletters.admin.compile_page import CompileBaseMixin, is_htmx
from newsletters.admin.issue_actions import int_or_none
from newsletters.compiling.editing import (
    ITEM_FIELDS,
    EditRefused,
    StaleEdit,
    StaleOrder,
    move_item,
    remove_item,
    reorder_section,
    save_item_fields,
)
from newsletters.compiling.images import ImageRefused, image_from_url, store_image
from newsletters.compiling.items import (
    ItemError,
    add_article_item,
    add_event_item,
    event_schedule,
)
from newsletters.models import Issue, IssueItem

OUT_OF_DATE = "The new order could not be read: reload the page and move again."


def _order_saved(version: int) -> HttpResponse:
    """A stored reorder: nothing to swap; the new order version in a header."""
    response = HttpResponse(status=204)
    response["X-Order-Version"] = str(version)
    return response


class CompileItemsMixin(CompileBaseMixin):
    """The URLs and views of everything done to one item or one section's order."""

    def get_urls(self):
        def view(func, route, name):
            return self._compile_route(require_POST(func), route, name)

        return [
            view(self.compile_add_view, "add/", "compile_add"),
            view(self.compile_reorder_view, "reorder/", "compile_reorder"),
            view(self.compile_item_save_view, "items/<int:item_id>/save/", "compile_item_save"),
            view(self.compile_item_remove_view, "items/<int:item_id>/remove/", "compile_remove"),
            view(self.compile_item_move_view, "items/<int:item_id>/move/", "compile_move"),
            view(self.compile_item_image_view, "items/<int:item_id>/image/", "compile_image"),
            *super().get_urls(),
        ]

    def _item(self, issue: Issue, item_id: int) -> IssueItem:
        return get_object_or_404(
            IssueItem.objects.select_related("issue", "article__source", "event"),
            pk=item_id,
            issue=issue,
        )

    def _card_context(self, issue: Issue, item: IssueItem) -> dict:
        if item.event_id:
            item.schedule = event_schedule(item.event)
        return {
            "issue": issue,
            "compile_base": self.compile_url(issue),
            "item": item,
            "editable": True,
            "may_edit_text": True,
            "headline_max": ITEM_FIELDS["headline"],
            "blurb_max": settings.NEWSLETTER_BLURB_MAX_CHARS,
            "moves": [(k, v) for k, v in IssueItem.Section.choices if k != item.section],
        }

    def _refused(self, request: HttpRequest, issue: Issue, message: str) -> HttpResponse:
        if not is_htmx(request):
            return self._done(request, issue, message, messages.ERROR)
        response = self._fragment(request, "refusal.html", {"message": message}, status=422)
        # A refusal is said in the page's message line, whatever the action's target was.
        response["HX-Retarget"] = "#compile-messages"
        response["HX-Reswap"] = "innerHTML"
        return response

    # ------------------------------------------------------------- adding
    def compile_add_view(self, request: HttpRequest, object_id: str) -> HttpResponse:
        """Add an article (to Radar or Reading corner) or an event from the pool."""
        issue = self._compile_issue(request, object_id, change=True)
        try:
            if request.POST.get("event"):
                event = Event.objects.filter(pk=int_or_none(request.POST["event"])).first()
                if event is None:
                    return self._refused(request, issue, "That event no longer exists.")
                item = add_event_item(issue=issue, event=event)
            else:
                article = Article.objects.filter(
                    pk=int_or_none(request.POST.get("article"))
                ).first()
                if article is None:
                    return self._refused(request, issue, "That article no longer exists.")
                section = request.POST.get("section", IssueItem.Section.RADAR)
                item = add_article_item(issue=issue, article=article, section=section)
        except ItemError as error:
            return self._refused(request, issue, str(error))
        item = self._item(issue, item.pk)
        message = f"Added “{item.headline}” to {item.get_section_display()}."
        if not is_htmx(request):
            return self._done(request, issue, message)
        context = {**self._card_context(issue, item), "message": message}
        return self._fragment(request, "added.html", context)

    # ------------------------------------------------------------- typing
    def compile_item_save_view(
        self, request: HttpRequest, object_id: str, item_id: int
    ) -> HttpResponse:
        issue = self._compile_issue(request, object_id, change=True)
        item = self._item(issue, item_id)
        values = {name: request.POST[name] for name in ITEM_FIELDS if name in request.POST}
        based_on = int_or_none(request.POST.get("version")) or 0
        context = {"issue": issue, "item": item, "target": "item", "mine": values}
        saved = self._saved_or_refused(
            request,
            issue,
            context,
            lambda: save_item_fields(
                item=item, based_on=based_on, values=values, user=request.user
            ),
            lambda saved: f"Saved “{saved.headline}”.",
        )
        if isinstance(saved, HttpResponse):
            return saved
        context["item"] = saved
        return self._fragment(request, "save_state.html", context)

    # ------------------------------------------------------ order and place
    def compile_item_remove_view(
        self, request: HttpRequest, object_id: str, item_id: int
    ) -> HttpResponse:
        issue = self._compile_issue(request, object_id, change=True)
        item = self._item(issue, item_id)
        headline = item.headline
        try:
            remove_item(item=item, user=request.user)
        except EditRefused as refused:
            return self._refused(request, issue, str(refused))
        if not is_htmx(request):
            return self._done(request, issue, f"Removed “{headline}”.")
        return HttpResponse("")  # the card is swapped for nothing

    def compile_item_move_view(
        self, request: HttpRequest, object_id: str, item_id: int
    ) -> HttpResponse:
        """Move one place up or down, or to another section (keyboard and no-JS)."""
        issue = self._compile_issue(request, object_id, change=True)
        item = self._item(issue, item_id)
        section = request.POST.get("to_section") or None
        step = int_or_none(request.POST.get("step")) or 0
        based_on = int_or_none(request.POST.get("order_version"))
        if based_on is None:
            return self._refused(request, issue, OUT_OF_DATE)
        try:
            version = move_item(
                item=item,
                section=section,
                step=max(-1, min(1, step)),
                based_on=based_on,
                user=request.user,
            )
        except EditRefused as refused:
            return self._refused(request, issue, str(refused))
        if not is_htmx(request):
            return self._done(request, issue, f"Moved “{item.headline}”.")
        return _order_saved(version)

    def compile_reorder_view(self, request: HttpRequest, object_id: str) -> HttpResponse:
        """A section's items in their new order, after a drag or a keyboard move, based
        on the order version the screen shows (an older one is refused with a 409)."""
        issue = self._compile_issue(request, object_id, change=True)
        ids = [int_or_none(raw) for raw in request.POST.get("items", "").split(",") if raw]
        based_on = int_or_none(request.POST.get("order_version"))
        if None in ids or based_on is None:
            return self._refused(request, issue, OUT_OF_DATE)
        try:
            version = reorder_section(
                issue=issue,
                section=request.POST.get("section", ""),
                item_ids=ids,
                based_on=based_on,
                user=request.user,
            )
        except StaleOrder as stale:
            response = self._refused(request, issue, str(stale))
            response.status_code = 409
            return response
        except EditRefused as refused:
            return self._refused(request, issue, str(refused))
        return _order_saved(version)

    # -------------------------------------------------------------- images
    def compile_item_image_view(
        self, request: HttpRequest, object_id: str, item_id: int
    ) -> HttpResponse:
        """Set the item's image: the article's own, a pasted URL, or an upload."""
        issue = self._compile_issue(request, object_id, change=True)
        item = self._item(issue, item_id)
        folder = f"issues/{issue.number}"
        try:
            if request.POST.get("use") == "article":
                if not item.article_id or not item.article.image_url:
                    raise ImageRefused("The article has no image of its own.")
                url = item.article.image_url
            elif request.FILES.get("upload"):
                upload = request.FILES["upload"]
                url = store_image(data=upload.read(), folder=folder).web_url
            elif request.POST.get("image_source_url", "").strip():
                url = image_from_url(url=request.POST["image_source_url"], folder=folder).web_url
            else:
                raise ImageRefused("Choose a file, paste an image address, or use the article's.")
            item = save_item_fields(
                item=item,
                based_on=item.version,
                values={"image_url": url},
                user=request.user,
            )
        except (ImageRefused, EditRefused, StaleEdit) as refused:
            return self._refused(request, issue, str(refused))
        if not is_htmx(request):
            return self._done(request, issue, f"New image for “{item.headline}”.")
        return self._fragment(request, "image.html", self._card_context(issue, item))
