"""The welcome email a subscriber gets once, on confirming: the editors' template, filled
in for them, with the latest issue linked. No template (or an empty subject) sends none.

Editors write the template in the admin with a few placeholders (``PLACEHOLDERS``). It is
rendered by a Django template engine of its own, with no loaders and a context of plain
strings only, so a template can reach nothing but those strings (no other template, no
object attribute); the HTML body autoescapes them.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.template import Context, Engine, TemplateDoesNotExist, TemplateSyntaxError

from articles.cleaning.sanitising import html_to_text
from digest.core.links import absolute_url
from newsletters.models import Issue, Subscriber, WelcomeEmail
from newsletters.rendering import subscriber_links

PLACEHOLDERS = (
    "name",
    "email",
    "site_name",
    "latest_issue_title",
    "latest_issue_url",
    "preferences_url",
    "unsubscribe_url",
)
# No loaders: {% include %} and {% extends %} find nothing; no libraries: {% load %} fails.
_ENGINE = Engine(dirs=[], app_dirs=False, loaders=[], libraries={})


class WelcomeTemplateError(ValueError):
    """The template does not parse; ``str(error)`` says where, for the admin form."""


@dataclass(frozen=True)
class WelcomeMessage:
    to: str
    subject: str
    text: str
    html: str
    unsubscribe_url: str


def check_template(source: str) -> None:
    """Raise ``WelcomeTemplateError`` unless ``source`` parses as a welcome template."""
    try:
        # Rendered once too: {% include %} only fails when it runs.
        _ENGINE.from_string(source).render(Context(dict.fromkeys(PLACEHOLDERS, "x")))
    except (TemplateSyntaxError, TemplateDoesNotExist) as error:
        raise WelcomeTemplateError(str(error) or "no such template") from None


def current_template() -> WelcomeEmail | None:
    """The welcome template, or None when there is none to send (no row, no subject,
    or neither body)."""
    template = WelcomeEmail.objects.order_by("pk").first()
    if template is None or not template.subject.strip():
        return None
    if not (template.html.strip() or template.text.strip()):
        return None
    return template


def welcome_context(*, subscriber: Subscriber) -> dict[str, str]:
    """The placeholders' values for ``subscriber`` (all strings)."""
    latest = Issue.objects.published().order_by("-number").first()
    links = subscriber_links(subscriber=subscriber)
    return {
        "name": subscriber.name or "",
        "email": subscriber.email,
        "site_name": settings.SITE_NAME,
        "latest_issue_title": str(latest) if latest else "",
        "latest_issue_url": absolute_url(latest.get_absolute_url()) if latest else "",
        "preferences_url": links["preferences_url"],
        "unsubscribe_url": links["unsubscribe_url"],
    }


def build_welcome(*, subscriber: Subscriber, template: WelcomeEmail) -> WelcomeMessage:
    """``template`` filled in for ``subscriber``; ``WelcomeTemplateError`` if it does not
    parse (the admin checks it on save, so only a template changed behind its back)."""
    values = welcome_context(subscriber=subscriber)
    try:
        subject = _ENGINE.from_string(template.subject).render(Context(values, autoescape=False))
        html = _ENGINE.from_string(template.html).render(Context(values)) if template.html else ""
        text = (
            _ENGINE.from_string(template.text).render(Context(values, autoescape=False))
            if template.text.strip()
            else html_to_text(html)
        )
    except (TemplateSyntaxError, TemplateDoesNotExist) as error:
        raise WelcomeTemplateError(str(error)) from None
    # A subject is one header line, whatever the template's placeholders held.
    subject = " ".join(subject.split())
    return WelcomeMessage(
        to=subscriber.email,
        subject=subject,
        text=text,
        html=html,
        unsubscribe_url=values["unsubscribe_url"],
    )


def send_welcome_email(*, subscriber: Subscriber) -> bool:
    """Send the welcome email to an active subscriber; False (nothing sent) when the
    template is empty or the subscriber is not active."""
    template = current_template()
    if template is None or subscriber.status != Subscriber.Status.ACTIVE:
        return False
    message = build_welcome(subscriber=subscriber, template=template)
    email = EmailMultiAlternatives(
        subject=message.subject,
        body=message.text,
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=[message.to],
        headers={"List-Unsubscribe": f"<{message.unsubscribe_url}>"},
    )
    if message.html:
        email.attach_alternative(message.html, "text/html")
    email.send(fail_silently=False)
    return True
