"""LangChain tools over the seller's loop (tools/tracking/): buy list and purchases.

Same contract as agent/tools.py: (compact JSON for the model, full data for the UI), errors
as ToolError saying what to fix. Every tool acts for the signed-in seller of the run context
and only on their rows; a guest is told to sign in.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Annotated, Any

from langchain_core.tools import BaseTool, InjectedToolArg, tool
from langgraph.prebuilt import ToolRuntime
from pydantic import BaseModel, ConfigDict, Field
from sqlmodel import Session

from agent.tool_common import ToolError, context_of
from agent.tool_common import check_asin as _asin
from agent.tool_common import to_json as _json
from tools.db import session_scope
from tools.models import User
from tools.tracking import TrackingError

MAX_ASINS = 50


@contextmanager
def _seller(runtime: ToolRuntime | None) -> Iterator[tuple[Session, User]]:
    """The signed-in seller's user row in a session; TrackingError becomes a ToolError."""
    ctx = context_of(runtime)
    if ctx.user_id is None:
        raise ToolError("The buy list and purchases belong to a seller account: sign in first.")
    try:
        with session_scope(ctx.settings) as session:
            user = session.get(User, ctx.user_id)
            if user is None:
                raise ToolError("Your account no longer exists; sign in again.")
            yield session, user
    except TrackingError as err:
        raise ToolError(str(err)) from None


def _money(v: Any) -> Any:
    return round(v, 2) if isinstance(v, float) else v


def _compact(row: dict[str, Any], keys: tuple[str, ...]) -> dict[str, Any]:
    return {k: _money(row[k]) for k in keys if row.get(k) is not None}


# ---- buy list -----------------------------------------------------------------------------

BUY_LIST_KEYS = (
    "asin",
    "title",
    "condition",
    "price_now",
    "profit",
    "roi",
    "gated",
    "state",
    "why",
    "price_at_add",
    "profit_at_add",
)


class BuyListAddArgs(BaseModel):
    model_config = ConfigDict(extra="forbid")

    asin: str = Field(description="the ASIN or ISBN-10 to add, e.g. 0131103628")
    condition: str | None = Field(
        default=None, description="the condition you mean to buy, e.g. used_good (optional)"
    )
    note: str | None = Field(default=None, max_length=500, description="a note (optional)")
    runtime: Annotated[Any, InjectedToolArg] = None


@tool("buy_list_add", args_schema=BuyListAddArgs, response_format="content_and_artifact")
def buy_list_add(
    asin: str, runtime: ToolRuntime, condition: str | None = None, note: str | None = None
) -> tuple[str, dict[str, Any]]:
    """Add a deal to the seller's buy list (kept with its price and profit now, so the list
    can show later whether it got worse)."""
    from tools.tracking.buylist import add_item

    code = _asin(asin)
    with _seller(runtime) as (session, user):
        row, created = add_item(session, user, code, condition=condition, note=note)
    data = {"added": created, "item": row.as_dict()}
    return _json({"added": created, "item": _compact(row.as_dict(), BUY_LIST_KEYS)}), data


class NoArgs(BaseModel):
    model_config = ConfigDict(extra="forbid")

    runtime: Annotated[Any, InjectedToolArg] = None


def _buy_list_content(rows: list[dict[str, Any]]) -> dict[str, Any]:
    states: dict[str, int] = {}
    for r in rows:
        states[r["state"]] = states.get(r["state"], 0) + 1
    return {
        "count": len(rows),
        "states": states,
        "items": [_compact(r, BUY_LIST_KEYS) for r in rows[:30]],
    }


@tool("buy_list_show", args_schema=NoArgs, response_format="content_and_artifact")
def buy_list_show(runtime: ToolRuntime) -> tuple[str, dict[str, Any]]:
    """The seller's buy list with today's price, profit and gating for each deal, and its
    state: ok, better or worse than when added, gone (no longer a deal), or unknown."""
    from tools.tracking.buylist import list_items

    with _seller(runtime) as (session, user):
        rows = [r.as_dict() for r in list_items(session, user)]
    return _json(_buy_list_content(rows)), {"buy_list": rows}


