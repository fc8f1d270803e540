"""Deterministic buy / pass / watch rules for one deal, per persona, and Ava's short verdict.

The verdict must not depend on a network model: the same numbers always give the same call,
offline or not (an LLM may rephrase the text, never flip the verdict). Rules follow docs/domain.md:
money first (no profit, no buy), gating (cannot list, cannot buy), Amazon on the listing,
velocity from rank drops, and the taught lesson that a seasonal textbook is not rejected just for
a high off-season rank (its yearly drops count instead).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Literal

Verdict = Literal["buy", "pass", "watch"]
SEASONAL = ("textbook", "exam_prep", "holiday", "summer")
MONTH_NAMES = ("", "January", "February", "March", "April", "May", "June", "July", "August",
               "September", "October", "November", "December")

BUY_ROI = 30.0
BUY_PROFIT = 10.0
MIN_TRUST = 50.0
CFO_MARGIN = 30.0
FLIP_DROPS = 4


@dataclass
class Advice:
    """A verdict, the reasons behind it, and the words to show."""

    verdict: Verdict
    reasons: list[str]
    text: str
    cited: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {"verdict": self.verdict, "reasons": self.reasons, "text": self.text,
                "cited": self.cited}


def _f(deal: Mapping[str, Any], key: str) -> float | None:
    v = deal.get(key)
    return float(v) if isinstance(v, int | float) and not isinstance(v, bool) else None


def money(v: float | None) -> str:
    return "n/a" if v is None else f"${v:,.2f}"


def pct(v: float | None) -> str:
    return "n/a" if v is None else f"{v:.0f} %"


def months(ms: Sequence[int] | None) -> str:
    return ", ".join(MONTH_NAMES[m] for m in (ms or []) if 1 <= m <= 12) or "none found"


def in_peak_now(deal: Mapping[str, Any], now: datetime | None = None) -> bool:
    month = (now or datetime.now(UTC)).month
    return month in (deal.get("peak_months") or [])


def is_seasonal(deal: Mapping[str, Any]) -> bool:
    return str(deal.get("seasonality") or "") in SEASONAL


def velocity_ok(deal: Mapping[str, Any]) -> bool:
    d30, d90, d365 = _f(deal, "rank_drops_30"), _f(deal, "rank_drops_90"), _f(deal,
                                                                             "rank_drops_365")
    if (d30 or 0) >= 2 or (d90 or 0) >= 4:
        return True
    # seasonal books sell in bursts: judge them on the year, not the quiet month
    return is_seasonal(deal) and (d365 or 0) >= 6


def ava_verdict(deal: Mapping[str, Any]) -> tuple[Verdict, list[str]]:
    """Ava's call and its reasons, from the deal's numbers alone."""
    profit, roi = _f(deal, "profit"), _f(deal, "roi")
    trust = _f(deal, "deal_trust")
    if deal.get("gated") == "restricted":  # first: no sale price can make it sellable
        return "pass", ["you are not approved to sell it (gated)"]
    if deal.get("list_at") is None or profit is None:
        return "watch", ["no reliable sale price yet (too few inferred sales)"]
    if profit <= 0:
        return "pass", [f"no profit at this price ({money(profit)})"]
    reasons: list[str] = []
    if deal.get("amazon_offer") and (roi or 0) < 50:
        reasons.append("Amazon is on the listing and will hold the Buy Box")
        return "watch", reasons
    if trust is not None and trust < MIN_TRUST:
        return "watch", [f"Deal Trust is only {pct(trust)}: the sale prices are shaky"]
    if (roi or 0) >= BUY_ROI and profit >= BUY_PROFIT and velocity_ok(deal):
        reasons.append(f"{money(profit)} profit at {pct(roi)} ROI")
        reasons.append("it sells steadily" if not is_seasonal(deal)
                       else "its season brings the sales")
        return "buy", reasons
    if not velocity_ok(deal):
        return "watch", ["too few rank drops to trust it will sell soon"]
    return "watch", [f"{money(profit)} profit at {pct(roi)} ROI is below our "
                     f"{BUY_ROI:.0f} % / {money(BUY_PROFIT)} bar"]


def olyvia_verdict(deal: Mapping[str, Any]) -> tuple[Verdict, list[str]]:
    """The CFO: margin and risk first; 30 % margin or it is a pass."""
    margin, roi, profit = _f(deal, "margin"), _f(deal, "roi"), _f(deal, "profit")
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
    trust = _f(deal, "deal_trust")
    if trust is not None and trust < 70:
        return "watch", [f"Deal Trust {pct(trust)} is under my 70 % floor"]
    return "buy", [f"{margin:.0f} % margin and {pct(roi)} ROI clear my bar"]


def joel_verdict(deal: Mapping[str, Any]) -> tuple[Verdict, list[str]]:
    """The Flipper: velocity first; a fast seller with any real profit is a buy."""
    d30 = int(_f(deal, "rank_drops_30") or 0)
    profit = _f(deal, "profit")
    if profit is None or profit <= 0:
        return "pass", ["no profit in it, and I don't flip for free"]
    if deal.get("gated") == "restricted":
        return "pass", ["it's gated for you: can't flip what you can't list"]
    if d30 >= FLIP_DROPS:
        return "buy", [f"Rank is dropping fast: {d30} drops in 30 days"]
    if d30 >= 1:
        return "watch", [f"only {d30} drop{'s' if d30 != 1 else ''} in 30 days; I want "
                         f"{FLIP_DROPS}+ to flip it fast"]
    return "pass", ["it's not moving: zero rank drops this month"]


def errol_numbers(deal: Mapping[str, Any]) -> dict[str, Any]:
    """Velocity, price variance and confidence: the Quant's structured view."""
    d30, d90, d365 = (int(_f(deal, k) or 0) for k in ("rank_drops_30", "rank_drops_90",
                                                       "rank_drops_365"))
    list_at, trough = _f(deal, "list_at"), _f(deal, "expected_trough_price")
    avg = _f(deal, "avg_1yr")
    prices = [v for v in (list_at, trough, avg) if v is not None]
    spread = None
    if list_at and len(prices) > 1:
        spread = (max(prices) - min(prices)) / list_at * 100
    sales = int(_f(deal, "inferred_sales_count") or 0)
    trust = _f(deal, "deal_trust")
    if sales >= 8 and (trust or 0) >= 70:
        confidence = "high"
    elif sales >= 3 and (trust is None or trust >= 50):
        confidence = "medium"
    else:
        confidence = "low"
    return {"drops_30": d30, "drops_90": d90, "drops_365": d365, "spread_pct": spread,
            "inferred_sales": sales, "deal_trust": trust, "confidence": confidence}


