"""Ava's deterministic buy / pass / watch verdict for one deal: the `deal_advice` tool's rules.

The verdict must not depend on a network model: the same numbers always give the same call,
offline or not (an LLM may rephrase the text, never flip the verdict), so the tool computes it
on both paths. Rules follow docs/domain.md: money first (no profit, no buy), gating (cannot list,
cannot buy), Amazon on the listing, velocity from rank drops, and the taught lesson that a
seasonal textbook is not rejected just for a high off-season rank (its yearly drops count
instead). The mentors' own rules serve only the offline model (agent/offline/verdicts.py).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Literal

from agent.wording import count, money, pct, shorten

Verdict = Literal["buy", "pass", "watch"]
SEASONAL = ("textbook", "exam_prep", "holiday", "summer")
MONTH_NAMES = (
    "",
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
)

BUY_ROI = 30.0
BUY_PROFIT = 10.0
MIN_TRUST = 50.0
# the seller's own track record moves a verdict only when it rests on this many sold buys
MIN_RECORD = 5


@dataclass
class Advice:
    """A verdict, the reasons behind it, and the words to show."""

    verdict: Verdict
    reasons: list[str]
    text: str
    cited: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {
            "verdict": self.verdict,
            "reasons": self.reasons,
            "text": self.text,
            "cited": self.cited,
        }


def num(deal: Mapping[str, Any], key: str) -> float | None:
    """A numeric field of the deal, None when missing or not a number (bools are not)."""
    v = deal.get(key)
    return float(v) if isinstance(v, int | float) and not isinstance(v, bool) else None


def months(ms: Sequence[int] | None) -> str:
    return ", ".join(MONTH_NAMES[m] for m in (ms or []) if 1 <= m <= 12) or "none found"


def in_peak_now(deal: Mapping[str, Any], now: datetime | None = None) -> bool:
    month = (now or datetime.now(UTC)).month
    return month in (deal.get("peak_months") or [])


def is_seasonal(deal: Mapping[str, Any]) -> bool:
    return str(deal.get("seasonality") or "") in SEASONAL


def velocity_ok(deal: Mapping[str, Any]) -> bool:
    d30, d90, d365 = (num(deal, k) for k in ("rank_drops_30", "rank_drops_90", "rank_drops_365"))
    if (d30 or 0) >= 2 or (d90 or 0) >= 4:
        return True
    # seasonal books sell in bursts: judge them on the year, not the quiet month
    return is_seasonal(deal) and (d365 or 0) >= 6


def record_adjusted(
    deal: Mapping[str, Any], record: Mapping[str, Any] | None
) -> tuple[float, float] | None:
    """(profit, ROI) of the deal at the seller's own record (realized vs predicted profit of
    their last buys of the kind), when that record is long enough to go by."""
    if not record or int(record.get("purchases") or 0) < MIN_RECORD:
        return None
    vs, profit, cost = record.get("vs_predicted"), num(deal, "profit"), num(deal, "all_in_cost")
    if not isinstance(vs, int | float) or profit is None or profit <= 0:
        return None
    adjusted = profit * (1.0 + float(vs))
    return adjusted, (adjusted * 100.0 / cost if cost else 0.0)


def ava_verdict(
    deal: Mapping[str, Any], record: Mapping[str, Any] | None = None
) -> tuple[Verdict, list[str]]:
    """Ava's call and its reasons, from the deal's numbers (and the seller's record)."""
    verdict, _, reasons = ava_call(deal, record)
    return verdict, reasons


def ava_call(
    deal: Mapping[str, Any], record: Mapping[str, Any] | None = None
) -> tuple[Verdict, str, list[str]]:
    """Ava's call, the rule that decided it (gated | no_value | loses_money | amazon |
    low_trust | own_record | buy | slow | below_bar) and its reasons; the first rule that
    decides wins. `record` (reports.track_record): a buy that clears the bar on the app's
    prediction but not at what the seller's last buys of the kind really made (with at least
    MIN_RECORD of them sold) is a watch."""
    profit, roi = num(deal, "profit"), num(deal, "roi")
    trust = num(deal, "deal_trust")
    if deal.get("gated") == "restricted":  # first: no sale price can make it sellable
        return "pass", "gated", ["you are not approved to sell it (gated)"]
    if deal.get("list_at") is None or profit is None:
        return "watch", "no_value", ["no reliable sale price yet (too few inferred sales)"]
    if profit <= 0:
        return "pass", "loses_money", [f"no profit at this price ({money(profit)})"]
    if deal.get("amazon_offer") and (roi or 0) < 50:
        return "watch", "amazon", ["Amazon is on the listing and will hold the Buy Box"]
    if trust is not None and trust < MIN_TRUST:
        return "watch", "low_trust", [f"Deal Trust is only {pct(trust)}: the sale prices are shaky"]
    if (roi or 0) >= BUY_ROI and profit >= BUY_PROFIT and velocity_ok(deal):
        adjusted = record_adjusted(deal, record)
        if adjusted is not None and (adjusted[0] < BUY_PROFIT or adjusted[1] < BUY_ROI):
            return (
                "watch",
                "own_record",
                [
                    f"at your own record on these buys it would make about "
                    f"{money(adjusted[0])} ({pct(adjusted[1])} ROI), below our "
                    f"{BUY_ROI:.0f} % / {money(BUY_PROFIT)} bar"
                ],
            )
        return (
            "buy",
            "buy",
            [
                f"{money(profit)} profit at {pct(roi)} ROI",
                "it sells steadily" if not is_seasonal(deal) else "its season brings the sales",
            ],
        )
    if not velocity_ok(deal):
        return "watch", "slow", ["too few rank drops to trust it will sell soon"]
    return (
        "watch",
        "below_bar",
        [
            f"{money(profit)} profit at {pct(roi)} ROI is below our "
            f"{BUY_ROI:.0f} % / {money(BUY_PROFIT)} bar"
        ],
    )


def fit_words(
    sentences: Sequence[str], lo: int = 50, hi: int = 80, fillers: Sequence[str] = ()
) -> str:
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


def record_sentence(record: Mapping[str, Any] | None) -> str | None:
    """The seller's track record in words: "Your last 12 textbook buys took 41 days to sell on
    average and made 18 % less than predicted." None without one."""
    if not record or not record.get("purchases"):
        return None
    n = int(record["purchases"])
    kind = str(record.get("seasonality") or "").replace("_", " ")
    what = f"{kind} buy" if kind else "buy"
    text = f"Your last {n} {what}{'s' if n != 1 else ''}"
    days = record.get("average_days")
    text += f" took {float(days):.0f} days to sell on average" if days is not None else " sold"
    vs = record.get("vs_predicted")
    if isinstance(vs, int | float):
        text += f" and made {abs(vs) * 100:.0f} % {'less' if vs < 0 else 'more'} than predicted"
    return text + "."


def ava_advice(
    deal: Mapping[str, Any],
    knowledge: Sequence[Mapping[str, Any]] = (),
    record: Mapping[str, Any] | None = None,
) -> Advice:
    """Ava's 50-80 word buy / pass / watch verdict, grounded in the numbers, the strategies
    and the seller's own track record (`record`: reports.track_record)."""
    verdict, reasons = ava_verdict(deal, record)
    title = str(deal.get("title") or deal.get("asin") or "this item")
    short = shorten(title, 50)
    s = [f"{verdict.capitalize()}: {short} ({deal.get('asin')}).", f"Reason: {'; '.join(reasons)}."]
    if deal.get("profit") is not None:
        s.append(
            f"All-in cost {money(num(deal, 'all_in_cost'))}, list at "
            f"{money(num(deal, 'list_at'))}, profit {money(num(deal, 'profit'))}, "
            f"ROI {pct(num(deal, 'roi'))}, margin {pct(num(deal, 'margin'))}."
        )
    rank = deal.get("sales_rank")
    s.append(
        f"Rank {rank:,} with {count(deal.get('rank_drops_30'), 'drop')} in 30 days and "
        f"{deal.get('rank_drops_365') or 0} in a year."
        if isinstance(rank, int)
        else f"{count(deal.get('rank_drops_30'), 'rank drop')} in 30 days."
    )
    said = record_sentence(record)
    if said:
        s.append(said)
    cited: list[str] = []
    for k in knowledge[:1]:
        text = str(k.get("text") or "")
        words = text.split()
        snippet = " ".join(words[:18]) + ("…" if len(words) > 18 else "")
        s.append(f"Strategy {k.get('ref')}: {snippet}")
        cited.append(str(k.get("ref")))
    fillers = []
    if is_seasonal(deal):
        fillers.append(
            f"It is {deal.get('seasonality')} seasonal; peaks in {months(deal.get('peak_months'))}."
        )
    if deal.get("percent_down") is not None:
        fillers.append(f"It is {pct(num(deal, 'percent_down'))} below its 1-year average.")
    if deal.get("deal_trust") is not None:
        fillers.append(f"Deal Trust {pct(num(deal, 'deal_trust'))}.")
    fillers.append("Re-check the live price and the offer's condition before you buy.")
    fillers.append("Prices move daily, so act on this today or look again tomorrow.")
    return Advice(verdict, reasons, fit_words(s, fillers=fillers), cited)
