"""The Content-Security-Policy header (django-csp, configured in digest/settings.py)."""

from __future__ import annotations

import pytest

from tests.factories import ArticleFactory

pytestmark = pytest.mark.django_db


def directives(response) -> dict[str, list[str]]:
    header = response["Content-Security-Policy"]
    parsed = {}
    for part in header.split(";"):
        name, *values = part.split()
        parsed[name] = values
    return parsed


@pytest.mark.parametrize("url", ["/", "/subscribe/", "/topics/", "/admin/login/"])
def test_every_page_carries_an_enforced_strict_policy(client, url):
    ArticleFactory()
    response = client.get(url)

    assert response.status_code == 200
    assert "Content-Security-Policy-Report-Only" not in response
    policy = directives(response)
    scripts = policy["script-src"]
    # A nonce is added only to responses whose page used one (none needs it today).
    assert scripts[0] == "'self'"
    assert all(value.startswith("'nonce-") for value in scripts[1:])
    assert "'unsafe-inline'" not in scripts
    assert "'unsafe-eval'" not in scripts
    assert policy["object-src"] == ["'none'"]
    assert policy["base-uri"] == ["'none'"]
    assert policy["frame-ancestors"] == ["'none'"]
    assert policy["form-action"] == ["'self'"]


def test_the_admin_pages_an_editor_uses_carry_it_too(admin_client):
    from tests.factories import IssueFactory

    issue = IssueFactory()
    compile_screen = f"/admin/newsletters/issue/{issue.pk}/compile/"
    for url in [
        "/admin/",
        "/admin/articles/article/",
        "/admin/newsletters/issue/add/",
        compile_screen,
    ]:
        response = admin_client.get(url)
        assert response.status_code == 200, url
        scripts = directives(response)["script-src"]
        assert "'self'" in scripts, url
        # htmx on the compile screen evaluates nothing, so no page may allow eval.
        assert "'unsafe-eval'" not in scripts, url


def test_the_compile_screen_turns_htmx_evaluation_off(admin_client):
    """htmx's event filters, hx-on and js: values would need eval: config says no, and
    no template of the screen uses them."""
    import json
    import re
    from pathlib import Path

    from tests.factories import IssueFactory

    issue = IssueFactory()
    html = admin_client.get(f"/admin/newsletters/issue/{issue.pk}/compile/").content.decode()
    (config,) = re.findall(r'<meta name="htmx-config" content=\'([^\']*)\'>', html)
    assert json.loads(config)["allowEval"] is False
    templates = Path(__file__).resolve().parents[2] / "templates/admin/newsletters/issue/compile"
    for template in templates.glob("*.html"):
        text = template.read_text()
        assert not re.search(r"hx-on|hx-vars|js:|javascript:|hx-trigger=\"[^\"]*\[", text), (
            template
        )


def test_no_reader_or_admin_page_needs_an_inline_script(client, admin_client):
    """Inline scripts would be blocked; JSON data blocks are not scripts."""
    import re

    ArticleFactory()
    for page in (client.get("/"), client.get("/subscribe/"), admin_client.get("/admin/")):
        html = page.content.decode()
        for tag in re.findall(r"<script\b[^>]*>", html):
            assert "src=" in tag or 'type="application/json"' in tag, tag


def test_admin_issue_page_has_no_inline_handlers_and_still_confirms_sending(admin_client):
    """The policy blocks inline handlers, so the Send now question comes from a script file."""
    from html.parser import HTMLParser

    from tests.factories import IssueFactory

    issue = IssueFactory()
    page = admin_client.get(f"/admin/newsletters/issue/{issue.pk}/change/").content.decode()

    class Tags(HTMLParser):
        found: list[tuple[str, dict]] = []

        def handle_starttag(self, tag, attrs):
            self.found.append((tag, dict(attrs)))

    parser = Tags()
    parser.feed(page)
    handlers = [
        (tag, name) for tag, attrs in parser.found for name in attrs if name.startswith("on")
    ]
    assert handlers == []
    (button,) = [attrs for _tag, attrs in parser.found if attrs.get("id") == "send-now-button"]
    assert button["data-confirm"] == f"Send issue #{issue.number} to every subscriber now?"
    scripts = [attrs.get("src", "") for tag, attrs in parser.found if tag == "script"]
    assert any(src.endswith("admin_extra/confirm.js") for src in scripts)
