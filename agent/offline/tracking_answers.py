"""The offline model's answers to the seller's-loop tools (buy list, purchases), in words.

Templates only, from the tools' compact JSON; each persona adds one line in its own voice
where a purchase is judged (Olyvia on the break-even, Joel on the turn, Errol on the numbers).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
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
    }
    writer = writers.get(name)
    return writer() if writer else None
