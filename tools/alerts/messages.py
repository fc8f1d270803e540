"""The words of an alert or daily-picks message, the same on every channel."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

WHY = {"new": "new", "back": "back", "better": "better now"}
MAX_TITLE = 70


def _money(x: float | None) -> str:
    return "n/a" if x is None else f"${x:,.2f}"


def _title(title: str | None) -> str:
    title = " ".join((title or "(no title)").split())
    return title if len(title) <= MAX_TITLE else title[: MAX_TITLE - 1].rstrip() + "…"


def deal_line(d: dict[str, Any]) -> str:
    roi = "n/a" if d.get("roi") is None else f"{d['roi']:.0f}%"
    why = WHY.get(str(d.get("why")), "")
    tail = f" · {why}" if why else ""
    reason = f" — {d['reason']}" if d.get("reason") else ""
    return (
        f"{_title(d.get('title'))} ({d['asin']}): {_money(d.get('price'))}, "
        f"profit {_money(d.get('profit'))}, ROI {roi}{tail}{reason}"
    )


def render(kind: str, payload: dict[str, Any]) -> tuple[str, str]:
    """(subject, text) of one message."""
    deals: Sequence[dict[str, Any]] = payload.get("deals", [])
    if kind == "picks":
        subject = f"Ava's picks for {payload.get('date', 'today')}: {len(deals)} deals"
    elif kind == "notice":
        return str(payload.get("subject", "Agent Arbitrage")), str(payload.get("text", ""))
    else:
        n = int(payload.get("matched", len(deals)))
        subject = f"{n} new match{'es' if n != 1 else ''} for \u201c{payload.get('search')}\u201d"
    lines = [subject] + [f"• {deal_line(d)}" for d in deals]
    more = int(payload.get("matched", len(deals))) - len(deals)
    if more > 0:
        lines.append(f"… and {more} more in the app")
    return subject, "\n".join(lines)


def render_digest(items: Sequence[tuple[str, dict[str, Any]]]) -> tuple[str, str]:
    """Several messages gathered into one (a seller's hourly or daily digest)."""
    parts = [render(kind, payload) for kind, payload in items]
    subject = f"Agent Arbitrage digest: {len(parts)} update{'s' if len(parts) != 1 else ''}"
    return subject, "\n\n".join(text for _, text in parts)
