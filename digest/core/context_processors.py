"""Template context shared by every page."""

from django.conf import settings
from django.http import HttpRequest
from django.utils.functional import SimpleLazyObject

from digest.core.heartbeat import worker_status as read_worker_status

# Admin pages whose work needs a worker and beat: (app label, model name).
WORKER_STATUS_PAGES = (("articles", "source"), ("newsletters", "issue"))


def site(request: HttpRequest) -> dict:
    return {"SITE_NAME": settings.SITE_NAME, "SITE_URL": settings.SITE_URL}


def worker_status(request: HttpRequest) -> dict:
    """``worker_status`` on the admin's source and issue pages (list, add, change).

    Lazy: the heartbeat is read (one query) only when a template shows it, which
    templates/admin/base_site.html does through includes/worker_status.html.
    """
    match = getattr(request, "resolver_match", None)
    if match is None or match.namespace != "admin" or not match.url_name:
        return {}
    if not any(match.url_name.startswith(f"{app}_{model}_") for app, model in WORKER_STATUS_PAGES):
        return {}
    return {"worker_status": SimpleLazyObject(read_worker_status)}
