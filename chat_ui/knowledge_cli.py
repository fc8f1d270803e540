"""`arbitrage knowledge list|show|edit|delete`: what admins taught, managed from a shell.

The terminal twin of the chat's admin commands ("show strategies about seasonality", "edit
S14: ...", "delete S14"): the same store functions, and the same approval step for an edit
(the change is shown before and after, and saved only when the admin says yes).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from functools import wraps
from typing import TYPE_CHECKING, Annotated, Any, TypeVar

import typer
from rich.panel import Panel
from rich.table import Table

from tools.cli import console, err_console, load_settings_or_exit

if TYPE_CHECKING:
    from knowledge.entries import KnowledgeEntry

F = TypeVar("F", bound=Callable[..., Any])


def _friendly(fn: F) -> F:
    """The knowledge errors as one red line and exit code 1; imported when a command runs,
    so `arbitrage` itself does not load the knowledge package."""

    @wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        from knowledge.entries import KnowledgeError
        from knowledge.store import PermissionDenied

        try:
            return fn(*args, **kwargs)
        except (KnowledgeError, PermissionDenied) as err:
            err_console.print(f"[red]{err}[/red]")
            raise typer.Exit(1) from None

    return wrapper  # type: ignore[return-value]


knowledge_app = typer.Typer(
    help="What admins taught (strategies S.., mental models M..): list, show, edit, delete."
)

RefArg = Annotated[str, typer.Argument(help="the entry's reference, like S12 or M3")]
JsonOpt = Annotated[bool, typer.Option("--json", help="print JSON")]
AsOpt = Annotated[
    str | None, typer.Option("--as", help="the acting admin (default: the first admin)")
]
YesOpt = Annotated[bool, typer.Option("--yes", "-y", help="do not ask for confirmation")]
LIST_TEXT = 90


def _clip(text: str, n: int) -> str:
    return text if len(text) <= n else text[: n - 1].rsplit(" ", 1)[0] + "…"


def _panel(e: KnowledgeEntry, title: str | None = None) -> Panel:
    kind = "Strategy" if e.kind == "strategy" else "Mental model"
    lines = [f"[bold]{e.title}[/bold]" if e.title else "", e.text]
    lines.append(f"[dim]category:[/dim] {e.category}   [dim]source:[/dim] {e.source}")
    if e.approved_by:
        when = e.approved_at.strftime("%Y-%m-%d") if e.approved_at else "?"
        lines.append(f"[dim]approved by {e.approved_by} on {when}[/dim]")
    return Panel(
        "\n".join(x for x in lines if x),
        title=title or f"{e.ref} · {kind}",
        title_align="left",
    )


@knowledge_app.command("list")
@_friendly
def knowledge_list(
    search: Annotated[
        str | None, typer.Option("--search", "-s", help="words to look for (text, title, category)")
    ] = None,
    kind: Annotated[
        str | None, typer.Option(help="strategy or mental_model (default: both)")
    ] = None,
    category: Annotated[str | None, typer.Option(help="only this category")] = None,
    limit: Annotated[int, typer.Option(min=1, max=500)] = 50,
    as_json: JsonOpt = False,
) -> None:
    """Strategies and mental models, newest first (or best match for --search)."""
    from knowledge.entries import model_for
    from knowledge.store import list_knowledge, search_entries
    from tools.db import migrate, session_scope

    if kind is not None:
        model_for(kind)  # unknown kind: a KnowledgeError that says the two names
    settings = load_settings_or_exit()
    migrate(settings)
    with session_scope(settings) as session:
        if search:
            rows = search_entries(session, search, kind=kind, limit=limit)  # type: ignore[arg-type]
            if category:
                rows = [e for e in rows if e.category == category.lower()]
        else:
            rows = list_knowledge(session, kind=kind, category=category, limit=limit)  # type: ignore[arg-type]
    if as_json:
        print(json.dumps({"entries": [e.as_dict() for e in rows]}, default=str))
        return
    table = Table("ref", "category", "text", "approved by")
    for e in rows:
        text = f"{e.title}: {e.text}" if e.title else e.text
        table.add_row(e.ref, e.category, _clip(text, LIST_TEXT), e.approved_by or "")
    console.print(table)
    console.print(f"{len(rows)} entr{'y' if len(rows) == 1 else 'ies'}")


@knowledge_app.command("show")
@_friendly
def knowledge_show(ref: RefArg, as_json: JsonOpt = False) -> None:
    """One entry in full, with where it came from and who approved it."""
    from knowledge.entries import KnowledgeError
    from knowledge.store import get_entry, parse_ref
    from tools.db import migrate, session_scope

    kind, entry_id = parse_ref(ref)
    settings = load_settings_or_exit()
    migrate(settings)
    with session_scope(settings) as session:
        entry = get_entry(session, kind, entry_id)
    if entry is None:
        raise KnowledgeError(f"there is no {ref.upper()}")
    if as_json:
        print(json.dumps(entry.as_dict(), default=str))
        return
    console.print(_panel(entry))


@knowledge_app.command("edit")
@_friendly
def knowledge_edit(
    ref: RefArg,
    text: Annotated[str | None, typer.Option(help="the new wording")] = None,
    title: Annotated[str | None, typer.Option(help="a mental model's new title")] = None,
    category: Annotated[str | None, typer.Option(help="the new category")] = None,
    as_admin: AsOpt = None,
    yes: YesOpt = False,
) -> None:
    """Change an entry's text, title or category: shown before and after, saved on approval."""
    from knowledge.cli import _admin
    from knowledge.entries import KnowledgeEntry, KnowledgeError
    from knowledge.store import edit_knowledge, parse_ref, plan_edit
    from tools.db import migrate, session_scope

    if text is None and title is None and category is None:
        raise KnowledgeError("say what to change: --text, --title and/or --category")
    kind, entry_id = parse_ref(ref)
    settings = load_settings_or_exit()
    migrate(settings)
    with session_scope(settings) as session:
        admin_name = _admin(session, as_admin).name
        before, change = plan_edit(
            session, kind, entry_id, text=text, title=title, category=category
        )
    after = KnowledgeEntry(**{**before.__dict__, **change})
    console.print(_panel(before, f"{before.ref} now"))
    console.print(_panel(after, f"{before.ref} after the edit"))
    if not yes and not typer.confirm("Approve this edit?", default=False):
        console.print("Not changed.")
        return
    with session_scope(settings) as session:
        done = edit_knowledge(
            session,
            kind,
            entry_id,
            _admin(session, admin_name),
            text=text,
            title=title,
            category=category,
        )
        ref_done = done.after.ref
    console.print(f"{ref_done} updated ({', '.join(sorted(change))}); approved by {admin_name}")


@knowledge_app.command("delete")
@_friendly
def knowledge_delete(ref: RefArg, as_admin: AsOpt = None, yes: YesOpt = False) -> None:
    """Delete an entry for good (every persona stops using it at once)."""
    from knowledge.cli import _admin
    from knowledge.entries import KnowledgeError
    from knowledge.store import delete_knowledge, get_entry, parse_ref
    from tools.db import migrate, session_scope

    kind, entry_id = parse_ref(ref)
    settings = load_settings_or_exit()
    migrate(settings)
    with session_scope(settings) as session:
        admin_name = _admin(session, as_admin).name
        entry = get_entry(session, kind, entry_id)
    if entry is None:
        raise KnowledgeError(f"there is no {ref.upper()}")
    console.print(_panel(entry))
    if not yes and not typer.confirm(f"Delete {entry.ref}?", default=False):
        console.print("Not deleted.")
        return
    with session_scope(settings) as session:
        delete_knowledge(session, kind, entry_id, _admin(session, admin_name))
    console.print(f"{entry.ref} deleted (by {admin_name})")
