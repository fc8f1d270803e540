"""The best pick of a page of deals: the row a seller should look at first, and why.

A pick must be a deal the seller can list (gating checked and not restricted for them) and a
book that sells; among those, the score is the profit the seller can expect per month:

    score = Profit × sales a month (at most 4) × Deal Trust

"Sales a month" is the best of rank drops in 30 days, 90 days / 3 and 365 days / 12 (so a
seasonal textbook is judged on its year, not its quiet month), capped at 4 because one copy
sells once: beyond a sale a week, speed no longer changes what one purchase earns. Deal Trust
(inferred sales / offer-count drops) discounts prices that come from few real sales; without
it the score counts half. A row is never picked when it is gated or not checked yet, when it
sells less than once in two months, when its Deal Trust is under 50 %, or when it has no
profit. Pure arithmetic over result rows, no SQL.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from tools.rounding import dollars, whole

MAX_SALES_A_MONTH = 4.0
MIN_SALES_A_MONTH = 0.5
MIN_TRUST = 50.0
UNKNOWN_TRUST = 0.5
SCORE_RULE = "profit × sales a month (at most 4) × Deal Trust"


def _num(row: Mapping[str, Any], key: str) -> float | None:
    v = row.get(key)
    return float(v) if isinstance(v, int | float) and not isinstance(v, bool) else None


def sales_a_month(row: Mapping[str, Any]) -> float:
    """How often the book sells: the best of the 30, 90 and 365-day rank drops per month."""
    rates = [
        (_num(row, "rank_drops_30"), 1.0),
        (_num(row, "rank_drops_90"), 3.0),
        (_num(row, "rank_drops_365"), 12.0),
    ]
    return max((n / months for n, months in rates if n is not None), default=0.0)


def why_not(row: Mapping[str, Any]) -> str | None:
    """Why a row cannot be the pick (None: it can): the first rule it fails."""
    gated = row.get("gated")
    if gated == "restricted":
        return "gated"
    if gated != "not_restricted":
        return "gating not checked"
    profit = _num(row, "profit")
    if profit is None or profit <= 0 or row.get("list_at") is None:
        return "no profit"
    if sales_a_month(row) < MIN_SALES_A_MONTH:
        return "barely sells"
    trust = _num(row, "deal_trust")
    if trust is not None and trust < MIN_TRUST:
        return "low Deal Trust"
    return None


def score(row: Mapping[str, Any]) -> float:
    """The pick score of an eligible row (see the module docstring)."""
    trust = _num(row, "deal_trust")
    weight = UNKNOWN_TRUST if trust is None else trust / 100.0
    return (_num(row, "profit") or 0.0) * min(sales_a_month(row), MAX_SALES_A_MONTH) * weight


@dataclass
class Pick:
    """The best row (None when no row qualifies), its score, the runner-up, and how many rows
    were left out for each reason."""

    asin: str | None
    score: float | None = None
    why: str = ""
    runner_up: tuple[str, float] | None = None
    skipped: dict[str, int] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"asin": self.asin, "why": self.why, "rule": SCORE_RULE}
        if self.score is not None:
            out["score"] = round(self.score, 2)
        if self.runner_up is not None:
            out["runner_up"] = {"asin": self.runner_up[0], "score": round(self.runner_up[1], 2)}
        if self.skipped:
            out["skipped"] = dict(self.skipped)
        return out


def _money(v: float | None) -> str:
    return "n/a" if v is None else dollars(v)


def _reason(row: Mapping[str, Any]) -> str:
    """The pick's reasons in a seller's words: can list, sells, trust, money."""
    per_month = sales_a_month(row)
    rank = row.get("sales_rank")
    rank_text = f"rank {rank:,}" if isinstance(rank, int) else "rank n/a"
    sells = "sells about every other month"
    if per_month >= 1:
        sells = f"sells about {per_month:.0f} a month"
    trust = _num(row, "deal_trust")
    trust_text = f"Deal Trust {whole(trust)} %" if trust is not None else "Deal Trust unknown"
    roi = _num(row, "roi")
    at_roi = f" at {whole(roi)} % ROI" if roi is not None else ""  # as the table rounds it
    return (
        f"you can list it, it {sells} ({rank_text}), {trust_text}, "
        f"{_money(_num(row, 'profit'))} profit{at_roi}"
    )


def best_pick(rows: Sequence[Mapping[str, Any]]) -> Pick:
    """The best row of a page by the stated score, with its reasons; the reasons the other
    rows were left out are counted, so "no pick" can say why."""
    skipped: dict[str, int] = {}
    ranked: list[tuple[float, int, Mapping[str, Any]]] = []
    for i, row in enumerate(rows):
        reason = why_not(row)
        if reason is not None:
            skipped[reason] = skipped.get(reason, 0) + 1
            continue
        ranked.append((score(row), -i, row))
    if not ranked:
        return Pick(None, skipped=skipped, why=no_pick_text(skipped, len(rows)))
    ranked.sort(key=lambda t: (t[0], t[1]), reverse=True)
    top_score, _, top = ranked[0]
    runner = (str(ranked[1][2].get("asin")), ranked[1][0]) if len(ranked) > 1 else None
    return Pick(str(top.get("asin")), top_score, _reason(top), runner, skipped)


def no_pick_text(skipped: Mapping[str, int], total: int) -> str:
    """Why no row of the page qualifies, by rule ("3 not checked for gating, 2 barely sell")."""
    if total == 0:
        return "there are no rows to pick from"
    words = {
        "gated": "gated for you",
        "gating not checked": "not checked for gating yet",
        "no profit": "without profit",
        "barely sells": "selling less than once in two months",
        "low Deal Trust": "with Deal Trust under 50 %",
    }
    parts = [f"{n} {words.get(k, k)}" for k, n in skipped.items() if n]
    return f"none of these {total} qualifies: " + ", ".join(parts)
