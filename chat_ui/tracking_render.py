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

from chat_ui.render import AMAZON_URL, https_url

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


def elements_for(name: str, artifact: Any) -> list[Any]:
    """The seller's-loop tools' elements: the buy list table, the CSV download."""
    if not isinstance(artifact, Mapping):
        return []
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
