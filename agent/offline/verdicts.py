"""The mentors' buy / pass / watch rules for one deal, for the offline model's answers.

With a real model a mentor argues its own case from the tools' numbers and its voice prompt
(agent/personas.py); offline nothing argues, so each mentor's voice prompt is written down as a
rule: Olyvia on margin and risk, Joel on velocity, Errol on confidence, Evelyn as Ava does
(Ava's rules, agent/advice.py, are the `deal_advice` tool's on both paths).

Each rule returns a `Call`: the verdict, which rule decided it and that rule's reason in the
deal's own numbers. The answer states that reason and no other as the cause (issue 17: a pass
decided by gating said "expected value is not positive ... ROI 235 %"). The rules run in order
and the first that decides wins; gating comes first for everyone: no margin, speed or
confidence makes a book sellable that the seller may not list.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from agent.advice import BUY_ROI, Verdict, ava_call, is_seasonal, num
from agent.wording import count, money, pct

CFO_MARGIN = 30.0
CFO_TRUST = 70.0
FLIP_DROPS = 4


@dataclass(frozen=True)
class Call:
    """A mentor's verdict, the rule that decided it, and that rule's reason."""

    verdict: Verdict
    # gated | no_value | loses_money | no_profit | thin_margin | amazon | low_trust | clears |
    # fast | slow | dead | low_confidence | below_line (Ava's: agent/advice.py ava_call)
    rule: str
    reason: str


def _gated(deal: Mapping[str, Any]) -> bool:
    return deal.get("gated") == "restricted"


def olyvia_call(deal: Mapping[str, Any]) -> Call:
    """The CFO: margin and risk first; 30 % margin or it is a pass."""
    margin, roi, profit = num(deal, "margin"), num(deal, "roi"), num(deal, "profit")
    if _gated(deal):
        return Call("pass", "gated", "we are not approved to sell it (gated for you)")
    if profit is None or margin is None:
        return Call("pass", "no_value", "no reliable sale price: I do not buy what I cannot value")
    if profit <= 0:
        return Call("pass", "loses_money", f"it loses money ({money(profit)})")
    if margin < CFO_MARGIN:
        return Call(
            "pass", "thin_margin", f"{pct(margin)} margin is too thin; we need {CFO_MARGIN:.0f} %"
        )
    if deal.get("amazon_offer"):
        return Call("watch", "amazon", "Amazon on the listing is a pricing risk I will not carry")
    trust = num(deal, "deal_trust")
    if trust is not None and trust < CFO_TRUST:
        return Call(
            "watch", "low_trust", f"Deal Trust {pct(trust)} is under my {CFO_TRUST:.0f} % floor"
        )
    return Call("buy", "clears", f"{pct(margin)} margin and {pct(roi)} ROI clear my bar")


def monthly_drops(deal: Mapping[str, Any]) -> tuple[float, str]:
    """Rank drops a month and how to say it: the last 30 days when Keepa has them, else a
    third of the 90 days ("about 3 a month (10 in 90 days)")."""
    d30, d90 = num(deal, "rank_drops_30"), num(deal, "rank_drops_90")
    if d30 is not None:
        said = f"{count(int(d30), 'drop')} in 30 days"
        if d90 is not None and d90 > 3 * d30:
            said += f" ({int(d90)} in 90)"
        return d30, said
    if d90 is not None:
        return d90 / 3, f"about {d90 / 3:.0f} a month ({count(int(d90), 'drop')} in 90 days)"
    return 0.0, "no rank drops on record"


def joel_call(deal: Mapping[str, Any]) -> Call:
    """The Flipper: velocity first; a fast seller with any real profit is a buy."""
    rate, said = monthly_drops(deal)
    profit = num(deal, "profit")
    if _gated(deal):
        return Call("pass", "gated", "it's gated for you: can't flip what you can't list")
    if profit is None or profit <= 0:
        return Call("pass", "no_profit", "no profit in it, and I don't flip for free")
    if rate >= FLIP_DROPS:
        return Call("buy", "fast", f"rank is dropping fast: {said}")
    if rate > 0:
        return Call("watch", "slow", f"only {said}; I want {FLIP_DROPS}+ a month to flip it fast")
    return Call("pass", "dead", f"it's not moving: {said}")


def errol_numbers(deal: Mapping[str, Any]) -> dict[str, Any]:
    """Velocity, price variance and confidence: the Quant's structured view."""
    d30, d90, d365 = (
        int(num(deal, k) or 0) for k in ("rank_drops_30", "rank_drops_90", "rank_drops_365")
    )
    list_at, trough = num(deal, "list_at"), num(deal, "expected_trough_price")
    avg = num(deal, "avg_1yr")
    prices = [v for v in (list_at, trough, avg) if v is not None]
    spread = None
    if list_at and len(prices) > 1:
        spread = (max(prices) - min(prices)) / list_at * 100
    sales = int(num(deal, "inferred_sales_count") or 0)
    trust = num(deal, "deal_trust")
    if sales >= 8 and (trust or 0) >= 70:
        confidence = "high"
    elif sales >= 3 and (trust is None or trust >= 50):
        confidence = "medium"
    else:
        confidence = "low"
    return {
        "drops_30": d30,
        "drops_90": d90,
        "drops_365": d365,
        "spread_pct": spread,
        "inferred_sales": sales,
        "deal_trust": trust,
        "confidence": confidence,
    }


def errol_call(deal: Mapping[str, Any]) -> Call:
    """The Quant: expected value, then the confidence in it, then the buy line."""
    n = errol_numbers(deal)
    roi, profit = num(deal, "roi"), num(deal, "profit")
    if _gated(deal):
        return Call(
            "pass", "gated", "gated for you: no sale is possible, so the expected value is zero"
        )
    if profit is None:
        return Call("watch", "no_value", "no sale price to estimate from: expected value unknown")
    if profit <= 0:
        return Call("pass", "loses_money", f"expected value is negative: profit {money(profit)}")
    if n["confidence"] == "low":
        return Call(
            "watch",
            "low_confidence",
            "sample too small for a confident estimate "
            f"({count(n['inferred_sales'], 'inferred sale')})",
        )
    fast = n["drops_30"] >= 2 or n["drops_90"] >= 4 or (is_seasonal(deal) and n["drops_365"] >= 6)
    if (roi or 0) >= BUY_ROI and fast:
        return Call("buy", "clears", f"ROI {pct(roi)} at {n['confidence']} confidence")
    if (roi or 0) < BUY_ROI:
        return Call("watch", "below_line", f"ROI {pct(roi)} is under the {BUY_ROI:.0f} % buy line")
    return Call(
        "watch",
        "slow",
        f"velocity {n['drops_30']}/30d and {n['drops_90']}/90d is under the buy line",
    )


def _ava_call(deal: Mapping[str, Any]) -> Call:
    verdict, rule, reasons = ava_call(deal)
    return Call(verdict, rule, "; ".join(reasons))


CALLS: dict[str, Callable[[Mapping[str, Any]], Call]] = {
    "ava": _ava_call,
    "evelyn": _ava_call,
    "olyvia": olyvia_call,
    "joel": joel_call,
    "errol": errol_call,
}


def call_for(persona: str, deal: Mapping[str, Any]) -> Call:
    return CALLS.get(persona, _ava_call)(deal)


def verdict_for(persona: str, deal: Mapping[str, Any]) -> tuple[Verdict, list[str]]:
    """The verdict and its deciding reason (first)."""
    call = call_for(persona, deal)
    return call.verdict, [call.reason]
