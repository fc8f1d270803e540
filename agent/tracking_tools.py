"""LangChain tools over the seller's loop (tools/tracking/): buy list and purchases.

Same contract as agent/tools.py: (compact JSON for the model, full data for the UI), errors
as ToolError saying what to fix. Every tool acts for the signed-in seller of the run context
and only on their rows; a guest is told to sign in.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime, time, timedelta
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


# ---- sales, realized profit, inventory, calibration ---------------------------------------


def _day(value: str | None, what: str) -> date | None:
    if not value:
        return None
    try:
        return date.fromisoformat(value.strip()[:10])
    except ValueError:
        raise ToolError(f"{what} must be a date like 2025-11-01, not {value!r}") from None


def _period(start: str | None, end: str | None) -> tuple[datetime | None, datetime | None]:
    """[start, end] as whole UTC days -> [start 00:00, the day after end 00:00)."""
    first, last = _day(start, "start"), _day(end, "end")
    if first and last and last < first:
        raise ToolError("end is before start")
    return (
        datetime.combine(first, time(0), tzinfo=UTC) if first else None,
        datetime.combine(last + timedelta(days=1), time(0), tzinfo=UTC) if last else None,
    )


class PeriodArgs(BaseModel):
    model_config = ConfigDict(extra="forbid")

    start: str | None = Field(default=None, description="first day, YYYY-MM-DD (default: ever)")
    end: str | None = Field(default=None, description="last day, YYYY-MM-DD (default: today)")
    runtime: Annotated[Any, InjectedToolArg] = None


@tool("profit_report", args_schema=PeriodArgs, response_format="content_and_artifact")
def profit_report(
    runtime: ToolRuntime, start: str | None = None, end: str | None = None
) -> tuple[str, dict[str, Any]]:
    """The seller's realized profit over a period (sales synced from Amazon matched FIFO to
    their purchases): units sold, sales, Amazon fees, cost, profit, sales with no purchase on
    record, returns, and profit by month (the chat draws it as a chart)."""
    from tools.tracking.reports import profit_summary

    lo, hi = _period(start, end)
    with _seller(runtime) as (session, user):
        summary = profit_summary(session, user, lo, hi).as_dict()
    content = {k: v for k, v in summary.items() if k != "by_month"}
    content["by_month"] = summary["by_month"][-12:]
    return _json(content), {"profit": summary}


class SalesArgs(PeriodArgs):
    limit: int = Field(default=20, ge=1, le=50)


@tool("sales_report", args_schema=SalesArgs, response_format="content_and_artifact")
def sales_report(
    runtime: ToolRuntime, start: str | None = None, end: str | None = None, limit: int = 20
) -> tuple[str, dict[str, Any]]:
    """What sold in a period, newest first: each sale (or refund) with its price, fees,
    realized profit and days from purchase to sale."""
    from tools.tracking.reports import sales_between

    lo, hi = _period(start, end)
    with _seller(runtime) as (session, user):
        data = sales_between(session, user, lo, hi, limit=limit)
    return _json(data), {"sales": data}


@tool("losing_purchases", args_schema=NoArgs, response_format="content_and_artifact")
def losing_purchases(runtime: ToolRuntime) -> tuple[str, dict[str, Any]]:
    """The seller's purchases that are losing money (sold units with negative realized profit,
    worst first) and those still unsold at twice their predicted days to sell."""
    from tools.tracking.reports import losing_purchases as _losing

    with _seller(runtime) as (session, user):
        data = _losing(session, user)
    return _json(data), {"losing": data}


class DaysArgs(BaseModel):
    model_config = ConfigDict(extra="forbid")

    kind: str | None = Field(
        default=None,
        max_length=60,
        description='a kind of purchase: "textbooks", "exam prep", or a word of the category '
        "or title (default: all)",
    )
    runtime: Annotated[Any, InjectedToolArg] = None


@tool("days_to_sell", args_schema=DaysArgs, response_format="content_and_artifact")
def days_to_sell(runtime: ToolRuntime, kind: str | None = None) -> tuple[str, dict[str, Any]]:
    """How long the seller's purchases took from purchase to sale: the average per unit, the
    median, what was predicted, and a histogram (the chat draws it)."""
    from tools.tracking.reports import days_to_sell as _days

    with _seller(runtime) as (session, user):
        data = _days(session, user, kind)
    return _json(data), {"days": data}


class InventoryArgs(BaseModel):
    model_config = ConfigDict(extra="forbid")

    stuck_only: bool = Field(
        default=False, description="only SKUs stuck inbound (should have been received)"
    )
    runtime: Annotated[Any, InjectedToolArg] = None


@tool("inventory_report", args_schema=InventoryArgs, response_format="content_and_artifact")
def inventory_report(runtime: ToolRuntime, stuck_only: bool = False) -> tuple[str, dict[str, Any]]:
    """The seller's FBA inventory at Amazon (last sync): fulfillable, inbound, reserved and
    unfulfillable units, the SKUs with most units matched to their purchases; or only the SKUs
    stuck inbound."""
    from tools.tracking.reports import inventory

    with _seller(runtime) as (session, user):
        data = inventory(session, user, stuck_only=stuck_only)
    return _json(data), {"inventory": data}


class CalibrationArgs(BaseModel):
    model_config = ConfigDict(extra="forbid")

    seasonality: str | None = Field(
        default=None, description="only purchases of this seasonality, e.g. textbook"
    )
    runtime: Annotated[Any, InjectedToolArg] = None


@tool("prediction_calibration", args_schema=CalibrationArgs, response_format="content_and_artifact")
def prediction_calibration(
    runtime: ToolRuntime, seasonality: str | None = None
) -> tuple[str, dict[str, Any]]:
    """How the app's predictions at purchase compare with what the seller's purchases
    realized: profit per unit (difference and ratio) and days to sell (ratio), each a mean
    with a 95 % confidence interval over the purchases that sold."""
    from tools.tracking.reports import calibration, calibration_points

    with _seller(runtime) as (session, user):
        data = calibration(session, user, seasonality=seasonality)
        points = calibration_points(session, user, seasonality=seasonality)
    return _json(data), {"calibration": data, "points": points}


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
    profit_report,
    sales_report,
    losing_purchases,
    days_to_sell,
    inventory_report,
    prediction_calibration,
]
TRACKING_TOOL_NAMES = frozenset(t.name for t in TRACKING_TOOLS)
