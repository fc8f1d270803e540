"""`arbitrage teach`: load a source, extract candidates, let an admin approve them, save.

The terminal twin of the chat teaching flow: same load_source / extract / approve functions,
so what an admin sees here is what the chat shows.
"""

from __future__ import annotations

import json
import sys

import typer
from rich.panel import Panel
from rich.table import Table
from sqlmodel import Session, col, select

from knowledge.extraction import Candidate, approve, extract, mark_duplicates, summarize
from knowledge.sources import SourceError, SourceText, load_source
from knowledge.store import KnowledgeError, PermissionDenied, is_admin
from tools.cli import console, err_console, friendly_errors, load_settings_or_exit
from tools.models import Role, User


def _admin(session: Session, name: str | None) -> User:
    if name:
        user = session.exec(select(User).where(User.name == name)).first()
        if user is None:
            raise KnowledgeError(f"no user named {name!r}")
        if not is_admin(user):
            raise PermissionDenied(f"{name} is not an admin; only admins can teach")
        return user
    first = session.exec(select(User).where(User.role == Role.admin).order_by(col(User.id))).first()
    if first is None:
        raise KnowledgeError(
            "there is no admin yet: run `arbitrage up` once or `arbitrage users add NAME --admin`"
        )
    return first


def _show(i: int, n: int, c: Candidate) -> None:
    kind = "Strategy" if c.kind == "strategy" else "Mental model"
    lines = [f"[bold]{c.title}[/bold]" if c.title else "", c.text]
    if c.conditions:
        lines.append(f"[dim]conditions:[/dim] {'; '.join(c.conditions)}")
    if c.numbers:
        lines.append(f"[dim]numbers:[/dim] {', '.join(c.numbers)}")
    if c.duplicate_of:
        lines.append(f"[yellow]near-duplicate of {c.duplicate_of} already stored[/yellow]")
    console.print(
        Panel(
            "\n".join(line for line in lines if line),
            title=f"{i}/{n} {kind} · {c.category}",
            title_align="left",
        )
    )


def _load(source: str) -> SourceText:
    if source == "-":
        return load_source(sys.stdin.read())
    return load_source(source)


@friendly_errors(SourceError, KnowledgeError, PermissionDenied)
def run_teach(
    source: str, as_admin: str | None = None, yes: bool = False, as_json: bool = False
) -> None:
    from tools.db import migrate, session_scope
    from tools.llm import make_chat_model

    if source == "-" and not (yes or as_json):
        raise KnowledgeError(
            "reading the text from standard input leaves no way to answer "
            "prompts: add --yes (approve all) or --json (review only)"
        )
    settings = load_settings_or_exit()
    migrate(settings)
    if not as_json:
        with session_scope(settings) as session:
            admin_name = _admin(session, as_admin).name  # fail before the slow part
    src = _load(source)
    model = make_chat_model("extraction", settings)
    if not as_json:
        console.print(
            f"Extracting from [bold]{src.title or src.source}[/bold] "
            f"({len(src.text):,} characters) with "
            f"{'the LLM' if model is not None else 'the offline extractor'}..."
        )
    result = extract(src.text, src.source, model)
    with session_scope(settings) as session:
        candidates = mark_duplicates(session, result.candidates)
    if as_json:
        print(
            json.dumps(
                {
                    "source": src.source,
                    "kind": src.kind,
                    "title": src.title,
                    "method": result.method,
                    "note": result.note,
                    "candidates": [c.model_dump() for c in candidates],
                },
                indent=2,
            )
        )
        return
    if result.note:
        err_console.print(f"[yellow]{result.note}[/yellow]")
    if not candidates:
        console.print("No strategies or mental models found in this source; nothing saved.")
        return
    decisions = []
    for i, c in enumerate(candidates, 1):
        _show(i, len(candidates), c)
        decisions.append(True if yes else typer.confirm("Approve?", default=False))
    with session_scope(settings) as session:
        admin = _admin(session, admin_name)
        results = approve(session, candidates, decisions, admin)
    table = Table("#", "kind", "result", "ref", title="Teaching result")
    for i, r in enumerate(results, 1):
        ref = r.result.entry.ref if r.result else "-"
        status = r.status if not r.error else f"invalid: {r.error}"
        table.add_row(str(i), r.candidate.kind.replace("_", " "), status, ref)
    console.print(table)
    s = summarize(results)
    console.print(
        f"saved {s.saved}, merged {s.merged}, duplicates {s.duplicates}, "
        f"rejected {s.rejected}"
        + (f", invalid {s.invalid}" if s.invalid else "")
        + f" (approved by {admin_name})"
    )
