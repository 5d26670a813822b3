"""axe-core, vendored under tests/browser/vendor/, run inside a Playwright page."""

from __future__ import annotations

from pathlib import Path

AXE_SCRIPT = Path(__file__).resolve().parent / "vendor" / "axe-core" / "axe.min.js"
# WCAG 2.0/2.1/2.2 at levels A and AA, plus axe's best practices for web pages.
PAGE_RULES = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa", "best-practice"]
# An email has no landmarks or skip links to offer: WCAG's success criteria only.
EMAIL_RULES = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"]


def axe_violations(page, *, tags: list[str]) -> list[dict]:
    """Run axe-core on ``page`` and return its violations (rule, impact, first targets)."""
    page.add_script_tag(path=str(AXE_SCRIPT))
    return page.evaluate(
        """async (tags) => {
            const result = await axe.run(document, {runOnly: {type: 'tag', values: tags},
                                                   resultTypes: ['violations']});
            return result.violations.map(v => ({
                id: v.id, impact: v.impact, help: v.help,
                targets: v.nodes.slice(0, 5).map(n => n.target.join(' ')),
            }));
        }""",
        tags,
    )


def horizontal_overflow(page) -> int:
    """How many CSS pixels the page scrolls sideways (0 or less: none)."""
    return page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
