"""One product's full price/rank/offer history, generated deterministically from its row.

The history spans the whole market timeline (past and future) in one pass seeded by
(market seed, product index), so the product seen at any market time is a prefix of the same
timeline: time passing is what makes prices move, items sell and deals appear.
Sales show up as Keepa shows them: the used offer count drops, then the sales rank drops a few
hours later.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from tools.keepa.sandbox.catalog import BOOK_KINDS, PRICE_SEASON, SEASON, Catalog

DAY = 1440  # minutes
AMAZON, NEW, USED, SALES, LISTPRICE = 0, 1, 2, 3, 4
NEW_FBA, COUNT_NEW, COUNT_USED, RATING, COUNT_REVIEWS = 10, 11, 12, 16, 17
BUY_BOX_SHIPPING, USED_NEW, USED_VG, USED_GOOD, USED_ACC, BUY_BOX_USED = 18, 19, 20, 21, 22, 32
TRIPLETS = frozenset({7, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 32})
COND_MULT = {USED_NEW: 1.32, USED_VG: 1.18, USED_GOOD: 1.08, USED_ACC: 1.0}


@dataclass
class Series:
    """A step function in Keepa minutes; `ship` only for *_SHIPPING types."""

    t: np.ndarray
    v: np.ndarray
    ship: np.ndarray | None = None

    def upto(self, now: int) -> Series:
        k = int(np.searchsorted(self.t, now, side="right"))
        return Series(self.t[:k], self.v[:k], None if self.ship is None else self.ship[:k])

    def total(self) -> np.ndarray:
        """Values with shipping added (what Keepa's stats use for *_SHIPPING types)."""
        if self.ship is None:
            return self.v
        return np.where(self.v < 0, self.v, self.v + np.maximum(self.ship, 0))

    def to_csv(self) -> list[int]:
        cols = (self.t, self.v) if self.ship is None else (self.t, self.v, self.ship)
        return np.column_stack(cols).ravel().tolist()


@dataclass
class History:
    t0: int  # trackingSince (Keepa minutes)
    series: dict[int, Series]
    sale_t: np.ndarray  # true sale times (for tests and simulations)
    used_ship: int  # cents added by merchant-fulfilled used offers


def _unique(x: np.ndarray) -> np.ndarray:
    """np.unique for 1-D integers without its hashing path (~10x faster on these sizes)."""
    x = np.sort(x)
    if len(x) < 2:
        return x
    keep = np.empty(len(x), dtype=bool)
    keep[0] = True
    np.not_equal(x[1:], x[:-1], out=keep[1:])
    return x[keep]


def _compress(t: np.ndarray, v: np.ndarray, ship: np.ndarray | None = None) -> Series:
    """Sort, drop repeated values (Keepa stores changes only) and duplicate times."""
    if len(t) > 1 and (t[1:] < t[:-1]).any():  # callers mostly pass sorted times already
        order = np.argsort(t, kind="stable")
        t, v = t[order], v[order]
        ship = None if ship is None else ship[order]
    if len(t) > 1:  # several events in one minute: the last one wins
        last = np.empty(len(t), dtype=bool)
        np.not_equal(t[1:], t[:-1], out=last[:-1])
        last[-1] = True
        if not last.all():
            t, v = t[last], v[last]
            ship = None if ship is None else ship[last]
    keep = np.ones(len(t), dtype=bool)
    if len(t) > 1:
        same = v[1:] == v[:-1]
        if ship is not None:
            same &= ship[1:] == ship[:-1]
        np.logical_not(same, out=keep[1:])
    if keep.all():
        return Series(t.astype(np.int64, copy=False), v.astype(np.int64, copy=False),
                      None if ship is None else ship.astype(np.int64, copy=False))
    return Series(t[keep].astype(np.int64, copy=False), v[keep].astype(np.int64, copy=False),
                  None if ship is None else ship[keep].astype(np.int64, copy=False))


def generate(cat: Catalog, i: int, t0: int, days: int, month_of_day: np.ndarray,
             start_day: float) -> History:
    """Build product i's history over `days` days from Keepa minute `t0`.

    `month_of_day[d]` is the calendar month (0-11) of day d; `start_day` is the catalog's day
    zero (dip schedules are defined relative to it).
    """
    rng = np.random.default_rng([cat.seed, i, 1])
    k = int(cat.kind[i])
    book = k in BOOK_KINDS
    t_end = t0 + days * DAY
    day_idx = np.arange(days)
    months = month_of_day[:days]

    # sales: Poisson per day with the kind's seasonality, at a random minute of the day
    rate = min(float(cat.velocity[i]), 4.0) * SEASON[k][months]
    n_sales = rng.poisson(rate)
    sale_t = np.sort(t0 + np.repeat(day_idx, n_sales) * DAY
                     + rng.integers(0, DAY, int(n_sales.sum())))
    # each sale removes an offer; a new one arrives after a few days
    arr_t = sale_t + (rng.exponential(4.0, len(sale_t)) * DAY).astype(np.int64)
    # sellers also leave and come back; enough stock that sales rarely empty the shelf
    churn = max(1, days // 20)
    leave_t = t0 + rng.integers(0, days * DAY, churn)
    back_t = leave_t + (rng.exponential(10.0, churn) * DAY).astype(np.int64)
    stock = int(cat.used_count[i]) + int(np.ceil(rate.max() * 4 * 2)) + 1
    ev_t = np.concatenate([[t0], sale_t, arr_t, leave_t, back_t])
    ev_d = np.concatenate([[stock], -np.ones(len(sale_t), np.int64),
                           np.ones(len(arr_t), np.int64), -np.ones(churn, np.int64),
                           np.ones(churn, np.int64)])
    order = np.argsort(ev_t, kind="stable")
    ev_t = ev_t[order]
    count = np.maximum(0, np.cumsum(ev_d[order]))
    used_count = _compress(ev_t, count)

    # lowest used price: re-priced every few days, at every sale and arrival, and in dips
    chg_t = t0 + np.sort(rng.integers(0, days * DAY, max(2, days // 7)))
    p_t = _unique(np.concatenate([[t0], chg_t, sale_t + 1]))
    p_t = p_t[p_t < t_end]
    p_day = (p_t - t0) // DAY
    noise = np.exp(rng.normal(0, 0.08, len(p_t)))
    in_dip = _in_dip(cat, i, p_day + (t0 // DAY) - start_day)
    base = float(cat.base_used[i]) * PRICE_SEASON[k][month_of_day[p_day]] * noise
    base = np.where(in_dip, base * (1 - float(cat.dip_depth[i])), base)
    n_at = used_count.v[np.searchsorted(used_count.t, p_t, side="right") - 1]
    used = np.where(n_at > 0, np.round(base / 10) * 10 - 1, -1).astype(np.int64)
    used_ship = 0 if rng.random() < 0.35 else 399
    series: dict[int, Series] = {USED: _compress(p_t, used), COUNT_USED: used_count}
    present = rng.random(len(COND_MULT)) < np.array([0.5, 0.6, 0.8, 1.0])
    for (idx, mult), here in zip(COND_MULT.items(), present, strict=True):
        if not here:
            continue
        cond = np.where(used > 0, np.round(used * mult / 10) * 10 - 1, -1)
        ship = np.where(cond > 0, used_ship, -1)
        series[idx] = _compress(p_t, cond, ship)

    # new / Amazon / buy box: slower moving
    n_t = t0 + np.concatenate([[0], np.sort(rng.integers(0, days * DAY, max(2, days // 7)))])
    new_base = float(cat.base_used[i]) * float(cat.new_mult[i])
    new = (np.round(new_base * np.exp(rng.normal(0, 0.05, len(n_t))) / 10) * 10 - 1)
    series[NEW] = _compress(n_t, new.astype(np.int64))
    series[COUNT_NEW] = _compress(n_t, rng.integers(1, 25, len(n_t)))
    if cat.has_amazon[i]:
        amz = np.round(new_base * rng.uniform(0.95, 1.05, len(n_t)) / 10) * 10 - 1
        amz = np.where(rng.random(len(n_t)) < 0.2, -1, amz)
        series[AMAZON] = _compress(n_t, amz.astype(np.int64))
    else:
        series[AMAZON] = Series(np.array([t0]), np.array([-1]))
    bb = new
    series[BUY_BOX_SHIPPING] = _compress(n_t, bb.astype(np.int64), np.zeros(len(n_t), np.int64))
    series[LISTPRICE] = Series(np.array([t0]), np.array([int(cat.list_price[i])]))

    # sales rank: drops a few hours after each sale, then drifts up
    lag = rng.integers(30, 8 * 60, len(sale_t))
    drop_t = sale_t + lag
    drop_r = float(cat.rank_low[i]) * rng.uniform(0.6, 1.4, len(sale_t))
    samp_t = t0 + day_idx[::2] * DAY + rng.integers(0, DAY, len(day_idx[::2]))
    r_t = np.concatenate([samp_t, drop_t])
    r_t = _unique(r_t[r_t < t_end])
    j = np.searchsorted(drop_t, r_t, side="right") - 1
    hours = np.where(j >= 0, (r_t - drop_t[np.maximum(j, 0)]) / 60.0, 1e6)
    r0 = np.where(j >= 0, drop_r[np.maximum(j, 0)], float(cat.rank_high[i]))
    rank = np.minimum(r0 * (1 + 0.025 * hours), float(cat.rank_high[i]))
    rank = np.maximum(1, rank * np.exp(rng.normal(0, 0.02, len(r_t)))).astype(np.int64)
    series[SALES] = _compress(r_t, rank)

    # ratings and reviews (books mostly)
    m_t = t0 + np.arange(0, days, 30) * DAY
    reviews = np.cumsum(rng.poisson(max(0.2, float(cat.velocity[i]) * 3), len(m_t)))
    series[COUNT_REVIEWS] = _compress(m_t, reviews)
    rating = np.clip(np.round(rng.normal(43, 3)) + rng.integers(-1, 2, len(m_t)), 10, 50)
    series[RATING] = _compress(m_t, np.where(reviews > 0, rating, -1))
    if not book:
        series[NEW_FBA] = _compress(n_t, (new * 1.02).astype(np.int64))
    return History(t0=t0, series=series, sale_t=sale_t, used_ship=used_ship)


def _in_dip(cat: Catalog, i: int, day: np.ndarray) -> np.ndarray:
    period = float(cat.dip_period[i])
    if not np.isfinite(period):
        return np.zeros(len(day), dtype=bool)
    return np.mod(day - float(cat.dip_phase[i]), period) < float(cat.dip_len[i])
