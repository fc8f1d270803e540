"""`arbitrage alerts ...`: a seller's alerts from a shell (list, pause, resume, delete, inbox).

Every command acts for one seller (`--user NAME`, required) and reads or writes only their
rows, exactly as the chat does (tools/alerts/store.py).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Annotated

import typer
from rich.table import Table
from sqlmodel import Session

from tools.alerts.errors import AlertError
from tools.cli import console, friendly_errors, load_settings_or_exit
from tools.models import User

alerts_app = typer.Typer(help="Your alerts (saved searches): list, pause, resume, delete.")

UserOpt = Annotated[str, typer.Option("--user", help="the seller (their alerts only)")]
JsonOpt = Annotated[bool, typer.Option("--json", help="print JSON")]
RefArg = Annotated[str, typer.Argument(help="the alert's number or name")]


@contextmanager
def _seller(name: str) -> Iterator[tuple[Session, User]]:
    from tools.db import migrate, session_scope
    from tools.users import get_user

    settings = load_settings_or_exit()
    migrate(settings)
    with session_scope(settings) as session:
        user = get_user(session, name)
        if user is None:
            raise AlertError(f"no user named {name!r} (see `arbitrage users list`)")
        yield session, user


@alerts_app.command("list")
@friendly_errors(AlertError)
def alerts_list(user: UserOpt, as_json: JsonOpt = False) -> None:
    """The seller's alerts, on or paused, with their filters."""
    from tools.alerts.store import describe, list_searches, unread_since

    with _seller(user) as (session, seller):
        rows = [
            {
                "id": s.id,
                "name": s.name,
                "active": s.active,
                "filters": s.query,
                "summary": describe(s.query),
            }
            for s in list_searches(session, seller.id or 0)
        ]
        unread, _ = unread_since(session, seller.id or 0)
    if as_json:
        print(json.dumps({"alerts": rows, "unread": unread}, default=str))
        return
    table = Table("#", "name", "filters", "state")
    for r in rows:
        state = "on" if r["active"] else "paused"
        table.add_row(str(r["id"]), str(r["name"]), str(r["summary"]), state)
    console.print(table)
    console.print(f"{len(rows)} alert(s); {unread} unread message(s) in the app")


def _set_active(user: str, ref: str, active: bool) -> None:
    from tools.alerts.store import set_active

    with _seller(user) as (session, seller):
        row = set_active(session, seller.id or 0, ref, active)
        console.print(f"#{row.id} {row.name!r} {'resumed' if active else 'paused'}")


@alerts_app.command("pause")
@friendly_errors(AlertError)
def alerts_pause(ref: RefArg, user: UserOpt) -> None:
    """Pause an alert (nothing is sent for it until resumed)."""
    _set_active(user, ref, False)


@alerts_app.command("resume")
@friendly_errors(AlertError)
def alerts_resume(ref: RefArg, user: UserOpt) -> None:
    """Resume a paused alert."""
    _set_active(user, ref, True)


@alerts_app.command("delete")
@friendly_errors(AlertError)
def alerts_delete(ref: RefArg, user: UserOpt) -> None:
    """Delete an alert."""
    from tools.alerts.store import delete_search

    with _seller(user) as (session, seller):
        name = delete_search(session, seller.id or 0, ref)
    console.print(f"deleted {name!r}")


@alerts_app.command("inbox")
@friendly_errors(AlertError)
def alerts_inbox(
    user: UserOpt,
    limit: Annotated[int, typer.Option(help="at most N, newest first")] = 20,
    as_json: JsonOpt = False,
) -> None:
    """The seller's newest in-app alert messages (not marked read here)."""
    from tools.alerts.messages import render
    from tools.alerts.store import inbox

    with _seller(user) as (session, seller):
        rows = [
            {
                "id": r.id,
                "at": r.created_at.isoformat(),
                "read": r.read_at is not None,
                "text": render(r.kind, r.payload)[1],
            }
            for r in inbox(session, seller.id or 0, limit=max(1, min(limit, 200)))
        ]
    if as_json:
        print(json.dumps(rows))
        return
    for r in rows:
        console.print(
            f"[bold]{str(r['at'])[:16]}[/bold]{'' if r['read'] else ' (new)'}\n{r['text']}\n"
        )
