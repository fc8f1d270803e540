"""What the seller's-loop tools look like in the chat: the buy list table, the purchase form,
the purchases CSV as a download, and the buttons under an answer.

Pure functions from the tools' artifacts to Chainlit elements and actions (no database here);
the buttons' callbacks are in chat_ui/tracking_actions.py.
"""

from __future__ import annotations

import base64
from collections.abc import Iterable, Mapping
from datetime import date
from typing import Any

import chainlit as cl

from chat_ui.render import AMAZON_URL, PlotlyFigure, https_url

MAX_ROWS = 200
CONDITIONS = (
    ("used_like_new", "Used - Like New"),
    ("used_very_good", "Used - Very Good"),
    ("used_good", "Used - Good"),
    ("used_acceptable", "Used - Acceptable"),
    ("new_new", "New"),
)
BUY_LIST_TOOLS = frozenset({"buy_list_show", "buy_list_remove", "buy_list_clear_gone"})
PURCHASE_TOOLS = frozenset({"record_purchase", "edit_purchase", "list_purchases"})
DEAL_TOOLS = frozenset({"deal_advice", "get_deal", "keepa_lookup"})


def buy_list_row(row: Mapping[str, Any]) -> dict[str, Any]:
    asin = str(row.get("asin") or "")
    keys = ("title", "condition", "price_now", "profit", "profit_at_add", "roi", "gated")
    out = {k: row.get(k) for k in keys}
    out.update(
        asin=asin,
        state=str(row.get("state") or "ok"),
        why=row.get("why"),
        amazon_url=https_url(AMAZON_URL.format(asin=asin)),
    )
    return out


def buy_list_props(rows: Iterable[Mapping[str, Any]]) -> dict[str, Any]:
    shown = [buy_list_row(r) for r in rows if r.get("asin")][:MAX_ROWS]
    return {"rows": shown, "count": len(shown)}


def buy_list_element(rows: Iterable[Mapping[str, Any]]) -> cl.CustomElement:
    """The BuyList custom element (chat_ui/public/elements/BuyList.jsx)."""
    return cl.CustomElement(name="BuyList", props=buy_list_props(rows), display="inline")


def purchase_form_element(
    asin: str, title: str | None, condition: str | None, today: date
) -> cl.CustomElement:
    """The PurchaseForm custom element (chat_ui/public/elements/PurchaseForm.jsx)."""
    known = {c for c, _ in CONDITIONS}
    props = {
        "asin": asin,
        "title": title,
        "condition": condition if condition in known else "used_very_good",
        "today": today.isoformat(),
        "conditions": [{"value": v, "label": label} for v, label in CONDITIONS],
    }
    return cl.CustomElement(name="PurchaseForm", props=props, display="inline")


def csv_file(text: str, filename: str = "purchases.csv") -> cl.File:
    """The CSV as a download carried in the element itself (a data URL): it opens from any
    chat worker, and the history keeps it (chat_ui/data_layer.py)."""
    url = "data:text/csv;base64," + base64.b64encode(text.encode()).decode()
    return cl.File(name=filename, url=url, mime="text/csv", display="inline")


def _layout(title: str, x: str, y: str, **extra: Any) -> dict[str, Any]:
    return {
        "autosize": True,
        "title": {"text": title},
        "xaxis": {"title": {"text": x}},
        "yaxis": {"title": {"text": y}},
        "margin": {"l": 60, "r": 20, "t": 40, "b": 50},
        "height": 340,
        **extra,
    }


def profit_figure(by_month: Iterable[Mapping[str, Any]]) -> dict[str, Any]:
    """Realized profit by month (bars, red below zero) with units sold on a second axis."""
    months = [m for m in by_month if m.get("month")]
    profit = [float(m.get("profit") or 0) for m in months]
    return {
        "data": [
            {
                "type": "bar",
                "x": [m["month"] for m in months],
                "y": profit,
                "name": "Realized profit",
                "marker": {"color": ["#16a34a" if p >= 0 else "#dc2626" for p in profit]},
                "hovertemplate": "%{x}: $%{y:,.2f}<extra></extra>",
            },
            {
                "type": "scatter",
                "mode": "lines+markers",
                "x": [m["month"] for m in months],
                "y": [int(m.get("units") or 0) for m in months],
                "name": "Units sold",
                "yaxis": "y2",
                "line": {"color": "#94a3b8"},
            },
        ],
        "layout": _layout(
            "Realized profit by month",
            "Month",
            "Profit ($)",
            yaxis2={"title": {"text": "Units"}, "overlaying": "y", "side": "right"},
            legend={"orientation": "h", "y": -0.25},
        ),
    }


def days_figure(histogram: Iterable[Mapping[str, Any]], average: Any) -> dict[str, Any]:
    """How many purchases took how long to sell (their average days a unit)."""
    buckets = list(histogram)
    title = "Days to sell" + (f" (average {average} days)" if average is not None else "")
    return {
        "data": [
            {
                "type": "bar",
                "x": [f"{b.get('bucket')} days" for b in buckets],
                "y": [int(b.get("purchases") or 0) for b in buckets],
                "marker": {"color": "#2563eb"},
                "name": "Purchases",
            }
        ],
        "layout": _layout(title, "Days from purchase to sale", "Purchases"),
    }


