"""Turning tool results into what a seller sees: a deal table and a price / rank chart.

Pure functions from the compact JSON the agent's tools return to Chainlit elements; no database
access here. Keys are read leniently (`profit` or `profit_default`, ...) because a tool result
may be trimmed for the model, and a missing value shows as a dash, never as a wrong number.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from typing import Any, ClassVar
from urllib.parse import quote, urlsplit

import chainlit as cl
from chainlit.element import Element, ElementSize, ElementType
from pydantic import Field
from pydantic.dataclasses import dataclass

from agent.wording import money, pct, shorten

AMAZON_URL = "https://www.amazon.com/dp/{asin}"
KEEPA_URL = "https://keepa.com/#!product/1-{asin}"
MAX_TABLE_ROWS = 100


def _first(d: Mapping[str, Any], *keys: str) -> Any:
    for key in keys:
        value = d.get(key)
        if value is not None:
            return value
    return None


def gated_label(value: Any) -> str:
    """Stored restriction state (int status, reason code or bool) -> restricted/ok/error/unknown."""
    if value is None or value == "pending" or value == "unknown":
        return "unknown"
    if isinstance(value, bool):
        return "restricted" if value else "ok"
    if isinstance(value, int):
        return {1: "restricted", 0: "ok", -1: "error"}.get(value, "unknown")
    text = str(value).lower()
    if text in {"restricted", "gated", "approval_required", "not_eligible", "1", "true"}:
        return "restricted"
    if text in {"ok", "not_restricted", "ungated", "0", "false"}:
        return "ok"
    if text in {"error", "-1"}:
        return "error"
    return "unknown"


def https_url(value: Any) -> str | None:
    """`value` when it is an https:// link with a host, else None: the table's links are
    clicked by sellers, so a `javascript:` or `data:` URL in a row must never become one."""
    if not isinstance(value, str):
        return None
    parsed = urlsplit(value.strip())
    return value.strip() if parsed.scheme.lower() == "https" and parsed.hostname else None


def deal_row(deal: Mapping[str, Any]) -> dict[str, Any]:
    """One table row: the columns of the deal table, links included (https only)."""
    asin = str(deal.get("asin", ""))
    quoted = quote(asin, safe="")
    gated = deal.get("gated")
    if gated is None:
        gated = _first(deal, "restriction_status", "restricted", "gated_status")
    roi = _first(deal, "roi", "roi_default")
    profit = _first(deal, "profit", "profit_default")
    return {
        "asin": asin,
        "title": _first(deal, "title") or asin,
        "price_now": _first(deal, "price_now"),
        "list_at": _first(deal, "list_at"),
        "profit": profit,
        "roi": roi,
        # the numbers as the answer's prose writes them (agent/wording.py): one rounding
        "roi_text": "–" if roi is None else pct(roi).replace(" ", ""),
        "profit_text": "–" if profit is None else money(profit),
        "sales_rank": _first(deal, "sales_rank", "rank"),
        "drops": _first(deal, "rank_drops_90", "drops_90", "drops", "rank_drops_30"),
        "gated": gated_label(gated),
        "amazon_url": https_url(deal.get("amazon_url")) or AMAZON_URL.format(asin=quoted),
        "keepa_url": https_url(deal.get("keepa_url")) or KEEPA_URL.format(asin=quoted),
    }


def deal_table_props(deals: Iterable[Mapping[str, Any]]) -> dict[str, Any]:
    rows = [deal_row(d) for d in deals if d.get("asin")][:MAX_TABLE_ROWS]
    return {"rows": rows, "count": len(rows)}


def deal_table_element(deals: Iterable[Mapping[str, Any]]) -> cl.CustomElement:
    """The DealTable custom element (chat_ui/public/elements/DealTable.jsx)."""
    return cl.CustomElement(name="DealTable", props=deal_table_props(deals), display="inline")


def deal_table_markdown(deals: Iterable[Mapping[str, Any]], limit: int = 10) -> str:
    """Plain-text fallback of the table (CLI, clients without custom elements)."""

    def cash(v: Any) -> str:
        return "–" if v is None else money(float(v))

    lines = [
        "| Title | Price now | List at | Profit | ROI | Rank | Gated |",
        "|---|---:|---:|---:|---:|---:|---|",
    ]
    for d in list(deals)[:limit]:
        r = deal_row(d)
        rank = "–" if r["sales_rank"] is None else f"{int(r['sales_rank']):,}"
        title = shorten(r["title"], 60).replace("|", "/")
        lines.append(
            f"| [{title}]({r['amazon_url']}) | {cash(r['price_now'])} | "
            f"{cash(r['list_at'])} | {r['profit_text']} | {r['roi_text']} | {rank} | "
            f"{r['gated']} |"
        )
    return "\n".join(lines)


def _series(raw: Any) -> tuple[list[str], list[float]]:
    """{"t": [unix ms or s], "v": [...]} or [[t, v], ...] -> (ISO times, values), gaps dropped."""
    if not raw:
        return [], []
    pairs: Iterable[tuple[Any, Any]]
    if isinstance(raw, Mapping):
        pairs = zip(raw.get("t") or [], raw.get("v") or [], strict=False)
    else:
        pairs = ((p[0], p[1]) for p in raw if isinstance(p, list | tuple) and len(p) >= 2)
    times: list[str] = []
    values: list[float] = []
    for t, v in pairs:
        if t is None or v is None or v < 0:
            continue
        ts = float(t) / 1000 if float(t) > 10_000_000_000 else float(t)  # ms or s
        times.append(datetime.fromtimestamp(ts, tz=UTC).strftime("%Y-%m-%dT%H:%M:%SZ"))
        values.append(float(v))
    return times, values


def price_rank_figure(history: Mapping[str, Any], title: str = "") -> dict[str, Any]:
    """Used price (left axis), sales rank (right axis, better is up), inferred sales marked.

    A plain Plotly figure dict (what plotly.js renders): building `go.Figure` objects runs
    plotly's validators on every point, which costs more than the rest of a chat turn.
    """
    data: list[dict[str, Any]] = []
    pt, pv = _series(history.get("used_price"))
    rt, rv = _series(history.get("sales_rank"))
    if pt:
        data.append(
            {
                "type": "scatter",
                "x": pt,
                "y": pv,
                "name": "Used price",
                "mode": "lines",
                "line": {"shape": "hv", "color": "#2563eb"},
            }
        )
    if rt:
        data.append(
            {
                "type": "scatter",
                "x": rt,
                "y": rv,
                "name": "Sales rank",
                "mode": "lines",
                "yaxis": "y2",
                "line": {"shape": "hv", "color": "#94a3b8", "width": 1},
            }
        )
    sales = [s for s in (history.get("inferred_sales") or []) if isinstance(s, Mapping)]
    st, sv = _series({"t": [s.get("t") for s in sales], "v": [s.get("price") for s in sales]})
    if st:
        data.append(
            {
                "type": "scatter",
                "x": st,
                "y": sv,
                "name": "Inferred sale",
                "mode": "markers",
                "marker": {"symbol": "star", "size": 11, "color": "#16a34a"},
                "hovertemplate": "sold ~$%{y:.2f}<br>%{x|%b %d, %Y}<extra></extra>",
            }
        )
    layout: dict[str, Any] = {
        "autosize": True,
        "yaxis": {"title": {"text": "Used price ($)"}, "tickprefix": "$"},
        "yaxis2": {
            "title": {"text": "Sales rank"},
            "overlaying": "y",
            "side": "right",
            "autorange": "reversed",
            "showgrid": False,
        },
        "legend": {"orientation": "h", "y": -0.2},
        "margin": {"l": 50, "r": 60, "t": 40 if title else 10, "b": 40},
        "height": 380,
    }
    if title:
        layout["title"] = {"text": shorten(title, 80)}
    return {"data": data, "layout": layout}


@dataclass
class PlotlyFigure(Element):
    """Chainlit's plotly element from a figure dict (cl.Plotly insists on a go.Figure).

    The figure travels as a data URL: the browser reads it from the element itself instead of
    fetching a session file from the server (which, with several chat workers, may be another
    process), and the history keeps it in the element's row (chat_ui/data_layer.py).
    """

    type: ClassVar[ElementType] = "plotly"
    size: ElementSize = "large"
    figure: dict[str, Any] = Field(default_factory=dict)

    def __post_init__(self) -> None:
        raw = json.dumps(self.figure, separators=(",", ":")).encode()
        self.mime = "application/json"
        self.url = "data:application/json;base64," + base64.b64encode(raw).decode()
        super().__post_init__()


def price_rank_chart(history: Mapping[str, Any], title: str = "") -> PlotlyFigure | None:
    """The chart element, or None when there is no price or rank history to draw."""
    if not (history.get("used_price") or history.get("sales_rank")):
        return None
    return PlotlyFigure(
        name="price-rank", figure=price_rank_figure(history, title), display="inline"
    )
