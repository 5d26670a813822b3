"""Settings for the Content-Security-Policy (django-csp) and login throttling
(django-axes), imported by name into ``digest.settings``."""

from __future__ import annotations

from datetime import timedelta

from csp.constants import NONCE, NONE, SELF

from digest.config import env_float, env_int, env_str

# ---------------------------------------------------- content security policy
# Enforced: scripts from this site only (inline ones need {{ request.csp_nonce }}), no
# plugins, <base> or framing; inline styles stay for the email previews (README).
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        # 'unsafe-eval': the compile screen's htmx evaluates; inline scripts stay blocked.
        "script-src": [SELF, NONCE, "'unsafe-eval'"],
        "style-src": [SELF, "'unsafe-inline'"],
        "img-src": [SELF, "https:", "http:", "data:"],
        "font-src": [SELF],
        "connect-src": [SELF],
        "object-src": [NONE],
        "base-uri": [NONE],
        "frame-src": [SELF],
        "frame-ancestors": [NONE],
        "form-action": [SELF],
        **({"report-uri": [env_str("CSP_REPORT_URI")]} if env_str("CSP_REPORT_URI") else {}),
    }
}

# ------------------------------------------------------------ login throttling
# AXES_FAILURE_LIMIT wrong passwords per account or per address lock it for
# AXES_COOLOFF_HOURS; the admin unlocks sooner (Axes > Access attempts, delete rows).
AXES_FAILURE_LIMIT = env_int("AXES_FAILURE_LIMIT", 5, minimum=1)
AXES_COOLOFF_TIME = timedelta(hours=env_float("AXES_COOLOFF_HOURS", 0.25, minimum=0.01))
AXES_LOCKOUT_PARAMETERS = ["username", "ip_address"]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_TEMPLATE = "admin/locked_out.html"
AXES_VERBOSE = False  # no start-up banner; failures and lock-outs are still logged
