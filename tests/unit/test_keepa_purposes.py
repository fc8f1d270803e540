"""Every Keepa spend purpose passed in the code base is one the budget lists, and vice versa.

A misspelt purpose would still be booked, under a name `arbitrage status` shows nowhere near
the real one; mypy catches it through the KeepaPurpose Literal, and this scan catches it
without mypy: literal purposes given to the Keepa client, the budget and the client factory,
the defaults of parameters typed KeepaPurpose, and values annotated with it.
"""

from __future__ import annotations

import ast
from pathlib import Path

from tools.keepa.budget import PURPOSES

REPO = Path(__file__).resolve().parents[2]
PRODUCTION = ("tools", "workers", "agent", "chat_ui", "knowledge", "bench")
# callables that take a Keepa purpose (client methods, budget, factory, client classes)
KEEPA_CALLS = frozenset(
    {
        "products",
        "product",
        "deals",
        "query",
        "seller",
        "category",
        "_call",
        "acquire",
        "aacquire",
        "settle",
        "make_keepa_client",
        "make_sync_keepa_client",
        "KeepaClient",
        "SyncKeepaClient",
    }
)
POSITIONAL = {"acquire": 1, "aacquire": 1}  # acquire(cost, purpose)


def _name(func: ast.expr) -> str | None:
    if isinstance(func, ast.Attribute):
        return func.attr
    return func.id if isinstance(func, ast.Name) else None


def _strings(node: ast.AST | None) -> set[str]:
    if node is None:
        return set()
    return {
        n.value for n in ast.walk(node) if isinstance(n, ast.Constant) and isinstance(n.value, str)
    }


def _typed_purpose(annotation: ast.expr | None) -> bool:
    return annotation is not None and "KeepaPurpose" in ast.unparse(annotation)


def passed_purposes(source: str) -> set[str]:
    """The Keepa purposes one module passes, names resolved through its module constants."""
    tree = ast.parse(source)
    constants = {
        t.id: n.value.value
        for n in tree.body
        if isinstance(n, ast.Assign)
        and isinstance(n.value, ast.Constant)
        and isinstance(n.value.value, str)
        for t in n.targets
        if isinstance(t, ast.Name)
    }
    constants |= {
        n.target.id: n.value.value
        for n in tree.body
        if isinstance(n, ast.AnnAssign)
        and isinstance(n.target, ast.Name)
        and isinstance(n.value, ast.Constant)
        and isinstance(n.value.value, str)
    }
    found: set[str] = set()

    def value(node: ast.expr) -> set[str]:
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            return {node.value}
        if isinstance(node, ast.Name) and node.id in constants:
            return {constants[node.id]}
        return set()  # a variable: typed KeepaPurpose where it comes from (checked there)

    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and _name(node.func) in KEEPA_CALLS:
            for kw in node.keywords:
                if kw.arg == "purpose":
                    found |= value(kw.value)
            pos = POSITIONAL.get(_name(node.func) or "")
            if pos is not None and len(node.args) > pos:
                found |= value(node.args[pos])
        elif isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            args = node.args
            positional = args.posonlyargs + args.args
            pairs = list(
                zip(positional[len(positional) - len(args.defaults) :], args.defaults, strict=True)
            )
            pairs += [
                (a, d)
                for a, d in zip(args.kwonlyargs, args.kw_defaults, strict=True)
                if d is not None
            ]
            for arg, default in pairs:
                if _typed_purpose(arg.annotation):
                    found |= value(default)
        elif isinstance(node, ast.AnnAssign) and _typed_purpose(node.annotation):
            found |= _strings(node.value)
    return found


def _scan(*dirs: str) -> dict[str, set[str]]:
    out: dict[str, set[str]] = {}
    for d in dirs:
        for path in sorted((REPO / d).rglob("*.py")):
            for purpose in passed_purposes(path.read_text()):
                out.setdefault(purpose, set()).add(str(path.relative_to(REPO)))
    return out


def test_the_code_base_passes_exactly_the_listed_purposes() -> None:
    passed = _scan(*PRODUCTION)
    unknown = {p: files for p, files in passed.items() if p not in PURPOSES}
    assert not unknown, f"purposes not in tools.keepa.budget.KeepaPurpose: {unknown}"
    assert set(PURPOSES) == set(passed), f"listed but never passed: {set(PURPOSES) - set(passed)}"
    tests = _scan("tests")
    assert set(tests) <= set(PURPOSES), {p: f for p, f in tests.items() if p not in PURPOSES}


def test_the_scan_sees_every_way_a_purpose_is_passed() -> None:
    """The scan would miss a misspelling if it missed the construct it is written in."""
    source = """
from tools.keepa.budget import KeepaPurpose
PURPOSE: KeepaPurpose = "const-annotated"
OTHER = "const-plain"

def f(x, purpose: KeepaPurpose = "default", *, p2: KeepaPurpose | None = "kw-default"): ...

groups: list[tuple[int, KeepaPurpose]] = [(1, "annotated-value")]
client.deals(sel, purpose="keyword")
client.products(a, purpose=PURPOSE)
client.seller(a, purpose=OTHER)
budget.acquire(5, "positional")
make_chat_model(purpose="an-llm-purpose")
def g(purpose: str = "untyped-default"): ...
"""
    assert passed_purposes(source) == {
        "const-annotated",
        "const-plain",
        "default",
        "kw-default",
        "annotated-value",
        "keyword",
        "positional",
    }
