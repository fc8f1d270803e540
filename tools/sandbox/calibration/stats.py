"""The calibration file's statistics, computed from raw Keepa answers (README.md here).

Pure functions over Keepa-shaped JSON (dicts as the API sends them), so the real sample's
numbers and the sandbox's are the same computation: a definition changed here changes both
sides of the comparison. Output layouts mirror keepa_used_books.json (quantiles rounded to
cents, shares to 0.01 points) so the two can be compared key by key.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import numpy as np

from tools.keepa import conventions as kc
from tools.keepa.conventions import KEEPA_EPOCH_OFFSET_MIN

BOOKS_ROOT = 283155
QUANTILES = (10, 25, 50, 75, 90)
# csv indexes (Keepa's price types, tools/keepa/conventions.py)
AMAZON, USED, SALES, COUNT_USED = kc.AMAZON, kc.USED, kc.SALES, kc.COUNT_USED
USED_SHIPPING = (
    kc.USED_NEW_SHIPPING,
    kc.USED_VERY_GOOD_SHIPPING,
    kc.USED_GOOD_SHIPPING,
    kc.USED_ACCEPTABLE_SHIPPING,
)
WINDOWS = ("day", "week", "month", "90d")  # deal window index 0..3
NINETY = 3
# rank bands of current[3]: [lo, hi)
BANDS: tuple[tuple[str, int, float], ...] = (
    ("lt_100k", 1, 100_000),
    ("100k_300k", 100_000, 300_000),
    ("300k_1m", 300_000, 1_000_000),
    ("1m_3m", 1_000_000, 3_000_000),
    ("gt_3m", 3_000_000, float("inf")),
)
CONDITIONS = {2: "like_new", 3: "very_good", 4: "good", 5: "acceptable"}
# the profit yardstick (README): 15 % referral + $1.80 closing fee, $3.99 FBA + inbound proxy
REFERRAL, CLOSING_USD, FBA_INBOUND_USD, SHIPPING_PROXY_CENTS = 0.15, 1.80, 3.99, 399

Row = tuple[Mapping[str, Any], int]  # a deal row and the Keepa minute of its page


def quantiles(values: Sequence[float]) -> dict[str, Any]:
    """{n, p10..p90}: numpy.percentile, linear; None when there are no values."""
    out: dict[str, Any] = {"n": len(values)}
    qs = np.percentile(np.asarray(values, dtype=float), QUANTILES) if values else None
    for k, q in enumerate(QUANTILES):
        out[f"p{q}"] = None if qs is None else round(float(qs[k]), 2)
    return out


def median(values: Sequence[float]) -> dict[str, Any]:
    return {"n": len(values), "p50": round(float(np.percentile(values, 50)), 2) if values else None}


def share(flags: Sequence[bool]) -> dict[str, Any]:
    """{n, pct}: 100 x true flags / flags (pct None when there are none)."""
    n = len(flags)
    return {"n": n, "pct": round(100 * sum(flags) / n, 2) if n else None}


def page_minute(answer: Mapping[str, Any]) -> int:
    """Keepa minute of an answer: its envelope timestamp (ms)."""
    return int(answer["timestamp"]) // 60_000 - KEEPA_EPOCH_OFFSET_MIN


def scan_rows(pages: Iterable[Mapping[str, Any]]) -> list[Row]:
    """One scan's Books rows, each ASIN once: the row of the latest page holding it (pages
    ordered by envelope timestamp, then as given), with that page's minute."""
    latest: dict[str, Row] = {}
    ordered = sorted(enumerate(pages), key=lambda p: (page_minute(p[1]), p[0]))
    for _, answer in ordered:
        minute = page_minute(answer)
        for row in (answer.get("deals") or {}).get("dr") or []:
            if row.get("rootCat") == BOOKS_ROOT:
                latest[row["asin"]] = (row, minute)
    return list(latest.values())


def _at(arr: Sequence[int] | None, i: int) -> int:
    """arr[i], -1 (Keepa's 'none') when the array is absent or shorter."""
    if arr is None or i >= len(arr) or arr[i] is None:
        return -1
    return int(arr[i])