class BuyListRemoveArgs(BaseModel):
    model_config = ConfigDict(extra="forbid")

    asins: list[str] = Field(
        min_length=1, max_length=MAX_ASINS, description="ASINs to take off the buy list"
    )
    runtime: Annotated[Any, InjectedToolArg] = None


@tool("buy_list_remove", args_schema=BuyListRemoveArgs, response_format="content_and_artifact")
def buy_list_remove(asins: list[str], runtime: ToolRuntime) -> tuple[str, dict[str, Any]]:
    """Take ASINs off the seller's buy list."""
    from tools.tracking.buylist import list_items, remove_items

    codes = [_asin(a) for a in asins]
    with _seller(runtime) as (session, user):
        removed = remove_items(session, user, codes)
        rows = [r.as_dict() for r in list_items(session, user)]
    missing = sorted(set(codes) - set(removed))
    content = {"removed": removed, "not_on_list": missing, "left": len(rows)}
    return _json(content), {**content, "buy_list": rows}


@tool("buy_list_clear_gone", args_schema=NoArgs, response_format="content_and_artifact")
def buy_list_clear_gone(runtime: ToolRuntime) -> tuple[str, dict[str, Any]]:
    """Remove from the seller's buy list the deals that are gone (no longer in the deals
    database, no used offer left, or no profit left at the seller's settings)."""
    from tools.tracking.buylist import clear_gone, list_items

    with _seller(runtime) as (session, user):
        cleared = [r.as_dict() for r in clear_gone(session, user)]
        rows = [r.as_dict() for r in list_items(session, user)]
    content = {
        "cleared": [{"asin": r["asin"], "title": r["title"], "why": r["why"]} for r in cleared],
        "left": len(rows),
    }
    return _json(content), {**content, "buy_list": rows}


# ---- purchases ----------------------------------------------------------------------------

PURCHASE_KEYS = (
    "id",
    "asin",
    "title",
    "quantity",
    "unit_cost",
    "unit_all_in",
    "condition",
    "purchased_at",
    "sku",
    "order_number",
    "list_at_pred",
    "amz_fees_pred",
    "break_even_price",
    "min_list_price",
    "profit_pred",
    "days_to_sell_pred",
    "units_sold",
    "realized_profit",
)


class RecordPurchaseArgs(BaseModel):
    model_config = ConfigDict(extra="forbid")

    asin: str = Field(description="the ASIN or ISBN-10 bought")
    quantity: int = Field(ge=1, le=10_000, description="units bought")
    unit_cost: float = Field(ge=0, le=10_000, description="price paid per unit, $")
    condition: str | None = Field(
        default=None, description="used_like_new, used_very_good, used_good, used_acceptable, new"
    )
    purchased_on: str | None = Field(
        default=None, description="date bought, YYYY-MM-DD (default: today)"
    )
    sku: str | None = Field(default=None, max_length=40, description="your seller SKU")
    order_number: str | None = Field(
        default=None, max_length=64, description="the source order number, e.g. 112-1234567-..."
    )
    note: str | None = Field(default=None, max_length=500)
    runtime: Annotated[Any, InjectedToolArg] = None


@tool("record_purchase", args_schema=RecordPurchaseArgs, response_format="content_and_artifact")
def record_purchase(
    asin: str,
    quantity: int,
    unit_cost: float,
    runtime: ToolRuntime,
    condition: str | None = None,
    purchased_on: str | None = None,
    sku: str | None = None,
    order_number: str | None = None,
    note: str | None = None,
) -> tuple[str, dict[str, Any]]:
    """Record units the seller bought. Returns the purchase with its minimum list price
    (break-even at the seller's fees and settings, plus their markup) and the List at
    recommendation and predicted profit at the time of purchase."""
    from tools.tracking import purchases as P

    data = P.PurchaseInput(
        _asin(asin), quantity, unit_cost, condition, purchased_on, sku, order_number, note
    )
    with _seller(runtime) as (session, user):
        view = P.purchase_view(P.record_purchase(session, user, data))
    return _json(_compact(view, PURCHASE_KEYS)), {"purchase": view}