def calibration_figure(points: Iterable[Mapping[str, Any]]) -> dict[str, Any]:
    """Predicted vs realized profit per unit, one point per purchase, the diagonal = exact."""
    pts = [p for p in points if p.get("predicted") is not None]
    values = [float(p["predicted"]) for p in pts] + [float(p["realized"]) for p in pts]
    lo, hi = (min(values), max(values)) if values else (0.0, 1.0)
    return {
        "data": [
            {
                "type": "scatter",
                "mode": "markers",
                "x": [p["predicted"] for p in pts],
                "y": [p["realized"] for p in pts],
                "text": [
                    f"#{p.get('id')} {str(p.get('title') or p.get('asin'))[:40]}" for p in pts
                ],
                "name": "Purchases",
                "marker": {"color": "#2563eb", "size": 9},
                "hovertemplate": (
                    "%{text}<br>predicted $%{x:.2f}, realized $%{y:.2f}<extra></extra>"
                ),
            },
            {
                "type": "scatter",
                "mode": "lines",
                "x": [lo, hi],
                "y": [lo, hi],
                "name": "As predicted",
                "line": {"color": "#94a3b8", "dash": "dash"},
            },
        ],
        "layout": _layout(
            "Profit per unit: predicted at purchase vs realized",
            "Predicted ($)",
            "Realized ($)",
        ),
    }


def _chart(name: str, figure: dict[str, Any]) -> PlotlyFigure:
    return PlotlyFigure(name=name, figure=figure, display="inline")


def elements_for(name: str, artifact: Any) -> list[Any]:
    """The seller's-loop tools' elements: the buy list table, the CSV download, the charts of
    realized profit by month, of days to sell and of predicted vs realized profit."""
    if not isinstance(artifact, Mapping):
        return []
    profit = artifact.get("profit")
    if name == "profit_report" and isinstance(profit, Mapping) and profit.get("by_month"):
        return [_chart("profit-by-month", profit_figure(profit["by_month"]))]
    days = artifact.get("days")
    if name == "days_to_sell" and isinstance(days, Mapping) and days.get("units"):
        return [_chart("days-to-sell", days_figure(days["histogram"], days.get("average_days")))]
    if name == "prediction_calibration" and artifact.get("points"):
        return [_chart("predicted-vs-realized", calibration_figure(artifact["points"]))]
    if name in BUY_LIST_TOOLS and isinstance(artifact.get("buy_list"), list):
        rows = [r for r in artifact["buy_list"] if isinstance(r, Mapping)]
        return [buy_list_element(rows)] if rows else []
    if name == "export_purchases" and isinstance(artifact.get("csv"), str) and artifact.get("rows"):
        return [csv_file(artifact["csv"], str(artifact.get("filename") or "purchases.csv"))]
    return []


def _action(name: str, label: str, payload: dict[str, Any], icon: str | None = None) -> cl.Action:
    return cl.Action(name=name, label=label, payload=payload, icon=icon)


def _deal_asin(name: str, artifact: Mapping[str, Any]) -> str | None:
    detail = artifact.get("detail") if name == "deal_advice" else artifact
    if isinstance(detail, Mapping) and detail.get("asin"):
        return str(detail["asin"])
    return None


def actions_for(name: str, artifact: Any) -> list[cl.Action]:
    """Buttons under an answer: a verdict gets "Add to buy list" and "I bought it", the
    purchases get export and import, a buy list with gone deals gets "Clear gone"."""
    if not isinstance(artifact, Mapping):
        return []
    if name in DEAL_TOOLS and (asin := _deal_asin(name, artifact)):
        return [
            _action("buy_list_add", "Add to buy list", {"asin": asin}, "list-plus"),
            _action("purchase_form", "I bought it", {"asin": asin}, "shopping-cart"),
        ]
    if name in PURCHASE_TOOLS or name == "export_purchases":
        return [
            _action("purchases_export", "Export CSV", {}, "download"),
            _action("purchases_import", "Import costs (CSV)", {}, "upload"),
        ]
    if name in BUY_LIST_TOOLS:
        rows = artifact.get("buy_list") or []
        if any(isinstance(r, Mapping) and r.get("state") == "gone" for r in rows):
            return [_action("buy_list_clear_gone", "Clear the gone ones", {}, "trash-2")]
    return []


def step_summary(name: str, result: Any) -> str | None:
    """The one line a seller's-loop tool step shows (None: not one of them)."""
    if not isinstance(result, Mapping):
        return None
    if name == "profit_report":
        return (
            f"realized profit ${float(result.get('profit') or 0):,.2f} on "
            f"{result.get('units_sold', 0)} units"
        )
    if name == "sales_report":
        return f"{result.get('count', 0)} sales, {result.get('units', 0)} units"
    if name == "buy_list_show":
        return f"{result.get('count', 0)} deals on the buy list"
    if name == "list_purchases":
        return f"{result.get('count', 0)} purchases"
    if name == "losing_purchases":
        return (
            f"{len(result.get('losing') or [])} losing, {len(result.get('aging') or [])} "
            "unsold too long"
        )
    if name == "days_to_sell":
        return f"average {result.get('average_days')} days over {result.get('units', 0)} units"
    if name == "inventory_report":
        return (
            f"{result.get('skus', 0)} SKUs: {result.get('fulfillable', 0)} fulfillable, "
            f"{result.get('inbound', 0)} inbound"
        )
    if name == "prediction_calibration":
        return f"{result.get('purchases', 0)} sold purchases compared"
    if name in ("record_purchase", "edit_purchase") and result.get("id"):
        return f"purchase #{result['id']}: {result.get('quantity')} × {result.get('asin')}"
    return None
