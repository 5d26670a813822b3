"""CSP violation reports: the endpoint (bounded, rate limited, logged), the production
default that points browsers at it and the report-only trial switch (Chromium sending
one: tests/browser/test_csp_report_browser.py)."""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys

import pytest

from digest.core import csp_reports
from digest.security_settings import parse_policy
from tests.digest.test_config import CONFIG_VARIABLES, PRODUCTION_SECRET, PROJECT_DIR

URL = "/csp-report/"
OLD_STYLE = {
    "csp-report": {
        "document-uri": "https://digest.example.org/topics/ai/",
        "violated-directive": "script-src-elem",
        "effective-directive": "script-src-elem",
        "blocked-uri": "https://evil.example.net/x.js",
        "source-file": "https://digest.example.org/topics/ai/",
        "line-number": 12,
        "disposition": "enforce",
    }
}


def post(client, body, content_type="application/csp-report", **extra):
    data = body if isinstance(body, bytes) else json.dumps(body)
    return client.post(URL, data=data, content_type=content_type, **extra)


def violations(caplog) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.name == "digest.csp"]


def test_a_report_uri_report_is_logged_as_one_line(client, caplog):
    caplog.set_level(logging.WARNING, logger="digest.csp")
    response = post(client, OLD_STYLE)

    assert response.status_code == 204
    (line,) = violations(caplog)
    assert "directive=script-src-elem" in line
    assert "blocked=https://evil.example.net/x.js" in line
    assert "page=https://digest.example.org/topics/ai/" in line
    assert "line=12" in line and "disposition=enforce" in line


def test_a_reporting_api_batch_is_logged_and_other_report_types_ignored(client, caplog):
    caplog.set_level(logging.WARNING, logger="digest.csp")
    batch = [
        {
            "type": "csp-violation",
            "body": {
                "documentURL": "https://digest.example.org/",
                "effectiveDirective": "img-src",
                "blockedURL": "https://tracker.example.net/p.gif",
                "disposition": "report",
            },
        },
        {"type": "deprecation", "body": {"id": "x"}},
    ]
    response = post(client, batch, content_type="application/reports+json")

    assert response.status_code == 204
    (line,) = violations(caplog)
    assert "directive=img-src" in line and "disposition=report" in line


def test_a_sender_cannot_forge_log_lines_or_flood_one_request(client, caplog):
    caplog.set_level(logging.WARNING, logger="digest.csp")
    forged = {"csp-report": {**OLD_STYLE["csp-report"], "blocked-uri": "x\nERROR fake line"}}
    post(client, forged)
    many = [{"type": "csp-violation", "body": {"effectiveDirective": "img-src"}}] * 50
    post(client, many, content_type="application/reports+json")

    lines = violations(caplog)
    assert "\n" not in lines[0] and "blocked=x ERROR fake line" in lines[0]
    assert len(lines) == 1 + csp_reports.MAX_REPORTS_PER_REQUEST


def test_oversized_malformed_and_non_post_requests_are_refused(client, caplog):
    caplog.set_level(logging.WARNING, logger="digest.csp")
    padded = {"csp-report": {**OLD_STYLE["csp-report"], "script-sample": "a" * 20_000}}

    assert post(client, padded).status_code == 413
    assert post(client, b"{not json").status_code == 400
    assert post(client, {"hello": "world"}).status_code == 400
    assert client.get(URL).status_code == 405
    assert violations(caplog) == []


def test_reports_are_rate_limited_per_address(client, monkeypatch, caplog):
    caplog.set_level(logging.WARNING, logger="digest.csp")
    monkeypatch.setattr(csp_reports, "REPORTS_PER_MINUTE", 3)
    codes = [post(client, OLD_STYLE).status_code for _ in range(5)]
    other = post(client, OLD_STYLE, REMOTE_ADDR="127.0.0.9").status_code

    assert codes == [204, 204, 204, 429, 429]
    assert other == 204
    assert len(violations(caplog)) == 4


def _policies(**env_overrides: str) -> dict:
    """The CSP settings a fresh process computes from ``env_overrides``."""
    script = (
        "import json, django; django.setup(); from django.conf import settings as s; "
        "print(json.dumps(default=str, obj=[s.CONTENT_SECURITY_POLICY['DIRECTIVES'], "
        "s.CONTENT_SECURITY_POLICY_REPORT_ONLY]))"
    )
    env = {key: value for key, value in os.environ.items() if key not in CONFIG_VARIABLES}
    env.pop("CSP_REPORT_URI", None)
    env.pop("CSP_REPORT_ONLY", None)
    env.update(DJANGO_SETTINGS_MODULE="digest.settings", **env_overrides)
    result = subprocess.run(
        [sys.executable, "-c", script],
        cwd=PROJECT_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    enforced, report_only = json.loads(result.stdout)
    return {"enforced": enforced, "report_only": report_only}


PRODUCTION = {
    "DJANGO_DEBUG": "0",
    "DJANGO_SECRET_KEY": PRODUCTION_SECRET,
    "DJANGO_ALLOWED_HOSTS": "digest.example.org",
}


def test_production_reports_to_the_site_itself_and_development_does_not():
    production = _policies(**PRODUCTION)
    development = _policies()
    elsewhere = _policies(**PRODUCTION, CSP_REPORT_URI="https://reports.example.net/csp")
    off = _policies(**PRODUCTION, CSP_REPORT_URI="off")

    assert production["enforced"]["report-uri"] == [URL]
    assert production["report_only"] is None
    assert "report-uri" not in development["enforced"]
    assert elsewhere["enforced"]["report-uri"] == ["https://reports.example.net/csp"]
    assert "report-uri" not in off["enforced"]


@pytest.mark.django_db
def test_an_operator_can_trial_a_stricter_policy_report_only(client, settings):
    trial = _policies(**PRODUCTION, CSP_REPORT_ONLY="default-src 'self'; style-src 'self'")
    assert trial["report_only"]["DIRECTIVES"] == {
        "default-src": ["'self'"],
        "style-src": ["'self'"],
        "report-uri": [URL],
    }
    # Served beside the enforced policy, which stays as it was.
    settings.CONTENT_SECURITY_POLICY_REPORT_ONLY = trial["report_only"]
    response = client.get("/subscribe/")
    served = sorted(response["Content-Security-Policy-Report-Only"].split("; "))
    assert served == ["default-src 'self'", "report-uri /csp-report/", "style-src 'self'"]
    assert "'unsafe-inline'" in response["Content-Security-Policy"]
    assert parse_policy(" ; img-src 'none' ;") == {"img-src": ["'none'"]}
