"""Backtest of Ava's daily picks against the sandbox market's own future.

The sandbox market knows what happens next (its true sales and prices, tools/sandbox/keepa),
so a pick can be judged by what a seller who followed it would have got. For each of N
simulated days:

1. The database's view: every product the admin's deal query lists at the start of the day
   (what the scout finds), fetched as the pipeline fetches it (/product/ with stats, history
   and offers, through the same analytics) at a time spread over the day, so quotes are 0-24 h
   old at pick time, as in a real deals database.
2. Each scorer picks N deals for a seller on the default settings at 08:00: ours
   (tools/alerts/picks.py), a top-ROI baseline, and the "profit x ROI x age decay" baseline.
3. Each pick is checked against the market: 6 h later, is a used copy still buyable at the
   quoted Price Now (the cheapest live, non-scam used offer, shipping included)? If so, it is
   bought at that price and listed at the pick's List at; it sells at the first true sale in
   the next 90 days at which no other used offer is cheaper than that List at. Realized profit
   = List at - Amazon fees - all-in cost; a copy unsold after 90 days is sold off at the
   cheapest used price then (less fees), often at a loss; a pick not buyable earns 0.
   A hit is a pick bought and sold at its List at within 90 days.

Prints one JSON document: hit rate and mean realized profit per pick for each scorer.
Targets: ours >= 1.5x the top-ROI baseline's realized profit per pick, and >= 1.3x its hit rate.

    .venv/bin/python bench/picks.py [--products 6000] [--days 14] [--picks 5] [--seed 42]
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tools.alerts.picks import Pick, Scorer, score_deals
from tools.clock import SimClock
from tools.deal_selection import DEFAULT_SELECTION
from tools.deals import analyse_product
from tools.deals import money as m
from tools.sandbox.keepa.market import SandboxMarket
from tools.user_settings import UserSettings

HOUR_MIN, DAY_MIN = 60, 1440
BUY_AFTER_MIN = 6 * HOUR_MIN
SELL_WITHIN_MIN = 90 * DAY_MIN
SCORERS: tuple[Scorer, ...] = ("ava", "top_roi", "profit_roi_age")
TARGET_PROFIT_X, TARGET_HIT_X = 1.5, 1.3
T0 = 1772438400.0  # 2026-03-02 08:00 UTC: the market's "now" at the start


def _rows_for_day(
    market: SandboxMarket, clock: SimClock, day_start: float, rng: random.Random
) -> list[dict[str, Any]]:
    """The deals database at the end of a day: each listed product fetched once, at a random
    time during the day (the clock only moves forward: fetched hour by hour)."""
    clock.set(day_start)
    asins = market.deal_asins(dict(DEFAULT_SELECTION))
    by_hour: dict[int, list[str]] = {}
    for a in asins:
        by_hour.setdefault(rng.randrange(24), []).append(a)
    rows: list[dict[str, Any]] = []
    for hour in range(24):
        at = day_start + hour * 3600 + rng.uniform(0, 3600)
        clock.set(at)
        fetched_at = datetime.fromtimestamp(at, UTC)
        for answer in market.products(by_hour.get(hour, []), stats=365, history=True, offers=20):
            if answer is None:
                continue
            rec = analyse_product(answer[0], now=fetched_at)
            if rec.price_now is None or rec.list_at is None:
                continue
            row = {k: getattr(rec, k, None) for k in _ROW_FIELDS}
            row.update(asin=rec.asin, fetched_at=fetched_at, updated_at=fetched_at)
            rows.append(row)
    return rows


_ROW_FIELDS = (
    "title",
    "price_now",
    "list_at",
    "referral_pct",
    "referral_min",
    "fba_fee",
    "closing_fee",
    "shipping_included",
    "sales_rank",
    "rank_drops_90",
    "offers_used",
    "deal_trust",
)


def _cheapest(market: SandboxMarket, asin: str, at: int) -> float | None:
    (truth,) = market.truth([asin], at)
    best = truth.cheapest_used if truth is not None else None
    return best.total / 100.0 if best is not None else None


def judge(market: SandboxMarket, pick: Pick, row: dict[str, Any], t_pick: int) -> dict[str, Any]:
    """What following the pick would have earned (see the module docstring)."""
    settings = UserSettings()
    t_buy = t_pick + BUY_AFTER_MIN
    price = _cheapest(market, pick.asin, t_buy)
    if price is None or price > pick.price + 0.005:
        return {"bought": False, "hit": False, "profit": 0.0}
    cost = m.all_in_cost(price, settings, bool(row.get("shipping_included")))
    pct, ref_min = row["referral_pct"] or m.DEFAULT_REFERRAL_PCT, row["referral_min"] or 0.0
    fba, closing = row["fba_fee"] or 0.0, row["closing_fee"] or 0.0

    def net(sale: float) -> float:
        return sale - m.amz_fees(sale, pct, ref_min, fba, closing)

    i = market.index_of(pick.asin)
    assert i is not None
    end = min(t_buy + SELL_WITHIN_MIN, market.end_min)
    sales = market.history(i, end).sale_t
    for t_sale in sales[(sales > t_buy) & (sales <= end)]:
        other = _cheapest(market, pick.asin, int(t_sale) - 1)
        if other is None or other >= pick.list_at - 0.005:  # ours is the cheapest copy then
            return {"bought": True, "hit": True, "profit": net(pick.list_at) - cost}
    salvage = _cheapest(market, pick.asin, end) or 0.0
    return {"bought": True, "hit": False, "profit": (net(salvage) if salvage else 0.0) - cost}


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--products", type=int, default=6000)
    p.add_argument("--days", type=int, default=14)
    p.add_argument("--picks", type=int, default=5)
    p.add_argument("--seed", type=int, default=42)
    p.add_argument("--dump", type=Path, help="write every judged pick (features, outcome) here")
    args = p.parse_args()
    started = time.perf_counter()
    clock = SimClock(T0)
    market = SandboxMarket(
        n_products=args.products, seed=args.seed, refill_rate=10**6, clock=clock, start=T0
    )
    rng = random.Random(args.seed)
    results: dict[str, list[dict[str, Any]]] = {s: [] for s in SCORERS}
    candidates: list[int] = []
    dumped: list[dict[str, Any]] = []
    for d in range(args.days):
        day_start = T0 + d * 86400  # the day's fetches, then the picks at the end of it
        rows = _rows_for_day(market, clock, day_start, rng)
        candidates.append(len(rows))
        t_pick_s = day_start + 86400
        clock.set(t_pick_s)
        now = datetime.fromtimestamp(t_pick_s, UTC)
        t_pick = int(market.now_min())
        by_asin = {r["asin"]: r for r in rows}
        for scorer in SCORERS:
            picks = score_deals(rows, UserSettings(), {}, now, scorer=scorer, count=args.picks)
            for pick in picks:
                outcome = judge(market, pick, by_asin[pick.asin], t_pick)
                results[scorer].append(outcome)
                dumped.append(
                    {
                        "day": d,
                        "scorer": scorer,
                        **pick.as_payload(),
                        **outcome,
                        **{k: by_asin[pick.asin].get(k) for k in _ROW_FIELDS[1:]},
                        "score": pick.score,
                        "sell_chance": pick.sell_chance,
                        "age_h": pick.age_h,
                    }
                )
    out: dict[str, Any] = {
        "products": args.products,
        "days": args.days,
        "picks_per_day": args.picks,
        "seed": args.seed,
        "candidates_per_day_median": statistics.median(candidates) if candidates else 0,
    }
    for scorer, judged in results.items():
        n = len(judged)
        out[scorer] = {
            "picks": n,
            "bought_share": round(sum(j["bought"] for j in judged) / n, 3) if n else None,
            "hit_rate": round(sum(j["hit"] for j in judged) / n, 3) if n else None,
            "profit_per_pick": round(float(np.mean([j["profit"] for j in judged])), 2)
            if n
            else None,
        }
    ours, base = out["ava"], out["top_roi"]
    out["profit_x_vs_top_roi"] = (
        round(ours["profit_per_pick"] / base["profit_per_pick"], 2)
        if base["profit_per_pick"] and base["profit_per_pick"] > 0
        else None
    )
    out["hit_x_vs_top_roi"] = (
        round(ours["hit_rate"] / base["hit_rate"], 2) if base["hit_rate"] else None
    )
    profit_ok = ours["profit_per_pick"] is not None and (
        (base["profit_per_pick"] or 0) <= 0 < ours["profit_per_pick"]
        or (out["profit_x_vs_top_roi"] or 0) >= TARGET_PROFIT_X
    )
    hit_ok = (ours["hit_rate"] or 0) > 0 and (
        not base["hit_rate"] or (out["hit_x_vs_top_roi"] or 0) >= TARGET_HIT_X
    )
    out["meets_target"] = bool(profit_ok and hit_ok)
    out["seconds"] = round(time.perf_counter() - started, 1)
    if args.dump:
        args.dump.write_text("\n".join(json.dumps(r, default=str) for r in dumped) + "\n")
    print(json.dumps(out, indent=2))
    return 0 if out["meets_target"] else 1


if __name__ == "__main__":
    sys.exit(main())
