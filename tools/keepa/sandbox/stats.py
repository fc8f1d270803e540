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
    return _assemble(cur, avgs, oos, at_start, mins, maxs, min_i, max_i, drops, extra)


def _assemble(cur: list[int], avgs: dict[Any, list[int]], oos: dict[Any, list[int]],
              at_start: list[int], mins: list[Any], maxs: list[Any], min_i: list[Any],
              max_i: list[Any], drops: dict[str, int], extra: dict[str, Any]) -> dict[str, Any]:
    """The stats object in Keepa's key order (sorted), from per-type lists."""
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


# ---- the fast path ---------------------------------------------------------------------------
# compute_stats above is the readable definition (and the reference in the tests). Per series it
# makes ~25 small numpy calls, ~8 ms for a sandbox product: a 100-ASIN answer took over a second.
# SeriesTable concatenates a product's whole timeline once (cached with its history) with prefix
# integrals, so any cut `at` / window is a difference of two integrals: F(at) - F(start), found
# for all series and windows at once with one searchsorted. Integer arithmetic keeps it exact.

_BIG = np.int64(1) << 62
_IS_PRICE = np.zeros(N_TYPES, dtype=bool)
_IS_PRICE[sorted(PRICE_TYPES)] = True
_POS_BITS = 24  # index bits in the encoded (value, index) keys for first-occurrence min/max
_POS_MASK = (1 << _POS_BITS) - 1
_SPAN = 1 << 32  # per-series key offset: series times never span 2**32 minutes


