"""Keepa's `stats` object computed from histories the way Keepa defines it.

Averages are time-weighted over the window, ignoring periods without an offer (-1);
out-of-stock percentages are the share of the window at -1; `min`/`max` are
[keepaTime, value] over the whole history, `*InInterval` over the requested `stats` days;
salesRankDrops count rank improvements in the window.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from tools.keepa import conventions as kc
from tools.sandbox.keepa.series import DAY, DT_BITS, N_SLOTS, SALES, WIDTH, Series

N_TYPES = kc.CSV_SLOTS
PRICE_TYPES = kc.PRICE_SLOTS  # the types with out-of-stock percentages
WINDOWS = (30, 90, 180, 365)
_Ints = Sequence[int] | np.ndarray  # a row of per-type values: a list, or a numpy row (arrays=True)


def _window(
    t: np.ndarray,
    v: np.ndarray,
    now: int,
    days: np.ndarray,
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


def compute_stats(
    series: dict[int, Series], now: int, interval_days: int, extra: dict[str, Any]
) -> dict[str, Any]:
    """`series` must already be cut at `now`; `extra` supplies offer/buy-box fields."""
    days = np.array([*WINDOWS, interval_days])
    cur = [-1] * N_TYPES
    keys: tuple[int | str, ...] = (*WINDOWS, "interval")
    avgs = {w: [-1] * N_TYPES for w in keys}
    oos = {w: [-1] * N_TYPES for w in keys}
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
        for j, w in enumerate(keys):
            avgs[w][idx] = int(avg[j])
            if idx in PRICE_TYPES:
                oos[w][idx] = int(oo[j])
        at_start[idx] = int(st[-1])
        mins[idx], maxs[idx], min_i[idx], max_i[idx] = _extremes(s.t, v, lo_interval)
    drops: list[int] = []
    rank = series.get(SALES)
    for w in WINDOWS:
        if rank is None or len(rank.t) < 2:
            drops.append(-1)
            continue
        dec = (rank.v[1:] < rank.v[:-1]) & (rank.v[1:] >= 0) & (rank.v[:-1] >= 0)
        drops.append(int((dec & (rank.t[1:] >= now - w * DAY)).sum()))
    return _assemble(
        cur,
        [avgs[w] for w in keys],
        [oos[w] for w in keys],
        at_start,
        mins,
        maxs,
        min_i,
        max_i,
        drops,
        extra,
    )


def _assemble(
    cur: _Ints,
    avgs: Sequence[_Ints],
    oos: Sequence[_Ints],
    at_start: _Ints,
    mins: list[Any],
    maxs: list[Any],
    min_i: list[Any],
    max_i: list[Any],
    drops: Sequence[int],
    extra: dict[str, Any],
    lowest: tuple[Any, Any] | None = None,
    total: int | None = None,
) -> dict[str, Any]:
    """The stats object in Keepa's key order (sorted), from per-type arrays.

    `avgs`/`oos`: per window in (*WINDOWS, interval) order; `drops`: per WINDOWS entry;
    `lowest` (isLowest, isLowest90) and `total` (totalOfferCount) when the caller has them.
    """
    if lowest is None:
        lowest = (
            [bool(c >= 0 and mins[i] is not None and c <= mins[i][1]) for i, c in enumerate(cur)],
            [bool(c >= 0 and avgs[1][i] >= 0 and c <= avgs[1][i] * 0.9) for i, c in enumerate(cur)],
        )
    if total is None:
        total = max(0, cur[11]) + max(0, cur[12])
    stats: dict[str, Any] = {  # keys in sorted order
        "atIntervalStart": at_start,
        "avg": avgs[4],
        "avg180": avgs[2],
        "avg30": avgs[0],
        "avg365": avgs[3],
        "avg90": avgs[1],
        "buyBoxAvailabilityMessage": None,
        "buyBoxCondition": None,
        "buyBoxIsAmazon": None,
        "buyBoxIsBackorder": None,
        "buyBoxIsFBA": None,
        "buyBoxIsFreeShippingEligible": None,
        "buyBoxIsMAP": None,
        "buyBoxIsPreorder": None,
        "buyBoxIsPrimeEligible": None,
        "buyBoxIsPrimeExclusive": None,
        "buyBoxIsShippable": None,
        "buyBoxIsUnqualified": None,
        "buyBoxIsUsed": None,
        "buyBoxIsWarehouseDeal": None,
        "buyBoxPrice": -2,
        "buyBoxSellerId": None,
        "buyBoxShipping": -2,
        "buyBoxShippingCountry": None,
        "current": cur,
        "deltaPercent90_monthlySold": 0,
        "isLowest": lowest[0],
        "isLowest90": lowest[1],
        "lastBuyBoxUpdate": None,
        "lastOffersUpdate": None,
        "lightningDealInfo": None,
        "max": maxs,
        "maxInInterval": max_i,
        "min": mins,
        "minInInterval": min_i,
        "offerCountFBA": -2,
        "offerCountFBM": -2,
        "outOfStockCountAmazon30": 0,
        "outOfStockCountAmazon90": 0,
        "outOfStockPercentage180": oos[2],
        "outOfStockPercentage30": oos[0],
        "outOfStockPercentage365": oos[3],
        "outOfStockPercentage90": oos[1],
        "outOfStockPercentageInInterval": oos[4],
        "retrievedOfferCount": -2,
        "salesRankDrops180": drops[2],
        "salesRankDrops30": drops[0],
        "salesRankDrops365": drops[3],
        "salesRankDrops90": drops[1],
        "sellerIdsLowestFBA": None,
        "sellerIdsLowestFBM": None,
        "totalOfferCount": total,
        "tradeInPrice": -2,
    }
    if extra:
        stats.update(extra)
        if not extra.keys() <= _STATS_KEYS:  # a key Keepa sorts in between: re-sort
            stats = dict(sorted(stats.items()))
    return stats


_STATS_KEYS = frozenset(
    _assemble(
        [0] * N_TYPES,
        [[0] * N_TYPES] * 5,
        [[0] * N_TYPES] * 5,
        [0] * N_TYPES,
        [None] * N_TYPES,
        [None] * N_TYPES,
        [None] * N_TYPES,
        [None] * N_TYPES,
        [0] * 4,
        {},
    )
)
assert WINDOWS == (30, 90, 180, 365)  # _assemble's positions


# ---- the fast path ---------------------------------------------------------------------------
# compute_stats above is the readable definition (and the reference in the tests); per series it
# makes ~25 small numpy calls (~8 ms a product). SeriesTable puts a request's products' series in
# flat arrays with prefix integrals, so any cut `at` / window is a difference of two integrals,
# found for every series of every product at once: one pass of numpy calls per request, not per
# product. Integer arithmetic keeps it exact.

_BIG = np.int64(1) << 62
_IS_PRICE = np.zeros(N_TYPES, dtype=bool)
_IS_PRICE[sorted(PRICE_TYPES)] = True
_POS_BITS = 24  # index bits in the encoded (value, index) keys for first-occurrence min/max
_POS_MASK = (1 << _POS_BITS) - 1
_DEFAULT_DROPS = [-1] * len(WINDOWS)

_ARRAYS = ("t", "raw", "ship", "v", "key", "cum_vd", "cum_vv", "csv_flat")


class SeriesTable:
    """Products' series in flat arrays; row p * N_SLOTS + s is product p's slot s (SLOTS).

    Holds the points (t, raw, ship: int32) and what every request needs from them: totals with
    shipping, search keys (row, minute), exclusive prefix integrals and Keepa's csv layout.
    A request's table is built from cached per-product tables by concatenation (one copy),
    a batch of new products' table in one vectorized pass, then split per product.
    """

    __slots__ = (
        "cstart",
        "csv_flat",
        "cum_vd",
        "cum_vv",
        "key",
        "lens",
        "n_rows",
        "raw",
        "ship",
        "start",
        "stop",
        "t",
        "t0",
        "v",
    )

    def __init__(
        self,
        t: np.ndarray,
        raw: np.ndarray,
        ship: np.ndarray,
        start: np.ndarray,
        t0: int,
        derived: dict[str, np.ndarray] | None = None,
    ) -> None:
        self.t, self.raw, self.ship, self.t0 = t, raw, ship, t0
        n = len(t)
        self.start = start.astype(np.int64, copy=False)
        self.stop = np.append(self.start[1:], n)
        self.lens = self.stop - self.start
        self.n_rows = len(start)
        if derived is not None:
            for name, arr in derived.items():
                setattr(self, name, arr)
            return
        row = np.repeat(np.arange(self.n_rows, dtype=np.int64), self.lens)
        self.v = np.where(raw < 0, raw, raw + np.maximum(ship, 0))  # totals, like Keepa's stats
        t64 = t.astype(np.int64)
        self.key = (row << DT_BITS) | (t64 - t0)
        dur = np.zeros(n, dtype=np.int64)
        dur[:-1] = t64[1:] - t64[:-1]
        dur[self.stop[self.lens > 0] - 1] = 0  # last point of each row: open segment
        vd = np.where(self.v >= 0, dur, 0)
        vv = vd * np.maximum(self.v, 0)
        self.cum_vd = np.cumsum(vd) - vd  # exclusive prefix sums: F(k) = sum before point k
        self.cum_vv = np.cumsum(vv) - vv
        self.csv_flat: np.ndarray | None = None  # built on the first history request
        self.cstart: np.ndarray | None = None

    def ensure_csv(self) -> None:
        """Keepa's csv layout of every row: [t, v, (ship,) ...] back to back (int32)."""
        if self.csv_flat is not None:
            return
        width = WIDTH[np.arange(self.n_rows) % N_SLOTS]
        self.cstart = np.cumsum(width * self.lens) - width * self.lens
        w = np.repeat(width, self.lens)
        pos = np.cumsum(w) - w
        flat = np.empty(int((width * self.lens).sum()), dtype=np.int32)
        flat[pos] = self.t
        flat[pos + 1] = self.raw
        tri = w == 3
        flat[pos[tri] + 2] = self.ship[tri]
        self.csv_flat = flat

    @classmethod
    def concat(cls, tables: list[SeriesTable]) -> SeriesTable:
        """One table over several products' tables (product p = tables[p]), one copy."""
        if len(tables) == 1:
            return tables[0]
        n_pts = np.array([len(x.t) for x in tables])
        off = np.cumsum(n_pts) - n_pts
        rows = np.array([x.n_rows for x in tables])
        row_off = np.cumsum(rows) - rows
        d: dict[str, Any] = {
            name: np.concatenate([getattr(x, name) for x in tables]) for name in _ARRAYS[3:7]
        }
        d["key"] += np.repeat(row_off << DT_BITS, n_pts)
        d["csv_flat"] = d["cstart"] = None
        if all(x.csv_flat is not None for x in tables):  # else built when needed
            n_csv = np.array([len(x.csv_flat) for x in tables])  # type: ignore[arg-type]
            c_off = np.cumsum(n_csv) - n_csv
            d["csv_flat"] = np.concatenate([x.csv_flat for x in tables])
            d["cstart"] = np.concatenate([x.cstart + o for x, o in zip(tables, c_off, strict=True)])
        start = np.concatenate([x.start + o for x, o in zip(tables, off, strict=True)])
        return cls(
            np.concatenate([x.t for x in tables]),
            np.concatenate([x.raw for x in tables]),
            np.concatenate([x.ship for x in tables]),
            start,
            tables[0].t0,
            d,
        )

    def split(self) -> list[SeriesTable]:
        """Per-product tables (copies, so one cached product does not pin a whole batch)."""
        out = []
        for p in range(self.n_rows // N_SLOTS):
            r0, r1 = p * N_SLOTS, (p + 1) * N_SLOTS
            lo = int(self.start[r0])
            hi = int(self.stop[r1 - 1])
            sl = slice(lo, hi)
            d: dict[str, Any] = {
                "v": self.v[sl].copy(),
                "key": self.key[sl] - (r0 << DT_BITS),
                "cum_vd": self.cum_vd[sl] - (self.cum_vd[lo] if hi > lo else 0),
                "cum_vv": self.cum_vv[sl] - (self.cum_vv[lo] if hi > lo else 0),
                "csv_flat": None,
                "cstart": None,
            }
            if self.csv_flat is not None and self.cstart is not None:
                c_lo = int(self.cstart[r0])
                c_hi = int(self.cstart[r1 - 1] + self.lens[r1 - 1] * WIDTH[N_SLOTS - 1])
                d["csv_flat"] = self.csv_flat[c_lo:c_hi].copy()
                d["cstart"] = self.cstart[r0:r1] - c_lo
            out.append(
                SeriesTable(
                    self.t[sl].copy(),
                    self.raw[sl].copy(),
                    self.ship[sl].copy(),
                    self.start[r0:r1] - lo,
                    self.t0,
                    d,
                )
            )
        return out

    @property
    def nbytes(self) -> int:
        return sum(x.nbytes for name in _ARRAYS if (x := getattr(self, name)) is not None)

    def _seg(self, rows: np.ndarray, x: np.ndarray) -> np.ndarray:
        """Index of the point of row `rows` holding time x (before the row's start: none)."""
        k: np.ndarray = (
            np.searchsorted(self.key, (rows << DT_BITS) + (x - self.t0), side="right") - 1
        )
        return k

    def view(
        self,
        rows: np.ndarray,
        at: np.ndarray,
        days: int | None,
    ) -> tuple[np.ndarray, np.ndarray]:
        """[a, b) point ranges of rows cut at `at` (per row) and to the last `days` days."""
        start = self.start[rows]
        if days is None:
            return start, np.maximum(self._seg(rows, at) + 1, start)
        m = len(rows)
        kb = self._seg(np.concatenate((rows, rows)), np.concatenate((at, at - days * DAY)))
        b, k = np.maximum(kb[:m] + 1, start), kb[m:]
        return np.where((b - start > 1) & (k > start), np.minimum(k, b - 1), start), b

    def csv(self, rows: np.ndarray, a: np.ndarray, b: np.ndarray) -> list[np.ndarray]:
        """Keepa's flat [t, v, (ship,) ...] of points [a, b) of each row (int32 views)."""
        if self.csv_flat is None or self.cstart is None:
            self.ensure_csv()
        w = WIDTH[rows % N_SLOTS]
        lo = self.cstart[rows] + (a - self.start[rows]) * w  # type: ignore[index]
        hi = lo + (b - a) * w
        flat: np.ndarray = self.csv_flat  # type: ignore[assignment]
        return [flat[x:y] for x, y in zip(lo.tolist(), hi.tolist(), strict=True)]

    def _avg_oos(
        self,
        lo: np.ndarray,
        k: np.ndarray,
        last: np.ndarray,
        now: np.ndarray,
    ) -> tuple[np.ndarray, np.ndarray]:
        """Time-weighted average of valid values and out-of-stock % from each window start
        `lo` (in point k) to `now` (rows ending at point `last`): F(now) - F(lo)."""
        t, v = self.t, self.v
        part = lo - t[k]
        vk = v[k].astype(np.int64)
        kv = vk >= 0
        fvd = self.cum_vd[k] + np.where(kv, part, 0)
        fvv = self.cum_vv[k] + np.where(kv, part * np.maximum(vk, 0), 0)
        vl = v[last].astype(np.int64)
        lv = (vl >= 0)[:, None]
        tail = (now - t[last])[:, None]
        end_vd = self.cum_vd[last][:, None] + np.where(lv, tail, 0)
        end_vv = self.cum_vv[last][:, None] + np.where(lv, tail * np.maximum(vl, 0)[:, None], 0)
        tot = now[:, None] - lo
        tot_valid = end_vd - fvd
        tot_vv = end_vv - fvv
        has = tot_valid > 0
        avg = np.floor(np.where(has, tot_vv / np.where(has, tot_valid, 1), -1))
        oo = np.where(tot > 0, np.round(100 * (tot - tot_valid) / np.where(tot > 0, tot, 1)), -1)
        return avg.astype(np.int64), oo.astype(np.int64)

    def window_avgs(
        self, rows: np.ndarray, a: np.ndarray, b: np.ndarray, now: np.ndarray, days: np.ndarray
    ) -> np.ndarray:
        """(rows x windows) averages, like `_window(...)[0]` per series; rows need b > a."""
        lo = np.maximum(now[:, None] - days[None, :] * DAY, self.t[a][:, None])
        k = (
            np.searchsorted(
                self.key, ((rows << DT_BITS)[:, None] + (lo - self.t0)).ravel(), side="right"
            ).reshape(lo.shape)
            - 1
        )
        return self._avg_oos(lo, k, b - 1, now)[0]

    def stats(
        self,
        g: np.ndarray,
        ids: np.ndarray,
        rows: np.ndarray,
        a: np.ndarray,
        b: np.ndarray,
        at: np.ndarray,
        interval_days: int,
        extras: list[dict[str, Any]],
        arrays: bool = False,
    ) -> list[dict[str, Any]]:
        """Keepa stats objects, one per product: the same as compute_stats on each view.

        `arrays=True`: the per-type arrays are numpy views (for orjson) instead of lists: ~14
        fewer live Python containers per product (every live container brings the next full
        garbage collection closer: ~0.1 s in a process that imported keepa and pandas). The
        [time, value] pairs stay lists (a numpy view costs ~1 us to make, a list ~0.1 us).

        View row r is csv type ids[r] of product g[r], table row rows[r], points [a, b);
        product p is seen at `at[p]` with `extras[p]` (offer/buy-box fields).
        """
        n_p = len(at)
        live = b > a
        g, ids, rows, a, b = g[live], ids[live], rows[live], a[live], b[live]
        m = len(rows)
        nw = len(WINDOWS) + 1
        n_f = 2 * nw + 2  # avgs, out-of-stock %, current, atIntervalStart
        full = np.full((n_p * N_TYPES, n_f), -1, dtype=np.int64)
        mins: list[list[Any]] = [[None] * N_TYPES for _ in range(n_p)]
        maxs: list[list[Any]] = [[None] * N_TYPES for _ in range(n_p)]
        min_i: list[list[Any]] = [[None] * N_TYPES for _ in range(n_p)]
        max_i: list[list[Any]] = [[None] * N_TYPES for _ in range(n_p)]
        drops: list[list[int]] = [_DEFAULT_DROPS] * n_p
        t, v, t0 = self.t, self.v, self.t0
        if m:
            now = at[g]
            cell = g * N_TYPES + ids
            last = b - 1
            days = np.array([*WINDOWS, interval_days], dtype=np.int64)
            lo = np.maximum(now[:, None] - days[None, :] * DAY, t[a][:, None])  # (m, nw)
            raw_i = now - interval_days * DAY
            rk = rows << DT_BITS
            # points holding each window start and the interval start; first point at or after
            # the interval start
            kk = (
                np.searchsorted(
                    self.key,
                    np.concatenate(((rk[:, None] + (lo - t0)).ravel(), rk + (raw_i - t0))),
                    side="right",
                )
                - 1
            )
            k, seg0 = kk[: m * nw].reshape(m, nw), kk[m * nw :]
            k_int = np.searchsorted(self.key, rk + (raw_i - t0), side="left")
            avg, oo = self._avg_oos(lo, k, last, now)
            full[cell, :nw] = avg
            price = _IS_PRICE[ids]
            full[cell[price], nw : 2 * nw] = oo[price]
            full[cell, 2 * nw] = v[last]
            # value at the interval start (-1 if the view begins later)
            full[cell, 2 * nw + 1] = np.where(raw_i < t[a], -1, v[np.maximum(seg0, a)])
            # extremes over the view and over the interval: first occurrence like np.argmin,
            # via (value, index) packed into one int64
            ai = np.maximum(a, k_int)
            lo_b, hi_b = int(a.min()), int(b.max())
            vv = v[lo_b:hi_b].astype(np.int64)
            j = np.arange(hi_b - lo_b, dtype=np.int64)
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
            jmin = np.where(found, (emin & _POS_MASK) + lo_b, 0)
            jmax = np.where(found, _POS_MASK - (emax & _POS_MASK) + lo_b, 0)
            min_v = np.full(n_p * N_TYPES, _BIG, dtype=np.int64)
            min_v[cell[found[:, 0]]] = v[jmin[:, 0][found[:, 0]]]
            # per row: [min, max, minInInterval, maxInInterval] as [time, value] lists
            quads = (
                np.stack(
                    [
                        t[jmin[:, 0]],
                        v[jmin[:, 0]],
                        t[jmax[:, 0]],
                        v[jmax[:, 0]],
                        t[jmin[:, 1]],
                        v[jmin[:, 1]],
                        t[jmax[:, 1]],
                        v[jmax[:, 1]],
                    ],
                    axis=1,
                )
                .reshape(m, 4, 2)
                .tolist()
            )
            for p, idx, f0, f1, q in zip(
                g.tolist(),
                ids.tolist(),
                found[:, 0].tolist(),
                found[:, 1].tolist(),
                quads,
                strict=True,
            ):
                if f0:
                    mins[p][idx], maxs[p][idx] = q[0], q[1]
                if f1:
                    min_i[p][idx], max_i[p][idx] = q[2], q[3]
            # salesRankDrops: rank improvements among the view's points in each window
            sel = np.flatnonzero((ids == SALES) & (b - a >= 2))
            if len(sel):
                # dec[x]: rank improvements at points lo_b + 1 .. lo_b + x - 1
                dec = np.zeros(hi_b - lo_b + 1, dtype=np.int64)
                np.cumsum((vv[1:] < vv[:-1]) & (vv[1:] >= 0) & (vv[:-1] >= 0), out=dec[2:])
                wins = np.array(WINDOWS, dtype=np.int64)
                ra, rb = a[sel], b[sel]
                first = np.searchsorted(
                    self.key,
                    (rk[sel][:, None] + (now[sel][:, None] - wins[None, :] * DAY - t0)),
                    side="left",
                )
                s = np.maximum(first, (ra + 1)[:, None]) - lo_b
                e = np.broadcast_to((rb - lo_b)[:, None], s.shape)
                counts = np.where(
                    s < e, dec[np.minimum(e, len(dec) - 1)] - dec[np.minimum(s, len(dec) - 1)], 0
                )
                for p, cnt in zip(g[sel].tolist(), counts.tolist(), strict=True):
                    drops[p] = cnt
        cur = full[:, 2 * nw]
        avg90 = full[:, WINDOWS.index(90)]
        low = (cur >= 0) & (cur <= min_v) if m else np.zeros(len(cur), dtype=bool)
        low90 = (cur >= 0) & (avg90 >= 0) & (cur <= avg90 * 0.9)
        cur2 = cur.reshape(n_p, N_TYPES)
        totals = (np.maximum(cur2[:, 11], 0) + np.maximum(cur2[:, 12], 0)).tolist()
        # one row (36 values) per product and field: numpy views made in one C-level
        # iteration, or lists
        lows = np.ascontiguousarray(
            np.stack([low, low90]).reshape(2, n_p, N_TYPES).transpose(1, 0, 2)
        ).reshape(2 * n_p, N_TYPES)
        fl = np.ascontiguousarray(full.reshape(n_p, N_TYPES, n_f).transpose(0, 2, 1)).reshape(
            n_p * n_f, N_TYPES
        )
        lw, rw = (list(lows), list(fl)) if arrays else (lows.tolist(), fl.tolist())
        out = []
        for p in range(n_p):
            f = rw[p * n_f : (p + 1) * n_f]
            out.append(
                _assemble(
                    f[2 * nw],
                    f[:nw],
                    f[nw : 2 * nw],
                    f[2 * nw + 1],
                    mins[p],
                    maxs[p],
                    min_i[p],
                    max_i[p],
                    drops[p],
                    extras[p],
                    (lw[2 * p], lw[2 * p + 1]),
                    totals[p],
                )
            )
        return out
