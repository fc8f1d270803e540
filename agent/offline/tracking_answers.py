"""The offline model's answers to the seller's-loop tools (buy list, purchases), in words.

Templates only, from the tools' compact JSON; each persona adds one line in its own voice
where a purchase is judged (Olyvia on the break-even, Joel on the turn, Errol on the numbers).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from datetime import date, timedelta
from typing import Any

from agent.wording import money, pct, shorten

STATE_WORDS = {
    "ok": "as good as when added",
    "better": "better than when added",
    "worse": "worse since added",
    "gone": "gone",
    "unknown": "not analysed yet",
}
IMPORT_HINT = (
    "To import costs from your spreadsheet, click **Import costs (CSV)** under this answer "
    "(or run `arbitrage purchases import FILE --user NAME`): each row updates a purchase "
    "found by id, SKU, or order number + ASIN, or adds one with asin, quantity and cost."
)


def _title(d: Mapping[str, Any]) -> str:
    t = str(d.get("title") or "").strip()
    return f"{shorten(t, 60)} ({d.get('asin')})" if t else str(d.get("asin"))


def _days(v: Any) -> str:
    return "n/a" if v is None else f"{float(v):.0f} days"


def buy_list_row(d: Mapping[str, Any]) -> str:
    state = str(d.get("state") or "ok")
    why = f": {d['why']}" if d.get("why") else ""
    gated = " · gated for you" if d.get("gated") == "restricted" else ""
    return (
        f"- {_title(d)}: price {money(d.get('price_now'))}, profit {money(d.get('profit'))}, "
        f"ROI {pct(d.get('roi'))}{gated} · **{STATE_WORDS.get(state, state)}**{why}"
    )


def buy_list_text(data: Mapping[str, Any], *, table: bool) -> str:
    items: Sequence[Mapping[str, Any]] = data.get("items") or []
    count = int(data.get("count") or 0)
    if not count:
        return (
            'Your buy list is empty. Add a deal with "add 0131103628 to my buy list" or the '
            "**Add to buy list** button under a deal."
        )
    states = data.get("states") or {}
    flags = [f"{n} {STATE_WORDS.get(s, s)}" for s, n in states.items() if s != "ok"]
    head = f"Your buy list has {count} deal{'s' if count != 1 else ''}" + (
        f" ({', '.join(flags)})." if flags else ", all as good as when you added them."
    )
    if table:
        return head + " They are in the table below."
    lines = [head, *(buy_list_row(d) for d in items)]
    if states.get("gone"):
        lines.append('Say "clear the ones that are gone" to remove the gone ones.')
    return "\n".join(lines)


def added_text(data: Mapping[str, Any]) -> str:
    item = data.get("item") or {}
    if not data.get("added"):
        return f"{_title(item)} is already on your buy list ({buy_list_row(item)[2:]})."
    if item.get("state") == "unknown":
        return (
            f"Added {item.get('asin')} to your buy list. It is not in the deals database yet, so "
            "I can't show its numbers; the list will once the workers analyse it."
        )
    return (
        f"Added {_title(item)} to your buy list at price {money(item.get('price_now'))}, "
        f"profit {money(item.get('profit'))} (ROI {pct(item.get('roi'))}). I'll flag it if "
        "it gets worse."
    )


def removed_text(data: Mapping[str, Any]) -> str:
    removed, missing = data.get("removed") or [], data.get("not_on_list") or []
    parts = []
    if removed:
        parts.append(f"Removed {', '.join(removed)} from your buy list")
    if missing:
        parts.append(f"{', '.join(missing)} {'was' if len(missing) == 1 else 'were'} not on it")
    return "; ".join(parts) + f". {data.get('left', 0)} left."


def cleared_text(data: Mapping[str, Any]) -> str:
    cleared = data.get("cleared") or []
    if not cleared:
        return f"Nothing to clear: none of your {data.get('left', 0)} buy list deals is gone."
    lines = [f"Cleared {len(cleared)} gone deal{'s' if len(cleared) != 1 else ''}:"]
    lines += [f"- {_title(c)}: {c.get('why')}" for c in cleared[:20]]
    lines.append(f"{data.get('left', 0)} left on your buy list.")
    return "\n".join(lines)


def _persona_line(key: str, p: Mapping[str, Any]) -> str | None:
    profit, be = p.get("profit_pred"), p.get("break_even_price")
    if key == "olyvia" and be is not None:
        return (
            f"Olyvia: never list under {money(be)}: below that every sale loses money after "
            "fees, prep and inbound."
        )
    if key == "joel" and p.get("days_to_sell_pred") is not None:
        return f"Joel: about {_days(p.get('days_to_sell_pred'))} a copy. Get them shipped in!"
    if key == "errol" and profit is not None and p.get("unit_all_in"):
        return (
            f"Errol: predicted ROI {pct(float(profit) / float(p['unit_all_in']) * 100)} per "
            "unit; I'll compare it with the realized figure as they sell."
        )
    return None


def purchase_text(key: str, p: Mapping[str, Any], verb: str = "Recorded") -> str:
    q = int(p.get("quantity") or 0)
    cond = str(p.get("condition") or "").replace("_", " ")
    extra = [
        f"SKU {p['sku']}" if p.get("sku") else "",
        f"order {p['order_number']}" if p.get("order_number") else "",
    ]
    lines = [
        f"{verb} purchase #{p.get('id')}: {q} × {_title(p)} at {money(p.get('unit_cost'))} "
        f"each ({cond}, {str(p.get('purchased_at') or '')[:10]}"
        + "".join(f", {e}" for e in extra if e)
        + f"); all-in {money(p.get('unit_all_in'))} a unit with tax, prep and inbound.",
    ]
    if p.get("list_at_pred") is None:
        lines.append(
            "It is not in the deals database, so I have no List at or minimum price for it."
        )
    else:
        lines.append(
            f"List at {money(p.get('list_at_pred'))} (today's recommendation); minimum list "
            f"price {money(p.get('min_list_price'))} (break-even {money(p.get('break_even_price'))}"
            f" plus your markup); Amazon fees {money(p.get('amz_fees_pred'))}; predicted "
            f"profit {money(p.get('profit_pred'))} a unit"
            + (
                f", about {_days(p.get('days_to_sell_pred'))} to sell."
                if p.get("days_to_sell_pred") is not None
                else "."
            )
        )
    line = _persona_line(key, p)
    if line:
        lines.append(line)
    return "\n\n".join(lines)


def purchases_text(data: Mapping[str, Any], question: str, *, wants_import: bool) -> str:
    rows: Sequence[Mapping[str, Any]] = data.get("purchases") or []
    if not rows:
        text = (
            'You have no purchases recorded. Tell me like "I bought 3 of 0131103628 at $12.40, '
            'used good, order 112-1234567-1234567".'
        )
        return text + ("\n\n" + IMPORT_HINT if wants_import else "")
    lines = [f"Your {len(rows)} most recent purchase{'s' if len(rows) != 1 else ''}:"]
    for p in rows:
        sold = int(p.get("units_sold") or 0)
        realized = (
            f"; sold {sold}, realized {money(p.get('realized_profit'))}" if sold else "; none sold"
        )
        lines.append(
            f"- #{p.get('id')} {str(p.get('purchased_at') or '')[:10]}: {p.get('quantity')} × "
            f"{_title(p)} at {money(p.get('unit_cost'))}, min list "
            f"{money(p.get('min_list_price'))}, predicted {money(p.get('profit_pred'))}/unit"
            f"{realized}"
        )
    if wants_import:
        lines.append(IMPORT_HINT)
    return "\n".join(lines)


def export_text(data: Mapping[str, Any]) -> str:
    n = int(data.get("rows") or 0)
    if not n:
        return "You have no purchases to export yet."
    return (
        f"Here are your {n} purchase{'s' if n != 1 else ''} as {data.get('file')} (the file is "
        "attached in the chat; `arbitrage purchases export --user NAME` writes it too). Edit "
        "the unit_cost column and import it back to correct costs."
    )


def _when(data: Mapping[str, Any]) -> str:
    start, end = data.get("start"), data.get("end")
    if not start and not end:
        return "so far"
    first = str(start or "")[:10]
    last = (date.fromisoformat(str(end)[:10]) - timedelta(days=1)).isoformat() if end else "today"
    return f"on {first}" if first == last else f"from {first or 'the start'} to {last}"


def profit_text(key: str, d: Mapping[str, Any], *, chart: bool) -> str:
    units = int(d.get("units_sold") or 0)
    unmatched = int(d.get("unmatched_units") or 0)
    if not units and not unmatched and not d.get("units_returned"):
        return (
            f"No sales {_when(d)} yet. Sales arrive from Amazon with the seller sync "
            "(connect your seller account); they are matched to the purchases you recorded."
        )
    lines = [
        f"You made **{money(d.get('profit'))}** realized profit {_when(d)}: {units} unit"
        f"{'s' if units != 1 else ''} sold for {money(d.get('sales'))}, Amazon fees "
        f"{money(abs(float(d.get('fees') or 0)))}, cost of the units "
        f"{money(d.get('cost'))} (price, tax, prep and inbound)."
    ]
    if unmatched:
        lines.append(
            f"Another {unmatched} unit{'s' if unmatched != 1 else ''} brought "
            f"{money(d.get('unmatched_proceeds'))} but no purchase is on record for "
            f"{'them' if unmatched != 1 else 'it'}: record the purchase (or import your costs) "
            "to count its profit."
        )
    if d.get("units_returned"):
        lines.append(f"{d['units_returned']} unit(s) came back as returns (counted above).")
    months = d.get("by_month") or []
    if months and chart:
        lines.append("Profit by month is in the chart below.")
    elif months:
        lines.append(
            "By month: " + ", ".join(f"{m['month']} {money(m['profit'])}" for m in months[-6:])
        )
    return "\n\n".join(lines)


def sales_text(d: Mapping[str, Any]) -> str:
    items: Sequence[Mapping[str, Any]] = d.get("items") or []
    if not items:
        return f"Nothing sold {_when(d)}."
    lines = [
        f"{d.get('count')} sale{'s' if d.get('count') != 1 else ''} {_when(d)} "
        f"({d.get('units')} units, {money(d.get('profit'))} realized profit on the ones with a "
        "purchase on record):"
    ]
    for it in items[:20]:
        what = "returned" if it.get("kind") == "refund" else "sold"
        profit = (
            f"profit {money(it.get('profit'))}"
            if it.get("profit") is not None
            else "no purchase on record"
        )
        days = f", {it['days_to_sell']:.0f} days after purchase" if it.get("days_to_sell") else ""
        lines.append(
            f"- {str(it.get('at'))[:10]} {what} {abs(int(it.get('quantity') or 0))} × "
            f"{_title(it)} for {money(abs(float(it.get('sale_price') or 0)))}: {profit}{days}"
        )
    return "\n".join(lines)


def losing_text(key: str, d: Mapping[str, Any]) -> str:
    losing: Sequence[Mapping[str, Any]] = d.get("losing") or []
    aging: Sequence[Mapping[str, Any]] = d.get("aging") or []
    if not losing and not aging:
        return "None of your purchases is losing money, and none is sitting unsold too long."
    lines = []
    if losing:
        lines.append(f"{len(losing)} purchase{'s' if len(losing) != 1 else ''} lost money:")
        for p in losing:
            lines.append(
                f"- #{p.get('id')} {_title(p)}: {p.get('units_sold')} sold, realized "
                f"{money(p.get('realized_profit'))} ({money(p.get('realized_per_unit'))} a unit "
                f"vs {money(p.get('predicted_per_unit'))} predicted)"
            )
    if aging:
        lines.append(
            f"{len(aging)} purchase{'s' if len(aging) != 1 else ''} still unsold at twice the "
            "predicted time (money tied up; consider a lower price):"
        )
        for p in aging:
            lines.append(
                f"- #{p.get('id')} {_title(p)}: {p.get('quantity', 0) - p.get('units_sold', 0)} "
                f"left after {_days(p.get('days_held'))} (predicted "
                f"{_days(p.get('days_to_sell_pred'))})"
            )
    if key == "olyvia":
        lines.append("Olyvia: cut the losers' prices to break-even and stop buying their kind.")
    return "\n".join(lines)


def days_text(key: str, d: Mapping[str, Any], *, chart: bool) -> str:
    kind = f"your {d['kind']}" if d.get("kind") else "your purchases"
    if not d.get("units"):
        return f"None of {kind} has sold yet, so there is no days-to-sell figure."
    text = (
        f"{kind[0].upper()}{kind[1:]} took **{d.get('average_days')} days** to sell on average "
        f"per unit (median {d.get('median_days')} days over {d.get('purchases')} purchases, "
        f"{d.get('units')} units)"
    )
    if d.get("predicted_average_days") is not None:
        text += f"; I predicted {d['predicted_average_days']} days at purchase"
    text += "."
    if chart:
        text += " The histogram is below."
    if key == "joel":
        text += " Joel: anything past 60 days is dead money. Reprice it!"
    return text


def inventory_text(d: Mapping[str, Any]) -> str:
    items: Sequence[Mapping[str, Any]] = d.get("items") or []
    if d.get("stuck_only"):
        if not items:
            return (
                f"Nothing is stuck inbound: every inbound unit was bought less than "
                f"{d.get('stuck_after_days')} days ago."
            )
        lines = [
            f"{len(items)} SKU{'s' if len(items) != 1 else ''} still inbound more than "
            f"{d.get('stuck_after_days')} days after purchase (check the shipment in Seller "
            "Central):"
        ]
        for it in items:
            lines.append(
                f"- {it.get('sku')} {_title(it)}: {it.get('inbound')} inbound, bought "
                f"{_days(it.get('days_since_bought'))} ago"
            )
        return "\n".join(lines)
    if not d.get("skus"):
        return (
            "I have no FBA inventory for you yet: it comes from the seller sync once your "
            "Amazon seller account is connected."
        )
    lines = [
        f"At Amazon ({d.get('skus')} SKUs, synced {str(d.get('synced_at') or '')[:16]}): "
        f"{d.get('fulfillable')} fulfillable, {d.get('inbound')} inbound "
        f"({d.get('inbound_working')} working, {d.get('inbound_shipped')} shipped, "
        f"{d.get('inbound_receiving')} receiving), {d.get('reserved')} reserved, "
        f"{d.get('unfulfillable')} unfulfillable."
    ]
    for it in items[:10]:
        cost = f", bought at {money(it.get('unit_cost'))}" if it.get("unit_cost") else ""
        lines.append(
            f"- {it.get('sku')} {_title(it)}: {it.get('fulfillable')} fulfillable, "
            f"{it.get('inbound')} inbound{cost}"
        )
    return "\n".join(lines)


def _ci(i: Mapping[str, Any], fmt: Callable[[float], str]) -> str:
    if i.get("mean") is None:
        return "n/a"
    if i.get("low") is None:
        return f"{fmt(i['mean'])} (one purchase: no interval)"
    return f"{fmt(i['mean'])} (95 % CI {fmt(i['low'])} to {fmt(i['high'])}, n={i['n']})"


def calibration_text(key: str, d: Mapping[str, Any], *, chart: bool) -> str:
    if not d.get("purchases"):
        return (
            "No purchase of yours has sold yet, so I can't compare my predictions with what "
            "happened."
        )
    diff = d.get("profit_difference_per_unit") or {}
    ratio = d.get("profit_ratio") or {}
    days = d.get("days_ratio") or {}
    kind = f" ({d['seasonality']})" if d.get("seasonality") else ""
    lines = [
        f"**Calibration of my predictions at purchase{kind}**, {d['purchases']} purchases "
        "that sold:",
        f"- Profit per unit, realized minus predicted: {_ci(diff, lambda v: f'${v:+,.2f}')}",
        f"- Profit, realized / predicted: {_ci(ratio, lambda v: f'{v * 100:.0f} %')}",
        f"- Days to sell, realized / predicted: {_ci(days, lambda v: f'{v:.2f}×')}",
    ]
    verdict = "on target"
    if ratio.get("high") is not None and ratio["high"] < 1:
        verdict = "too optimistic on profit"
    elif ratio.get("low") is not None and ratio["low"] > 1:
        verdict = "too cautious on profit"
    if key == "errol":
        lines.append(
            f"- Recommendation: my profit predictions look {verdict}; "
            + (
                "discount them accordingly before you buy."
                if verdict != "on target"
                else "keep using them, with the interval in mind."
            )
        )
    else:
        lines.append(f"In short: my profit predictions look {verdict} for you.")
    if chart:
        lines.append("Each purchase's predicted vs realized profit is in the chart below.")
    return "\n".join(lines)


def record_line(record: Mapping[str, Any] | None) -> str | None:
    """The seller's own track record in words, for a mentor's verdict."""
    from agent.advice import record_sentence

    return record_sentence(record)


def answer(key: str, name: str, data: Any, question: str, *, table: bool) -> str | None:
    """The answer for one seller's-loop tool result, or None when `name` is not one."""
    from agent.offline.tracking_intents import is_import_request

    writers: dict[str, Callable[[], str]] = {
        "buy_list_add": lambda: added_text(data),
        "buy_list_show": lambda: buy_list_text(data, table=table),
        "buy_list_remove": lambda: removed_text(data),
        "buy_list_clear_gone": lambda: cleared_text(data),
        "record_purchase": lambda: purchase_text(key, data),
        "edit_purchase": lambda: purchase_text(key, data, "Updated"),
        "delete_purchase": lambda: (
            f"Deleted purchase #{data.get('deleted')} ({data.get('quantity')} × "
            f"{data.get('asin')})."
        ),
        "list_purchases": lambda: purchases_text(
            data, question, wants_import=is_import_request(question)
        ),
        "export_purchases": lambda: export_text(data),
        "profit_report": lambda: profit_text(key, data, chart=table),
        "sales_report": lambda: sales_text(data),
        "losing_purchases": lambda: losing_text(key, data),
        "days_to_sell": lambda: days_text(key, data, chart=table),
        "inventory_report": lambda: inventory_text(data),
        "prediction_calibration": lambda: calibration_text(key, data, chart=table),
    }
    writer = writers.get(name)
    return writer() if writer else None