def window_value(row: Mapping[str, Any], field: str, w: int, i: int) -> int:
    """row[field][w][i] of a deal's per-window arrays (avg, delta, deltaPercent), else -1."""
    arrays = row.get(field) or []
    return _at(arrays[w] if w < len(arrays) else None, i)


def profit_usd(row: Mapping[str, Any]) -> float | None:
    """The README's yardstick profit of a deal row, None when it is not defined."""
    cur = row.get("current")
    used, avg90 = _at(cur, USED), window_value(row, "avg", NINETY, USED)
    if used <= 0 or avg90 <= 0:
        return None
    resale = avg90 / 100
    landed = [v for v in (_at(cur, i) for i in USED_SHIPPING) if v > 0]
    buy = (min(landed) if landed else used + SHIPPING_PROXY_CENTS) / 100
    return resale - (REFERRAL * resale + CLOSING_USD) - FBA_INBOUND_USD - buy


def _field(row: Mapping[str, Any], name: str) -> int:
    v = row.get(name)
    return -1 if v is None else int(v)


def deal_stats(rows: Sequence[Row]) -> dict[str, Any]:
    """Every deal statistic of a stratum over its pooled rows (layout of `strata.*.stats`)."""
    cur = [r.get("current") for r, _ in rows]
    out: dict[str, Any] = {"n_deals": len(rows), "n_asins": len({r["asin"] for r, _ in rows})}
    used = [_at(c, USED) for c in cur]
    ranks = [_at(c, SALES) for c in cur]
    ranked = [x for x in ranks if x > 0]
    out["used_price_usd"] = quantiles([u / 100 for u in used if u > 0])
    out["sales_rank"] = quantiles(ranked)
    out["no_rank_share"] = share([x <= 0 for x in ranks])
    mode = Counter(ranked).most_common(1)[0][0] if ranked else None
    out["rank_mode_share"] = share([x == mode for x in ranked])
    for w, name in enumerate(WINDOWS):
        on = [
            (r, u)
            for (r, _), u in zip(rows, used, strict=True)
            if u > 0 and window_value(r, "avg", w, USED) > 0
        ]
        dp = [window_value(r, "deltaPercent", w, USED) for r, _ in on]
        out[f"dp_{name}"] = quantiles(dp)
        out[f"rise_share_{name}"] = share([x < 0 for x in dp])
        out[f"delta_usd_{name}"] = quantiles(
            [window_value(r, "delta", w, USED) / 100 for r, _ in on]
        )
    out["deal_age_h"] = quantiles(
        [(m - _field(r, "creationDate")) / 60 for r, m in rows if _field(r, "creationDate") > 0]
    )
    out["update_age_h"] = quantiles(
        [(m - int(r["lastUpdate"])) / 60 for r, m in rows if r.get("lastUpdate") is not None]
    )
    counts = [_at(c, COUNT_USED) for c in cur]
    drops30 = [_field(r, "salesRankDrops30") for r, _ in rows]
    drops90 = [_field(r, "salesRankDrops90") for r, _ in rows]
    out["used_offer_count"] = quantiles([x for x in counts if x >= 0])
    out["rank_drops30"] = quantiles([x for x in drops30 if x >= 0])
    out["rank_drops90"] = quantiles([x for x in drops90 if x >= 0])
    out["no_drops_share"] = share([x < 0 for x in drops30])
    out["amazon_offer_share"] = share([_at(c, AMAZON) > 0 for c in cur])
    bands: dict[str, Any] = {}
    for name, lo, hi in BANDS:
        inside = [k for k, x in enumerate(ranks) if lo <= x < hi]
        bands[name] = {
            "share": share([lo <= x < hi for x in ranked]),
            "used_offer_count_median": median([counts[k] for k in inside if counts[k] >= 0]),
            "rank_drops30_median": median([drops30[k] for k in inside if drops30[k] >= 0]),
            "rank_drops90_median": median([drops90[k] for k in inside if drops90[k] >= 0]),
        }
    out["rank_bands"] = bands
    profits = [p for r, _ in rows if (p := profit_usd(r)) is not None]
    out["profit_usd"] = quantiles(profits)
    out["profit_gt0_share"] = share([p > 0 for p in profits])
    out["profit_gt10_share"] = share([p > 10 for p in profits])
    return out


