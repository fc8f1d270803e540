"""`arbitrage seller ...`: sync a seller's Amazon data now, and see what is stored.

Heavy imports happen inside the commands so registering this sub-app costs nothing. Each
command works on one named user's rows only.
"""

from __future__ import annotations

import json
from typing import Annotated, Any

import typer
from rich.table import Table

from tools.cli import console, friendly_errors, load_settings_or_exit

seller_app = typer.Typer(
    help="The seller's Amazon data (FBA inventory, orders, financial events) per user.",
    no_args_is_help=True,
)


class _CliError(RuntimeError):
    pass


def _user_id(session: Any, name: str) -> int:
    from tools.users import get_user

    user = get_user(session, name)
    if user is None or user.id is None:
        raise _CliError(f"no user named {name!r}")
    return user.id


@seller_app.command("sync")
@friendly_errors(_CliError, ValueError)
def sync(
    user: Annotated[str, typer.Argument(help="the user whose seller account to sync")],
    stream: Annotated[
        list[str] | None,
        typer.Option("--stream", help="inventory, orders or finances (default: all three)"),
    ] = None,
    slice_s: Annotated[
        float | None,
        typer.Option("--max-seconds", help="stop after this long (default: until caught up)"),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="machine-readable output")] = False,
) -> None:
    """Sync now, from each stream's checkpoint (an interrupted sync continues where it was)."""
    from tools.db import migrate, session_scope
    from tools.redis_embedded import ensure_redis
    from tools.restrictions.errors import RestrictionsError
    from tools.spapi.service import sync_seller_sync
    from tools.spapi.sync import STREAMS

    settings = load_settings_or_exit()
    migrate(settings)
    with session_scope(settings) as session:
        uid = _user_id(session, user)
    streams = tuple(stream or STREAMS)
    url, owner = ensure_redis(settings)
    settings = settings.model_copy(update={"redis_url": url})
    try:
        run = sync_seller_sync(settings, uid, streams, max_seconds=slice_s)
    except RestrictionsError as err:
        raise _CliError(str(err)) from None
    finally:
        if owner:
            owner.stop()
    if as_json:
        print(json.dumps(run.as_dict(), default=str))
    else:
        table = Table("stream", "pages", "rows", "items", "calls", "state")
        for name, r in run.results.items():
            calls = ", ".join(f"{k} {v}" for k, v in r.calls.items()) or "-"
            state = "caught up" if r.done else (r.stopped or "stopped")
            table.add_row(name, str(r.pages), str(r.rows), str(r.items), calls, state)
        for name in run.busy:
            table.add_row(name, "-", "-", "-", "-", "another sync is running")
        for name, problem in run.errors.items():
            table.add_row(name, "-", "-", "-", "-", f"[red]{problem}[/red]")
        console.print(table)
    if run.errors:
        raise typer.Exit(1)


@seller_app.command("inventory")
@friendly_errors(_CliError)
def inventory(
    user: Annotated[str, typer.Argument(help="whose inventory")],
    as_json: Annotated[bool, typer.Option("--json", help="machine-readable output")] = False,
) -> None:
    """The user's FBA inventory as last synced."""
    from tools.db import migrate, session_scope
    from tools.spapi import store

    settings = load_settings_or_exit()
    migrate(settings)
    with session_scope(settings) as session:
        rows = store.inventory(session, _user_id(session, user))
    fields = (
        "sku",
        "asin",
        "condition",
        "fulfillable",
        "inbound_working",
        "inbound_shipped",
        "inbound_receiving",
        "reserved",
        "unfulfillable",
    )
    if as_json:
        print(json.dumps([{f: getattr(r, f) for f in fields} for r in rows]))
        return
    table = Table(*fields, title=f"FBA inventory of {user} ({len(rows)} SKUs)")
    for r in rows:
        table.add_row(*(str(getattr(r, f) if getattr(r, f) is not None else "-") for f in fields))
    console.print(table)
