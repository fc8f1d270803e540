"""`arbitrage purchases ...` and `arbitrage buylist ...`: the seller's loop from a shell.

Every command acts for one seller (`--user NAME`, required) and reads or writes only their
rows, exactly as the chat does (tools/tracking/).
"""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table
from sqlmodel import Session

from tools.cli import console, friendly_errors, load_settings_or_exit
from tools.models import User
from tools.tracking import TrackingError

purchases_app = typer.Typer(help="Your purchases: record, list, export, import costs.")
buylist_app = typer.Typer(help="Your buy list: deals you mean to buy.")

UserOpt = Annotated[str, typer.Option("--user", help="the seller (their rows only)")]
JsonOpt = Annotated[bool, typer.Option("--json", help="print JSON")]


class CliError(RuntimeError):
    pass


@contextmanager
def _seller(name: str) -> Iterator[tuple[Session, User]]:
    from tools.db import migrate, session_scope
    from tools.users import get_user

    settings = load_settings_or_exit()
    migrate(settings)
    with session_scope(settings) as session:
        user = get_user(session, name)
        if user is None:
            raise CliError(f"no user named {name!r} (see `arbitrage users list`)")
        yield session, user


def _money(v: Any) -> str:
    return "-" if v is None else f"${v:,.2f}"


@purchases_app.command("list")
@friendly_errors(CliError, TrackingError)
def purchases_list(
    user: UserOpt,
    asin: Annotated[str | None, typer.Option(help="only this ASIN")] = None,
    limit: Annotated[int, typer.Option(help="at most N, newest first")] = 50,
    as_json: JsonOpt = False,
) -> None:
    """List the seller's purchases with the prediction at purchase and what they realized."""
    from tools.tracking.purchases import list_purchases, purchase_view

    with _seller(user) as (session, seller):
        rows = [purchase_view(p) for p in list_purchases(session, seller, asin=asin, limit=limit)]
    if as_json:
        print(json.dumps(rows, default=str))
        return
    table = Table(
        "#", "date", "ASIN", "qty", "cost", "min list", "pred. profit", "sold", "realized"
    )
    for r in rows:
        table.add_row(
            str(r["id"]),
            str(r["purchased_at"])[:10],
            r["asin"],
            str(r["quantity"]),
            _money(r["unit_cost"]),
            _money(r["min_list_price"]),
            _money(r["profit_pred"]),
            str(r["units_sold"]),
            _money(r["realized_profit"]),
        )
    console.print(table)


@purchases_app.command("add")
@friendly_errors(CliError, TrackingError)
def purchases_add(
    user: UserOpt,
    asin: Annotated[str, typer.Argument(help="ASIN or ISBN-10")],
    quantity: Annotated[int, typer.Argument(help="units bought")],
    unit_cost: Annotated[float, typer.Argument(help="price paid per unit, $")],
    condition: Annotated[str | None, typer.Option(help="e.g. used_good")] = None,
    date: Annotated[str | None, typer.Option(help="YYYY-MM-DD (default: today)")] = None,
    sku: Annotated[str | None, typer.Option(help="your seller SKU")] = None,
    order: Annotated[str | None, typer.Option(help="the source order number")] = None,
) -> None:
    """Record a purchase; prints its minimum list price and the prediction at purchase."""
    from tools.tracking.purchases import PurchaseInput, purchase_view, record_purchase

    data = PurchaseInput(asin, quantity, unit_cost, condition, date, sku, order)
    with _seller(user) as (session, seller):
        view = purchase_view(record_purchase(session, seller, data))
    console.print(
        f"purchase #{view['id']}: {view['quantity']} x {view['asin']} at "
        f"{_money(view['unit_cost'])}; min list {_money(view['min_list_price'])} (break-even "
        f"{_money(view['break_even_price'])}), List at {_money(view['list_at_pred'])}, "
        f"predicted profit {_money(view['profit_pred'])}/unit"
    )


@purchases_app.command("delete")
@friendly_errors(CliError, TrackingError)
def purchases_delete(user: UserOpt, purchase_id: int) -> None:
    """Delete one of the seller's purchases."""
    from tools.tracking.purchases import delete_purchase

    with _seller(user) as (session, seller):
        p = delete_purchase(session, seller, purchase_id)
    console.print(f"deleted purchase #{purchase_id} ({p.quantity} x {p.asin})")


