"""Content-Security-Policy violation reports: received from browsers, bounded, logged.

Browsers POST a report when a page breaks the policy (``report-uri``, set by default in
production: ``digest/security_settings.py``). Anyone can post here, so every request is
bounded before it is read: at most ``MAX_REPORT_BYTES``, ``REPORTS_PER_MINUTE`` per
address, ``MAX_REPORTS_PER_REQUEST`` reports logged from one body, each field cut short
and stripped of control characters (nothing a sender writes can forge a log line).
Both formats are read: ``application/csp-report`` (``{"csp-report": {...}}``) and the
Reporting API's ``application/reports+json`` (a list of ``{"type": "csp-violation",
"body": {...}}``). Each report is one WARNING line on the ``digest.csp`` logger.
"""

from __future__ import annotations

import json
import logging

from django.http import HttpRequest, HttpResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from digest.core import ratelimit

logger = logging.getLogger("digest.csp")

# A real report is well under 2 KB; a page with many violations sends one each.
MAX_REPORT_BYTES = 16 * 1024
REPORTS_PER_MINUTE = 30
MAX_REPORTS_PER_REQUEST = 10
MAX_FIELD_CHARACTERS = 300

# (label in the log line, report-uri key, Reporting API key)
FIELDS = (
    ("directive", "effective-directive", "effectiveDirective"),
    ("blocked", "blocked-uri", "blockedURL"),
    ("page", "document-uri", "documentURL"),
    ("source", "source-file", "sourceFile"),
    ("line", "line-number", "lineNumber"),
    ("disposition", "disposition", "disposition"),
    ("sample", "script-sample", "sample"),
)


class MalformedReport(ValueError):
    """The body is not a CSP report in either format."""


def _clean(value: object) -> str:
    text = "".join(char if char.isprintable() else " " for char in str(value))
    return " ".join(text.split())[:MAX_FIELD_CHARACTERS]


def read_reports(body: bytes) -> list[dict[str, str]]:
    """The violations in ``body`` as ``{label: text}``, at most ``MAX_REPORTS_PER_REQUEST``."""
    try:
        document = json.loads(body)
    except (ValueError, UnicodeDecodeError):
        raise MalformedReport("not JSON") from None
    if isinstance(document, dict) and isinstance(document.get("csp-report"), dict):
        raw, modern = [document["csp-report"]], False
    elif isinstance(document, list):
        raw = [
            item["body"]
            for item in document
            if isinstance(item, dict)
            and item.get("type") == "csp-violation"
            and isinstance(item.get("body"), dict)
        ]
        modern = True
    else:
        raise MalformedReport("neither a csp-report nor a list of reports")
    reports = []
    for report in raw[:MAX_REPORTS_PER_REQUEST]:
        picked = {}
        for label, old_key, new_key in FIELDS:
            value = report.get(new_key if modern else old_key)
            if value is None and not modern and label == "directive":
                value = report.get("violated-directive")
            picked[label] = _clean(value) if value not in (None, "") else "-"
        reports.append(picked)
    return reports


@csrf_exempt
@require_POST
def csp_report(request: HttpRequest) -> HttpResponse:
    """Log the violations a browser reports; 204, or 413/429/400 for what is refused."""
    allowed = ratelimit.hit(
        key=f"csp-report:{ratelimit.client_ip(request)}",
        limit=REPORTS_PER_MINUTE,
        window_seconds=60,
    )
    if not allowed:
        return HttpResponse(status=429, headers={"Retry-After": "60"})
    try:
        declared = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        declared = 0
    if declared > MAX_REPORT_BYTES:
        return HttpResponse(status=413)
    body = request.read(MAX_REPORT_BYTES + 1)
    if len(body) > MAX_REPORT_BYTES:
        return HttpResponse(status=413)
    try:
        reports = read_reports(body)
    except MalformedReport:
        return HttpResponse(status=400)
    for report in reports:
        logger.warning(
            "CSP violation: %s",
            " ".join(f"{label}={value}" for label, value in report.items()),
        )
    return HttpResponse(status=204)
