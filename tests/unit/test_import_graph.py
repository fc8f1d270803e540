"""The project's import graph: no cycles, and imports only point down the layers.

Layers (README): `tools <- knowledge <- agent <- chat_ui` and `tools <- workers`. Every import
counts, also those inside functions: a lazy import only hides a cycle until someone moves it.
"""

from __future__ import annotations

import ast
from functools import cache
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
PACKAGES = ("tools", "knowledge", "agent", "workers", "chat_ui")
# what each package may import from the project, besides itself
ALLOWED = {
    "tools": set(),
    "knowledge": {"tools"},
    "agent": {"tools", "knowledge"},
    "chat_ui": {"tools", "knowledge", "agent"},
    "workers": {"tools"},
}
# The `arbitrage` command is where both stacks meet: it starts the workers, runs their backfill
# and shows their status. Only it may reach into workers from above.
ALSO_ALLOWED = {"chat_ui.cli": {"workers"}}


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(REPO).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


@cache
def _modules() -> dict[str, Path]:
    return {_module_name(p): p for pkg in PACKAGES for p in sorted((REPO / pkg).rglob("*.py"))}


def _target(name: str, modules: dict[str, Path]) -> str | None:
    """The project module that `import name` loads (the deepest existing prefix)."""
    while name:
        if name in modules:
            return name
        name = name.rpartition(".")[0]
    return None


def _imports(module: str, path: Path, modules: dict[str, Path]) -> set[str]:
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        names: list[str] = []
        if isinstance(node, ast.Import):
            names = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*anchor, base] if base else anchor)
            # `from pkg import submodule` loads the submodule; `from pkg import name` the package
            names = [
                f"{base}.{a.name}" if f"{base}.{a.name}" in modules else base for a in node.names
            ]
        for name in names:
            target = _target(name, modules)
            if target is not None and target != module:
                found.add(target)
    return found


@cache
def _graph() -> dict[str, frozenset[str]]:
    modules = _modules()
    return {m: frozenset(_imports(m, p, modules)) for m, p in modules.items()}


def _cycles(graph: dict[str, frozenset[str]]) -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    out: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in graph.get(v, ()):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                out.append(sorted(component))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return out


def _is_package_init(module: str) -> bool:
    return _modules()[module].name == "__init__.py"


def test_the_graph_sees_the_project() -> None:
    graph = _graph()
    assert "workers.pipeline.processor" in graph and "tools.db" in graph
    assert "tools.models" in graph["workers.pipeline.processor"]  # a top-level import
    assert "tools.deals.store" in graph["workers.pipeline.processor"]  # one inside a function


def test_no_import_cycles_among_project_modules() -> None:
    # A package's __init__ re-exporting its submodules, which import siblings through the
    # package, is how packages work and not a cycle between concerns: leave such edges out.
    graph = {
        m: frozenset(t for t in targets if not (_is_package_init(t) and m.startswith(t + ".")))
        for m, targets in _graph().items()
    }
    assert _cycles(graph) == []


@pytest.mark.parametrize("package", PACKAGES)
def test_imports_point_down_the_layers(package: str) -> None:
    wrong = sorted(
        f"{m} -> {t}"
        for m, targets in _graph().items()
        if m.split(".")[0] == package
        for t in targets
        if t.split(".")[0] not in ALLOWED[package] | ALSO_ALLOWED.get(m, set()) | {package}
    )
    assert wrong == [], f"{package} may import only {sorted(ALLOWED[package])}"


def test_the_cycle_finder_finds_a_cycle() -> None:
    assert _cycles(
        {"a": frozenset({"b"}), "b": frozenset({"c"}), "c": frozenset({"a"}), "d": frozenset({"a"})}
    ) == [["a", "b", "c"]]