def live_flags(product: Mapping[str, Any]) -> list[bool]:
    """Which of a product's offers are live, by the first rule its answer allows:
    liveOffersOrder, else lastSeen >= stats.lastOffersUpdate, else the newest lastSeen."""
    offers = product.get("offers") or []
    order = product.get("liveOffersOrder")
    if order is not None:
        live = set(order)
        return [k in live for k in range(len(offers))]
    updated = (product.get("stats") or {}).get("lastOffersUpdate")
    if updated is not None:
        return [int(o["lastSeen"]) >= int(updated) for o in offers]
    newest = max((int(o["lastSeen"]) for o in offers), default=None)
    return [int(o["lastSeen"]) == newest for o in offers]


def shipping_cents(offer: Mapping[str, Any]) -> int:
    """The offer's latest shipping (the last offerCSV triplet's), -1 when unknown."""
    ocsv = offer.get("offerCSV") or []
    return int(ocsv[-1]) if ocsv else -1


def offer_stats(products: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    """Offer statistics (layout of `offers`) over /product/ answers' products with offers."""
    with_offers = [p for p in products if p.get("offers")]
    every: list[tuple[Mapping[str, Any], bool]] = []
    per_product: list[float] = []
    for p in with_offers:
        flags = live_flags(p)
        every += list(zip(p["offers"], flags, strict=True))
        per_product.append(100 * sum(flags) / len(flags))
    live = [o for o, is_live in every if is_live]
    used = [o for o in live if o.get("condition") in CONDITIONS]
    fbm = [o for o in used if not o.get("isFBA")]
    ship = [shipping_cents(o) for o in fbm]
    out: dict[str, Any] = {
        "n_products": len(with_offers),
        "n_offers": len(every),
        "n_live": len(live),
    }
    out["live_share_pooled"] = share([is_live for _, is_live in every])
    out["live_share_per_product"] = quantiles(per_product)
    out["offers_per_product"] = quantiles([len(p["offers"]) for p in with_offers])
    out["offer_points_all"] = quantiles([len(o.get("offerCSV") or []) // 3 for o, _ in every])
    out["offer_points_live"] = quantiles([len(o.get("offerCSV") or []) // 3 for o in live])
    out["scam_share"] = share([bool(o.get("isScam")) for o, _ in every])
    out["used_share_of_live"] = share([o.get("condition") in CONDITIONS for o in live])
    for c, name in CONDITIONS.items():
        out[f"cond_{name}_share"] = share([o.get("condition") == c for o in used])
    out["used_fba_share"] = share([bool(o.get("isFBA")) for o in used])
    # shipping is known when offerCSV[-1] >= 0: the free share is over the known ones
    out["used_fbm_free_shipping_share"] = share([s == 0 for s in ship if s >= 0])
    out["used_fbm_paid_shipping_usd"] = quantiles([s / 100 for s in ship if s > 0])
    return out


def product_rank_drops(products: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    """Medians of stats.salesRankDrops30/90 by band of stats.current[3] (products with stats;
    n = products in the band, medians over their values >= 0)."""
    out: dict[str, Any] = {}
    stats = [p["stats"] for p in products if p.get("stats")]
    for name, lo, hi in BANDS:
        inside = [s for s in stats if lo <= _at(s.get("current"), SALES) < hi]
        entry: dict[str, Any] = {"n": len(inside)}
        for w in (30, 90):
            vals = [v for s in inside if (v := _field(s, f"salesRankDrops{w}")) >= 0]
            entry[f"rank_drops{w}_median"] = median(vals)["p50"]
        out[name] = entry
    return out
