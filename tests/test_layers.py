"""The layout's rules, checked on the source: one-way layers, no import cycles, small modules.

Every import counts, including those inside functions: a lower layer that reaches up
from a function body is still tied to the upper one.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("digest", "articles", "newsletters")
MAX_MODULE_LINES = 450
# Data, not code: the demo world's texts and feeds.
LINE_LIMIT_EXEMPT = ("digest/demo/data.py",)

# Lowest first. A module may import its own layer and those below it only.
LAYERS = {
    "core": 1,
    "articles": 2,
    "newsletters": 3,
    "site": 4,
    "demo": 4,
    "top": 5,
}


def layer_of(module: str) -> str:
    parts = module.split(".")
    if parts[0] == "digest":
        if len(parts) > 1 and parts[1] in ("core", "site", "demo"):
            return parts[1]
        return "top"
    return parts[0]


def project_modules() -> dict[str, Path]:
    modules = {}
    for package in PACKAGES:
        for path in (ROOT / package).rglob("*.py"):
            relative = path.relative_to(ROOT)
            if "migrations" in relative.parts:
                continue
            parts = list(relative.with_suffix("").parts)
            if parts[-1] == "__init__":
                parts = parts[:-1]
            modules[".".join(parts)] = path
    return modules


MODULES = project_modules()


def imported_modules(module: str, path: Path) -> set[str]:
    """Project modules that ``module`` imports anywhere in its body."""
    is_package = path.name == "__init__.py"
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = module.split(".")
                anchor = anchor if is_package else anchor[:-1]
                anchor = anchor[: len(anchor) - (node.level - 1)]
                base = ".".join([*anchor, *([base] if base else [])])
            names = [f"{base}.{alias.name}" for alias in node.names] + [base]
        else:
            continue
        for name in names:
            # The longest project module the name starts with: "a.b.c" for "a.b.c.f".
            while name and name not in MODULES:
                name = name.rpartition(".")[0]
            if name and name != module and name not in PACKAGES:
                found.add(name)
    return found


GRAPH = {module: imported_modules(module, path) for module, path in MODULES.items()}


def test_lower_layers_never_import_upper_ones():
    wrong = []
    for module, targets in GRAPH.items():
        here = layer_of(module)
        for target in targets:
            there = layer_of(target)
            if LAYERS[there] > LAYERS[here] or (LAYERS[there] == LAYERS[here] and there != here):
                wrong.append(f"{module} ({here}) imports {target} ({there})")
    assert wrong == []


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    components = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for target in graph.get(node, ()):
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in on_stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                components.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return components


def test_no_module_imports_in_a_circle():
    assert _cycles(GRAPH) == []


def test_the_cycle_finder_finds_a_cycle():
    assert _cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]


def test_the_layer_rule_sees_imports_inside_functions(tmp_path, monkeypatch):
    source = tmp_path / "articles" / "sneaky.py"
    source.parent.mkdir()
    source.write_text("def f():\n    from newsletters.models import Issue\n")
    monkeypatch.setitem(MODULES, "newsletters.models", ROOT / "newsletters" / "models.py")
    assert "newsletters.models" in imported_modules("articles.sneaky", source)


def test_only_tasks_and_app_configs_import_task_modules():
    wrong = [
        f"{module} imports {target}"
        for module, targets in GRAPH.items()
        for target in targets
        if target.endswith(".tasks") and not module.endswith((".tasks", ".apps", "digest.celery"))
    ]
    assert wrong == []


@pytest.mark.parametrize("module", sorted(MODULES))
def test_module_is_small_and_says_what_it_is_for(module):
    path = MODULES[module]
    relative = str(path.relative_to(ROOT))
    text = path.read_text()
    if relative not in LINE_LIMIT_EXEMPT:
        assert len(text.splitlines()) <= MAX_MODULE_LINES, f"{relative} is over the limit"
    if path.name != "__init__.py" and "management/commands" not in relative and text.strip():
        assert ast.get_docstring(ast.parse(text)), f"{relative} has no docstring"
