"""Keepa's `stats` object computed from histories the way Keepa defines it.

Averages are time-weighted over the window, ignoring periods without an offer (-1);
out-of-stock percentages are the share of the window at -1; `min`/`max` are
[keepaTime, value] over the whole history, `*InInterval` over the requested `stats` days;
salesRankDrops count rank improvements in the window.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from tools.keepa.sandbox.series import DAY, SALES, Series

N_TYPES = 36
PRICE_TYPES = frozenset({0, 1, 2, 4, 5, 6, 7, 8, 9, 10, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27,
                         28, 29, 30, 31, 32, 33})
WINDOWS = (30, 90, 180, 365)


def _window(t: np.ndarray, v: np.ndarray, now: int, days: np.ndarray,
            ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per window: weighted average of valid values, out-of-stock %, value at window start.

    Uses running integrals so each window costs a binary search, not a pass over the series.
    """
    ends = np.empty(len(t), dtype=np.int64)
    ends[:-1] = t[1:]
    ends[-1] = max(now, int(t[-1]))
    dur = (ends - t).astype(np.float64)
    valid = v >= 0
    vd = np.where(valid, dur, 0.0)
    cum_vd = np.concatenate(([0.0], np.cumsum(vd)))
    cum_vv = np.concatenate(([0.0], np.cumsum(vd * np.maximum(v, 0))))
    cum_d = np.concatenate(([0.0], np.cumsum(dur)))
    start = np.maximum(now - days * DAY, t[0])
    k = np.searchsorted(t, start, side="right") - 1  # segment holding the window start
    part = (start - t[k]).astype(np.float64)  # part of segment k before the window
    tot = cum_d[-1] - cum_d[k] - part
    tot_valid = cum_vd[-1] - cum_vd[k] - np.where(valid[k], part, 0.0)
    tot_vv = cum_vv[-1] - cum_vv[k] - np.where(valid[k], part * np.maximum(v[k], 0), 0.0)
    safe_valid = np.where(tot_valid > 0, tot_valid, 1.0)
    avg = np.where(tot_valid > 0, tot_vv / safe_valid, -1)
    oos = np.where(tot > 0, np.round(100 * (tot - tot_valid) / np.where(tot > 0, tot, 1.0)), -1)
    raw_start = now - days * DAY
    k0 = np.searchsorted(t, raw_start, side="right") - 1
    at_start = np.where(k0 >= 0, v[np.maximum(k0, 0)], -1)
    return np.floor(avg).astype(np.int64), oos.astype(np.int64), at_start


def _extremes(t: np.ndarray, v: np.ndarray, lo_t: int) -> tuple[list[int] | None, ...]:
    """(min, max, minInInterval, maxInInterval) as [keepaTime, value] pairs, ignoring -1."""
    valid = v >= 0
    if not valid.any():
        return None, None, None, None
    big = np.where(valid, v, np.int64(1) << 60)
    small = np.where(valid, v, -1)
    jmin, jmax = int(np.argmin(big)), int(np.argmax(small))
    out: list[list[int] | None] = [[int(t[jmin]), int(v[jmin])], [int(t[jmax]), int(v[jmax])]]
    k = int(np.searchsorted(t, lo_t, side="left"))
    if k < len(t) and valid[k:].any():
        jn, jx = k + int(np.argmin(big[k:])), k + int(np.argmax(small[k:]))
        out += [[int(t[jn]), int(v[jn])], [int(t[jx]), int(v[jx])]]
    else:
        out += [None, None]
    return tuple(out)


def compute_stats(series: dict[int, Series], now: int, interval_days: int,
                  extra: dict[str, Any]) -> dict[str, Any]:
    """`series` must already be cut at `now`; `extra` supplies offer/buy-box fields."""
    days = np.array([*WINDOWS, interval_days])
    cur = [-1] * N_TYPES
    avgs = {w: [-1] * N_TYPES for w in (*WINDOWS, "interval")}
    oos = {w: [-1] * N_TYPES for w in (*WINDOWS, "interval")}
    at_start = [-1] * N_TYPES
    mins: list[list[int] | None] = [None] * N_TYPES
    maxs: list[list[int] | None] = [None] * N_TYPES
    min_i: list[list[int] | None] = [None] * N_TYPES
    max_i: list[list[int] | None] = [None] * N_TYPES
    lo_interval = now - interval_days * DAY
    for idx, s in series.items():
        if len(s.t) == 0:
            continue
        v = s.total()
        cur[idx] = int(v[-1])
        avg, oo, st = _window(s.t, v, now, days)
        for j, w in enumerate((*WINDOWS, "interval")):
            avgs[w][idx] = int(avg[j])
            if idx in PRICE_TYPES:
                oos[w][idx] = int(oo[j])
        at_start[idx] = int(st[-1])
        mins[idx], maxs[idx], min_i[idx], max_i[idx] = _extremes(s.t, v, lo_interval)
    drops: dict[str, int] = {}
    rank = series.get(SALES)
    for w in WINDOWS:
        if rank is None or len(rank.t) < 2:
            drops[f"salesRankDrops{w}"] = -1
            continue
        dec = (rank.v[1:] < rank.v[:-1]) & (rank.v[1:] >= 0) & (rank.v[:-1] >= 0)
        drops[f"salesRankDrops{w}"] = int((dec & (rank.t[1:] >= now - w * DAY)).sum())
    is_lowest = [bool(c >= 0 and mins[i] is not None and c <= mins[i][1])
                 for i, c in enumerate(cur)]
    is_lowest90 = [bool(c >= 0 and avgs[90][i] >= 0 and c <= avgs[90][i] * 0.9)
                   for i, c in enumerate(cur)]
    stats: dict[str, Any] = {
        "atIntervalStart": at_start, "avg": avgs["interval"], "avg180": avgs[180],
        "avg30": avgs[30], "avg365": avgs[365], "avg90": avgs[90],
        "buyBoxAvailabilityMessage": None, "buyBoxCondition": None, "buyBoxIsAmazon": None,
        "buyBoxIsBackorder": None, "buyBoxIsFBA": None, "buyBoxIsFreeShippingEligible": None,
        "buyBoxIsMAP": None, "buyBoxIsPreorder": None, "buyBoxIsPrimeEligible": None,
        "buyBoxIsPrimeExclusive": None, "buyBoxIsShippable": None, "buyBoxIsUnqualified": None,
        "buyBoxIsUsed": None, "buyBoxIsWarehouseDeal": None, "buyBoxPrice": -2,
        "buyBoxSellerId": None, "buyBoxShipping": -2, "buyBoxShippingCountry": None,
        "current": cur, "deltaPercent90_monthlySold": 0, "isLowest": is_lowest,
        "isLowest90": is_lowest90, "lastBuyBoxUpdate": None, "lastOffersUpdate": None,
        "lightningDealInfo": None, "max": maxs, "maxInInterval": max_i, "min": mins,
        "minInInterval": min_i, "offerCountFBA": -2, "offerCountFBM": -2,
        "outOfStockCountAmazon30": 0, "outOfStockCountAmazon90": 0,
        "outOfStockPercentage180": oos[180], "outOfStockPercentage30": oos[30],
        "outOfStockPercentage365": oos[365], "outOfStockPercentage90": oos[90],
        "outOfStockPercentageInInterval": oos["interval"], "retrievedOfferCount": -2,
        **drops, "sellerIdsLowestFBA": None, "sellerIdsLowestFBM": None,
        "totalOfferCount": max(0, cur[11]) + max(0, cur[12]), "tradeInPrice": -2,
    }
    stats.update(extra)
    return dict(sorted(stats.items()))