def errol_verdict(deal: Mapping[str, Any]) -> tuple[Verdict, list[str]]:
    n = errol_numbers(deal)
    roi, profit = _f(deal, "roi"), _f(deal, "profit")
    if profit is None or profit <= 0 or deal.get("gated") == "restricted":
        return "pass", ["expected value is not positive for us"]
    if n["confidence"] == "low":
        return "watch", ["sample too small for a confident estimate"]
    if (roi or 0) >= BUY_ROI and (n["drops_30"] >= 2 or n["drops_90"] >= 4 or
                                  (is_seasonal(deal) and n["drops_365"] >= 6)):
        return "buy", [f"ROI {pct(roi)} with {n['confidence']} confidence"]
    return "watch", [f"ROI {pct(roi)}, velocity {n['drops_30']}/30d: below the buy line"]


VERDICT_RULES = {"ava": ava_verdict, "evelyn": ava_verdict, "olyvia": olyvia_verdict,
                 "joel": joel_verdict, "errol": errol_verdict}


def verdict_for(persona: str, deal: Mapping[str, Any]) -> tuple[Verdict, list[str]]:
    return VERDICT_RULES.get(persona, ava_verdict)(deal)


def fit_words(sentences: Sequence[str], lo: int = 50, hi: int = 80,
              fillers: Sequence[str] = ()) -> str:
    """Join whole sentences into lo..hi words: core sentences first, fillers only if short."""
    out: list[str] = []
    count = 0
    for s in [*sentences, *fillers]:
        n = len(s.split())
        if count >= lo and s in fillers:
            break
        if count + n > hi:
            continue
        out.append(s)
        count += n
    return " ".join(out)


def ava_advice(deal: Mapping[str, Any], knowledge: Sequence[Mapping[str, Any]] = ()) -> Advice:
    """Ava's 50-80 word buy / pass / watch verdict, grounded in the numbers and the strategies."""
    verdict, reasons = ava_verdict(deal)
    title = str(deal.get("title") or deal.get("asin") or "this item")
    short = title if len(title) <= 50 else title[:47].rstrip() + "..."
    s = [f"{verdict.capitalize()}: {short} ({deal.get('asin')}).",
         f"Reason: {'; '.join(reasons)}."]
    if deal.get("profit") is not None:
        s.append(f"All-in cost {money(_f(deal, 'all_in_cost'))}, list at "
                 f"{money(_f(deal, 'list_at'))}, profit {money(_f(deal, 'profit'))}, "
                 f"ROI {pct(_f(deal, 'roi'))}, margin {pct(_f(deal, 'margin'))}.")
    rank = deal.get("sales_rank")
    s.append(f"Rank {rank:,} with {deal.get('rank_drops_30') or 0} drops in 30 days and "
             f"{deal.get('rank_drops_365') or 0} in a year." if isinstance(rank, int)
             else f"{deal.get('rank_drops_30') or 0} rank drops in 30 days.")
    cited: list[str] = []
    for k in knowledge[:1]:
        text = str(k.get("text") or "")
        words = text.split()
        snippet = " ".join(words[:18]) + ("..." if len(words) > 18 else "")
        s.append(f"Strategy {k.get('ref')}: {snippet}")
        cited.append(str(k.get("ref")))
    fillers = []
    if is_seasonal(deal):
        fillers.append(f"It is {deal.get('seasonality')} seasonal; peaks in "
                       f"{months(deal.get('peak_months'))}.")
    if deal.get("percent_down") is not None:
        fillers.append(f"It is {pct(_f(deal, 'percent_down'))} below its 1-year average.")
    if deal.get("deal_trust") is not None:
        fillers.append(f"Deal Trust {pct(_f(deal, 'deal_trust'))}.")
    fillers.append("Re-check the live price and the offer's condition before you buy.")
    fillers.append("Prices move daily, so act on this today or look again tomorrow.")
    return Advice(verdict, reasons, fit_words(s, fillers=fillers), cited)