@purchases_app.command("export")
@friendly_errors(CliError, TrackingError)
def purchases_export(
    user: UserOpt,
    output: Annotated[
        Path | None, typer.Option("--output", "-o", help="file to write (default: stdout)")
    ] = None,
) -> None:
    """Write the seller's purchases as CSV."""
    from tools.tracking.csv_io import export_csv

    with _seller(user) as (session, seller):
        text, count = export_csv(session, seller)
    if output is None:
        sys.stdout.write(text)
        return
    output.write_text(text, encoding="utf-8")
    console.print(f"wrote {count} purchases to {output}")


@purchases_app.command("import")
@friendly_errors(CliError, TrackingError)
def purchases_import(
    user: UserOpt,
    file: Annotated[Path, typer.Argument(help="a CSV with a cost column (- for stdin)")],
    dry_run: Annotated[bool, typer.Option("--dry-run", help="only say what would change")] = False,
    as_json: JsonOpt = False,
) -> None:
    """Import costs from a CSV: rows update purchases found by id, SKU, or order number +
    ASIN, or add purchases that name asin, quantity and cost."""
    from tools.tracking.csv_io import MAX_BYTES, import_costs

    if str(file) == "-":
        data = sys.stdin.buffer.read(MAX_BYTES + 1)
    else:
        if not file.is_file():
            raise CliError(f"{file}: no such file")
        with file.open("rb") as fh:
            data = fh.read(MAX_BYTES + 1)
    with _seller(user) as (session, seller):
        report = import_costs(session, seller, data, dry_run=dry_run)
        if dry_run:
            session.rollback()
    if as_json:
        print(json.dumps(report.as_dict()))
        return
    verb = "would update" if dry_run else "updated"
    console.print(
        f"{verb} {report.updated}, added {report.added}, unchanged {report.unchanged}, "
        f"skipped {report.skipped}"
    )
    for reason in report.reasons:
        console.print(f"  {reason}", markup=False)


@buylist_app.command("list")
@friendly_errors(CliError, TrackingError)
def buylist_list(user: UserOpt, as_json: JsonOpt = False) -> None:
    """The seller's buy list with today's price, profit, gating and state."""
    from tools.tracking.buylist import list_items

    with _seller(user) as (session, seller):
        rows = [r.as_dict() for r in list_items(session, seller)]
    if as_json:
        print(json.dumps(rows, default=str))
        return
    table = Table("ASIN", "title", "price", "profit", "then", "gated", "state")
    for r in rows:
        table.add_row(
            r["asin"],
            str(r["title"] or "")[:40],
            _money(r["price_now"]),
            _money(r["profit"]),
            _money(r["profit_at_add"]),
            str(r["gated"] or "-"),
            r["state"] + (f" ({r['why']})" if r["why"] else ""),
        )
    console.print(table)


@buylist_app.command("add")
@friendly_errors(CliError, TrackingError)
def buylist_add(user: UserOpt, asin: str) -> None:
    """Add an ASIN to the seller's buy list."""
    from tools.tracking.buylist import add_item

    with _seller(user) as (session, seller):
        row, created = add_item(session, seller, asin)
    console.print(f"{'added' if created else 'already on the list:'} {row.asin}")


@buylist_app.command("remove")
@friendly_errors(CliError, TrackingError)
def buylist_remove(user: UserOpt, asins: list[str]) -> None:
    """Remove ASINs from the seller's buy list."""
    from tools.tracking.buylist import remove_items

    with _seller(user) as (session, seller):
        removed = remove_items(session, seller, asins)
    console.print(f"removed {len(removed)}: {' '.join(removed) or '-'}")


@buylist_app.command("clear-gone")
@friendly_errors(CliError, TrackingError)
def buylist_clear_gone(user: UserOpt) -> None:
    """Remove the deals that are gone from the seller's buy list."""
    from tools.tracking.buylist import clear_gone

    with _seller(user) as (session, seller):
        gone = clear_gone(session, seller)
    console.print(f"cleared {len(gone)}: " + "; ".join(f"{r.asin} ({r.why})" for r in gone))
