"""The mentors' buy / pass / watch rules for one deal, for the offline model's answers.

With a real model a mentor argues its own case from the tools' numbers and its voice prompt
(agent/personas.py); offline nothing argues, so each mentor's voice prompt is written down as a
rule: Olyvia on margin and risk, Joel on velocity, Errol on confidence, Evelyn as Ava does
(Ava's rules, agent/advice.py, are the `deal_advice` tool's on both paths).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from agent.advice import BUY_ROI, Verdict, ava_verdict, is_seasonal, money, num, pct

CFO_MARGIN = 30.0
FLIP_DROPS = 4


def olyvia_verdict(deal: Mapping[str, Any]) -> tuple[Verdict, list[str]]:
    """The CFO: margin and risk first; 30 % margin or it is a pass."""
    margin, roi, profit = num(deal, "margin"), num(deal, "roi"), num(deal, "profit")
    if profit is None or margin is None:
        return "pass", ["no reliable sale price: I do not buy what I cannot value"]
    if deal.get("gated") == "restricted":
        return "pass", ["we are not approved to sell it"]
    if profit <= 0:
        return "pass", [f"it loses money ({money(profit)})"]
    if margin < CFO_MARGIN:
        return "pass", [f"{margin:.0f} % margin is too thin; we need {CFO_MARGIN:.0f} %"]
    if deal.get("amazon_offer"):
        return "watch", ["Amazon on the listing is a pricing risk I will not carry"]
    trust = num(deal, "deal_trust")
    if trust is not None and trust < 70:
        return "watch", [f"Deal Trust {pct(trust)} is under my 70 % floor"]
    return "buy", [f"{margin:.0f} % margin and {pct(roi)} ROI clear my bar"]


def joel_verdict(deal: Mapping[str, Any]) -> tuple[Verdict, list[str]]:
    """The Flipper: velocity first; a fast seller with any real profit is a buy."""
    d30 = int(num(deal, "rank_drops_30") or 0)
    profit = num(deal, "profit")
    if profit is None or profit <= 0:
        return "pass", ["no profit in it, and I don't flip for free"]
    if deal.get("gated") == "restricted":
        return "pass", ["it's gated for you: can't flip what you can't list"]
    if d30 >= FLIP_DROPS:
        return "buy", [f"Rank is dropping fast: {d30} drops in 30 days"]
    if d30 >= 1:
        return "watch", [
            f"only {d30} drop{'s' if d30 != 1 else ''} in 30 days; I want "
            f"{FLIP_DROPS}+ to flip it fast"
        ]
    return "pass", ["it's not moving: zero rank drops this month"]


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


def errol_verdict(deal: Mapping[str, Any]) -> tuple[Verdict, list[str]]:
    n = errol_numbers(deal)
    roi, profit = num(deal, "roi"), num(deal, "profit")
    if profit is None or profit <= 0 or deal.get("gated") == "restricted":
        return "pass", ["expected value is not positive for us"]
    if n["confidence"] == "low":
        return "watch", ["sample too small for a confident estimate"]
    if (roi or 0) >= BUY_ROI and (
        n["drops_30"] >= 2 or n["drops_90"] >= 4 or (is_seasonal(deal) and n["drops_365"] >= 6)
    ):
        return "buy", [f"ROI {pct(roi)} with {n['confidence']} confidence"]
    return "watch", [f"ROI {pct(roi)}, velocity {n['drops_30']}/30d: below the buy line"]


VERDICT_RULES = {
    "ava": ava_verdict,
    "evelyn": ava_verdict,
    "olyvia": olyvia_verdict,
    "joel": joel_verdict,
    "errol": errol_verdict,
}


def verdict_for(persona: str, deal: Mapping[str, Any]) -> tuple[Verdict, list[str]]:
    return VERDICT_RULES.get(persona, ava_verdict)(deal)
