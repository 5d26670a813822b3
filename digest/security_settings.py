"""Settings for the Content-Security-Policy (django-csp) and login throttling
(django-axes), imported by name into ``digest.settings``."""

from __future__ import annotations

from datetime import timedelta

from csp.constants import NONCE, NONE, SELF

from digest.config import ConfigError, env_bool, env_float, env_int, env_str

# ---------------------------------------------------- content security policy
# Where browsers report violations: the site's own endpoint (digest/core/csp_reports.py)
# by default in production (DJANGO_DEBUG=0), none in development; "off" turns it off.
_REPORT_URI = env_str("CSP_REPORT_URI", "" if env_bool("DJANGO_DEBUG", True) else "/csp-report/")
CSP_REPORT_URI = "" if _REPORT_URI.lower() in ("off", "none") else _REPORT_URI
_REPORTING = {"report-uri": [CSP_REPORT_URI]} if CSP_REPORT_URI else {}


def parse_policy(text: str) -> dict[str, list[str]]:
    """``"default-src 'self'; img-src 'self' https:"`` as django-csp's DIRECTIVES."""
    directives: dict[str, list[str]] = {}
    for part in text.split(";"):
        name, *values = part.split() or [""]
        if not name:
            continue
        if not name.replace("-", "").isalpha():
            raise ConfigError(f"CSP_REPORT_ONLY: {name!r} is not a policy directive.")
        directives[name.lower()] = values
    return directives


# Enforced: scripts from this site only (inline ones need {{ request.csp_nonce }}), no
# plugins, <base> or framing; inline styles stay for the email previews (README).
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        # No 'unsafe-eval': htmx runs with allowEval off (the compile screen's
        # <meta name="htmx-config">), its behaviour lives in static/admin_extra/compile.js.
        "script-src": [SELF, NONCE],
        "style-src": [SELF, "'unsafe-inline'"],
        "img-src": [SELF, "https:", "http:", "data:"],
        "font-src": [SELF],
        "connect-src": [SELF],
        "object-src": [NONE],
        "base-uri": [NONE],
        "frame-src": [SELF],
        "frame-ancestors": [NONE],
        "form-action": [SELF],
        **_REPORTING,
    }
}
# An operator trialling a stricter policy sets CSP_REPORT_ONLY to it: browsers only
# report what it would block (Content-Security-Policy-Report-Only), to the same endpoint.
CONTENT_SECURITY_POLICY_REPORT_ONLY = (
    {"DIRECTIVES": {**parse_policy(env_str("CSP_REPORT_ONLY")), **_REPORTING}}
    if env_str("CSP_REPORT_ONLY")
    else None
)

# ------------------------------------------------------------ login throttling
# AXES_FAILURE_LIMIT wrong passwords per account or per address lock it for
# AXES_COOLOFF_HOURS; the admin unlocks sooner (Axes > Access attempts, delete rows).
AXES_FAILURE_LIMIT = env_int("AXES_FAILURE_LIMIT", 5, minimum=1)
AXES_COOLOFF_TIME = timedelta(hours=env_float("AXES_COOLOFF_HOURS", 0.25, minimum=0.01))
AXES_LOCKOUT_PARAMETERS = ["username", "ip_address"]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_TEMPLATE = "admin/locked_out.html"
AXES_VERBOSE = False  # no start-up banner; failures and lock-outs are still logged