class EditPurchaseArgs(BaseModel):
    model_config = ConfigDict(extra="forbid")

    purchase_id: int = Field(ge=1, description="the purchase's number (#12)")
    quantity: int | None = Field(default=None, ge=1, le=10_000)
    unit_cost: float | None = Field(default=None, ge=0, le=10_000)
    condition: str | None = None
    purchased_on: str | None = Field(default=None, description="YYYY-MM-DD")
    sku: str | None = Field(default=None, max_length=40)
    order_number: str | None = Field(default=None, max_length=64)
    note: str | None = Field(default=None, max_length=500)
    runtime: Annotated[Any, InjectedToolArg] = None


@tool("edit_purchase", args_schema=EditPurchaseArgs, response_format="content_and_artifact")
def edit_purchase(purchase_id: int, runtime: ToolRuntime, **changes: Any) -> tuple[str, Any]:
    """Change a recorded purchase (cost, quantity, condition, date, SKU, order number, note);
    its prediction is re-derived from the numbers stored at purchase."""
    from tools.tracking import purchases as P

    given = {k: v for k, v in changes.items() if v is not None and k != "runtime"}
    if "purchased_on" in given:
        given["purchased_at"] = given.pop("purchased_on")
    if not given:
        raise ToolError("Say what to change: quantity, unit_cost, condition, date, sku, ...")
    with _seller(runtime) as (session, user):
        view = P.purchase_view(P.edit_purchase(session, user, purchase_id, given))
    return _json({"edited": sorted(given), **_compact(view, PURCHASE_KEYS)}), {"purchase": view}


class PurchaseIdArgs(BaseModel):
    model_config = ConfigDict(extra="forbid")

    purchase_id: int = Field(ge=1, description="the purchase's number (#12)")
    runtime: Annotated[Any, InjectedToolArg] = None


@tool("delete_purchase", args_schema=PurchaseIdArgs, response_format="content_and_artifact")
def delete_purchase(purchase_id: int, runtime: ToolRuntime) -> tuple[str, dict[str, Any]]:
    """Delete a recorded purchase (a mistake, a cancelled order)."""
    from tools.tracking import purchases as P

    with _seller(runtime) as (session, user):
        view = P.purchase_view(P.delete_purchase(session, user, purchase_id))
    content = {"deleted": purchase_id, "asin": view["asin"], "quantity": view["quantity"]}
    return _json(content), {**content, "purchase": view}


class ListPurchasesArgs(BaseModel):
    model_config = ConfigDict(extra="forbid")

    asin: str | None = Field(default=None, description="only this ASIN (optional)")
    limit: int = Field(default=20, ge=1, le=200)
    runtime: Annotated[Any, InjectedToolArg] = None


@tool("list_purchases", args_schema=ListPurchasesArgs, response_format="content_and_artifact")
def list_purchases(
    runtime: ToolRuntime, asin: str | None = None, limit: int = 20
) -> tuple[str, dict[str, Any]]:
    """The seller's recorded purchases, newest first, with the prediction at purchase and
    what they have realized so far."""
    from tools.tracking import purchases as P

    with _seller(runtime) as (session, user):
        rows = [
            P.purchase_view(p)
            for p in P.list_purchases(
                session, user, asin=_asin(asin) if asin else None, limit=limit
            )
        ]
    content = {"count": len(rows), "purchases": [_compact(r, PURCHASE_KEYS) for r in rows]}
    return _json(content), {"purchases": rows}


@tool("export_purchases", args_schema=NoArgs, response_format="content_and_artifact")
def export_purchases(runtime: ToolRuntime) -> tuple[str, dict[str, Any]]:
    """All the seller's purchases as a CSV file (the chat offers it as a download)."""
    from tools.tracking.csv_io import export_csv

    with _seller(runtime) as (session, user):
        text, count = export_csv(session, user)
    return _json({"rows": count, "file": "purchases.csv"}), {
        "csv": text,
        "rows": count,
        "filename": "purchases.csv",
    }


TRACKING_TOOLS: list[BaseTool] = [
    buy_list_add,
    buy_list_show,
    buy_list_remove,
    buy_list_clear_gone,
    record_purchase,
    edit_purchase,
    delete_purchase,
    list_purchases,
    export_purchases,
]
TRACKING_TOOL_NAMES = frozenset(t.name for t in TRACKING_TOOLS)