class SeriesTable:
    """A product's series concatenated (totals incl. shipping) with prefix sums; immutable.

    The product's Series arrays become views into the concatenated ones, so caching a table
    costs little more memory than the history itself.
    """

    def __init__(self, series: dict[int, Series]) -> None:
        self.pos = {idx: p for p, idx in enumerate(series)}
        lens = np.array([len(s.t) for s in series.values()], dtype=np.int64)
        self.start = np.concatenate(([0], np.cumsum(lens)[:-1])).astype(np.int64)
        self.stop = self.start + lens
        n = int(lens.sum())
        if n >= _POS_MASK:
            raise ValueError("series too long for SeriesTable")
        # times, values and shipping fit int32 (halves the cache); sums and keys are int64,
        # and every product below is taken after widening to int64
        self.t = np.concatenate([s.t for s in series.values()]).astype(np.int32)
        self.raw = np.concatenate([s.v for s in series.values()]).astype(np.int32)  # no ship
        has_ship = [s.ship is not None for s in series.values()]
        self.width = [3 if x else 2 for x in has_ship]
        self.ship = np.concatenate([s.ship if s.ship is not None else np.zeros(len(s.t), np.int32)
                                    for s in series.values()]).astype(np.int32)
        self.v = np.where(self.raw < 0, self.raw, self.raw + np.maximum(self.ship, 0)) \
            if any(has_ship) else self.raw
        for p, s in enumerate(series.values()):  # share memory with the history
            lo, hi = int(self.start[p]), int(self.stop[p])
            s.t, s.v = self.t[lo:hi], self.raw[lo:hi]
            if s.ship is not None:
                s.ship = self.ship[lo:hi]
        self.base = int(self.t.min()) if n else 0
        row = np.repeat(np.arange(len(lens), dtype=np.int64), lens)
        t64 = self.t.astype(np.int64)
        self.key = row * _SPAN + (t64 - self.base)
        dur = np.zeros(n, dtype=np.int64)
        dur[:-1] = t64[1:] - t64[:-1]
        dur[self.stop[lens > 0] - 1] = 0  # last point of each series: open segment
        vd = np.where(self.v >= 0, dur, 0)
        self.cum_vd = np.concatenate(([0], np.cumsum(vd)))
        self.cum_vv = np.concatenate(([0], np.cumsum(vd * np.maximum(self.v, 0).astype(np.int64))))

    def _seg(self, rows: np.ndarray, x: np.ndarray) -> np.ndarray:
        """Global index of the segment of series `rows` holding time x (x >= its first time)."""
        return np.searchsorted(self.key, rows * _SPAN + (x - self.base), side="right") - 1

    def view(self, pos: np.ndarray, at: int, days: int | None) -> tuple[np.ndarray, np.ndarray]:
        """[a, b) index ranges of each series cut at `at` (and to the last `days` days)."""
        start = self.start[pos]
        if days is None:
            b = self._seg(pos, at) + 1
        else:
            kb = self._seg(np.concatenate((pos, pos)), np.concatenate((
                np.full(len(pos), at), np.full(len(pos), at - days * DAY))))
            b, k = kb[:len(pos)] + 1, kb[len(pos):]
        b = np.maximum(b, start)  # series starting after `at`: empty
        if days is None:
            return start, b
        return np.where((b - start > 1) & (k > start), np.minimum(k, b - 1), start), b

    def csv(self, p: int, a: int, b: int) -> list[int]:
        """Keepa's flat [t, v, (ship,) ...] list for rows a..b of series p."""
        w = self.width[p]
        out = np.empty((b - a, w), dtype=np.int64)
        out[:, 0], out[:, 1] = self.t[a:b], self.raw[a:b]
        if w == 3:
            out[:, 2] = self.ship[a:b]
        return out.ravel().tolist()

    def _avg_oos(self, lo: np.ndarray, k: np.ndarray, last: np.ndarray, now: int,
                 ) -> tuple[np.ndarray, np.ndarray]:
        """Time-weighted average of valid values and out-of-stock % from each window start
        `lo` (in segment `k`) to `now` (series ending at index `last`): F(now) - F(lo)."""
        t, v = self.t, self.v
        part = lo - t[k]
        vk = v[k].astype(np.int64)
        kv = vk >= 0
        fvd = self.cum_vd[k] + np.where(kv, part, 0)
        fvv = self.cum_vv[k] + np.where(kv, part * np.maximum(vk, 0), 0)
        vl = v[last].astype(np.int64)
        lv = (vl >= 0)[:, None]
        tail = (now - t[last].astype(np.int64))[:, None]
        end_vd = self.cum_vd[last][:, None] + np.where(lv, tail, 0)
        end_vv = self.cum_vv[last][:, None] + np.where(lv, tail * np.maximum(vl, 0)[:, None], 0)
        tot = now - lo
        tot_valid = end_vd - fvd
        tot_vv = end_vv - fvv
        has = tot_valid > 0
        avg = np.floor(np.where(has, tot_vv / np.where(has, tot_valid, 1), -1))
        oo = np.where(tot > 0, np.round(100 * (tot - tot_valid) / np.where(tot > 0, tot, 1)), -1)
        return avg.astype(np.int64), oo.astype(np.int64)

    def window_avgs(self, pos: np.ndarray, a: np.ndarray, b: np.ndarray, now: int,
                    days: np.ndarray) -> np.ndarray:
        """(series x windows) averages, like `_window(...)[0]` per series; rows need b > a."""
        lo = np.maximum(now - days[None, :] * DAY, self.t[a][:, None])
        k = np.searchsorted(self.key, (pos[:, None] * _SPAN + (lo - self.base)).ravel(),
                            side="right").reshape(lo.shape) - 1
        return self._avg_oos(lo, k, b - 1, now)[0]

    def stats(self, ids: list[int], pos: np.ndarray, a: np.ndarray, b: np.ndarray, now: int,
              interval_days: int, extra: dict[str, Any]) -> dict[str, Any]:
        """Same result as compute_stats on the same view (ids[r] is row r's csv index)."""
        live = b > a
        ids_arr = np.asarray(ids, dtype=np.int64)[live]
        pos, a, b = pos[live], a[live], b[live]
        m = len(ids_arr)
        nw = len(WINDOWS) + 1
        full = np.full((2 * nw + 2, N_TYPES), -1, dtype=np.int64)  # avgs, oos, cur, atStart
        mins: list[list[int] | None] = [None] * N_TYPES
        maxs: list[list[int] | None] = [None] * N_TYPES
        min_i: list[list[int] | None] = [None] * N_TYPES
        max_i: list[list[int] | None] = [None] * N_TYPES
        drops: dict[str, int] = {}
        t, v = self.t, self.v
        if m:
            last = b - 1
            days = np.array([*WINDOWS, interval_days], dtype=np.int64)
            # segment holding each window start, for all series and windows at once
            lo = np.maximum(now - days[None, :] * DAY, t[a][:, None])  # (m, nw)
            raw_i = now - interval_days * DAY
            # segments holding each window start and the interval start; first point at or
            # after the interval start
            kk = np.searchsorted(self.key, np.concatenate((
                (pos[:, None] * _SPAN + (lo - self.base)).ravel(),
                pos * _SPAN + (raw_i - self.base))), side="right") - 1
            k, seg0 = kk[:m * nw].reshape(m, nw), kk[m * nw:]
            k_int = np.searchsorted(self.key, pos * _SPAN + (raw_i - self.base), side="left")
            avg, oo = self._avg_oos(lo, k, last, now)
            vl = v[last]
            full[:nw, ids_arr] = avg.T
            price = _IS_PRICE[ids_arr]
            full[nw:2 * nw, ids_arr[price]] = oo[price].T
            full[2 * nw, ids_arr] = vl
            # value at the interval start (-1 if the view begins later): the segment holding
            # raw_i is the one before the first point after it
            full[2 * nw + 1, ids_arr] = np.where(raw_i < t[a], -1, v[np.maximum(seg0, a)])
            # extremes over the view and over the interval: first occurrence like np.argmin,
            # via (value, index) packed into one int64
            ai = np.maximum(a, k_int)
            lo_b, hi_b = int(a.min()), int(b.max())
            vv = v[lo_b:hi_b].astype(np.int64)
            j = np.arange(lo_b, hi_b, dtype=np.int64)
            ok = vv >= 0
            enc_min = np.append(np.where(ok, (vv << _POS_BITS) | j, _BIG), 0)
            enc_max = np.append(np.where(ok, (vv << _POS_BITS) | (_POS_MASK - j), -1), 0)
            bounds = np.empty(4 * m, dtype=np.int64)
            bounds[0::4], bounds[1::4], bounds[2::4], bounds[3::4] = a, b, ai, np.maximum(ai, b)
            bounds -= lo_b
            emin = np.minimum.reduceat(enc_min, bounds)[::2].reshape(m, 2)
            emax = np.maximum.reduceat(enc_max, bounds)[::2].reshape(m, 2)
            found = (emin != _BIG) & (emax >= 0)
            found[:, 1] &= ai < b
            jmin = np.where(found, emin & _POS_MASK, 0)
            jmax = np.where(found, _POS_MASK - (emax & _POS_MASK), 0)
            pairs = np.stack([t[jmin], v[jmin], t[jmax], v[jmax]], axis=-1).tolist()
            for idx, ok_r, pr in zip(ids_arr.tolist(), found.tolist(), pairs, strict=True):
                if ok_r[0]:
                    w = pr[0]
                    mins[idx], maxs[idx] = w[:2], w[2:]
                if ok_r[1]:
                    w = pr[1]
                    min_i[idx], max_i[idx] = w[:2], w[2:]
        rows = ids_arr.tolist()
        r = rows.index(SALES) if SALES in rows else -1
        if r < 0 or b[r] - a[r] < 2:
            drops = {f"salesRankDrops{w}": -1 for w in WINDOWS}
        else:
            ra, rb = int(a[r]), int(b[r])
            rt, rv = t[ra:rb].astype(np.int64), v[ra:rb]
            dec = (rv[1:] < rv[:-1]) & (rv[1:] >= 0) & (rv[:-1] >= 0)
            cum = np.concatenate(([0], np.cumsum(dec[::-1])))  # drops at/after each point
            first = np.searchsorted(rt[1:], now - np.array(WINDOWS) * DAY, side="left")
            counts = cum[len(dec) - first].tolist()
            drops = {f"salesRankDrops{w}": c for w, c in zip(WINDOWS, counts, strict=True)}
        fl = full.tolist()
        avgs = dict(zip((*WINDOWS, "interval"), fl[:nw], strict=True))
        oos = dict(zip((*WINDOWS, "interval"), fl[nw:2 * nw], strict=True))
        return _assemble(fl[2 * nw], avgs, oos, fl[2 * nw + 1], mins, maxs, min_i, max_i,
                         drops, extra)

