"""Products' price/rank/offer histories, generated deterministically and many at a time.

Every random number is a counter-based hash of (market seed, product, stream, event number),
so a product's timeline does not depend on which other products are generated with it or on
how far ahead it is generated: the product seen at any market time is a prefix of the same
timeline (time passing is what makes prices move, items sell and deals appear), and a history
generated up to a later horizon only adds points after the earlier one.
All products of a request are generated together with flat numpy arrays (one numpy call per
step for the whole batch, not per product); a history costs about its number of points.

The market, per product (calibrated against real Keepa answers: tools/sandbox/calibration):
- sales: a Poisson process whose rate follows the kind's seasonality (SEASON);
- used offers: each sale removes one, a new one arrives a few days later; sellers also leave
  and come back; sales show as Keepa shows them: the used offer count drops, then the sales
  rank drops a few hours later (at the next rank observation at the latest);
- lowest used price: re-priced every 3-12 days and at every sale, with a per-product noise
  (calm to wild: VOLATILITY), lower inside the catalog's ordinary dips, higher in scarcity
  spikes; in a deep underpricing episode one cheap copy (the acceptable one) sits 45-85 %
  under the usual price, moved only by its own repricer (catalog ep_reprice: small moves, now
  and then a try at a higher price), while the better conditions keep theirs; USED is the
  lowest of the conditions;
- sales rank: relative to a market whose busyness follows the book seasons (in the textbook
  season a sale buys less rank): the rank is RANK_SCALE / (recent sales / market level +
  the book's dormant level), sales decaying over RANK_TAU; only a sale improves it (by at
  least 2 %), so salesRankDrops count sales;
- new / Amazon / buy box / new offer count: weekly change points; reviews and rating monthly.
Series are Keepa's change-only step functions: repeated values are not emitted.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from tools.keepa import conventions as kc
from tools.sandbox.keepa.catalog import (
    BOOK_KINDS,
    DEEP_DEPTH,
    KINDS,
    PRICE_SEASON,
    SEASON,
    Catalog,
)

DAY = kc.MINUTES_PER_DAY
# Keepa's csv slots (tools/keepa/conventions.py), by the short names the market uses
AMAZON, NEW, USED, SALES, LISTPRICE = kc.AMAZON, kc.NEW, kc.USED, kc.SALES, kc.LISTPRICE
NEW_FBA, COUNT_NEW, COUNT_USED = kc.NEW_FBA, kc.COUNT_NEW, kc.COUNT_USED
RATING, COUNT_REVIEWS, BUY_BOX_SHIPPING = kc.RATING, kc.COUNT_REVIEWS, kc.BUY_BOX_SHIPPING
USED_NEW, USED_VG = kc.USED_NEW_SHIPPING, kc.USED_VERY_GOOD_SHIPPING
USED_GOOD, USED_ACC = kc.USED_GOOD_SHIPPING, kc.USED_ACCEPTABLE_SHIPPING
BUY_BOX_USED = kc.BUY_BOX_USED_SHIPPING
TRIPLETS = kc.TRIPLET_SLOTS
COND_MULT = {USED_NEW: 1.32, USED_VG: 1.18, USED_GOOD: 1.08, USED_ACC: 1.0}
COND_PRESENT = {USED_NEW: 0.5, USED_VG: 0.6, USED_GOOD: 0.8}  # USED_ACC: always
# the condition of a product's cheapest used copy (real live used offers: 7 % like new, 28 %
# very good, 52 % good, 13 % acceptable)
CHEAP_CONDITION = ((USED_NEW, USED_VG, USED_GOOD, USED_ACC), np.array([0.07, 0.28, 0.52, 0.13]))

# Every product has the same rows (slots) in the same order; absent series are empty rows.
SLOTS = (
    AMAZON,
    NEW,
    USED,
    SALES,
    LISTPRICE,
    NEW_FBA,
    COUNT_NEW,
    COUNT_USED,
    RATING,
    COUNT_REVIEWS,
    BUY_BOX_SHIPPING,
    USED_NEW,
    USED_VG,
    USED_GOOD,
    USED_ACC,
)
N_SLOTS = len(SLOTS)
SLOT = {idx: s for s, idx in enumerate(SLOTS)}
WIDTH = np.array([3 if idx in TRIPLETS else 2 for idx in SLOTS], dtype=np.int64)
DT_BITS = 23  # minutes since the market's t0 in a key: 2**23 min = 5,825 days
DT_MASK = (1 << DT_BITS) - 1
MAX_SPAN = DT_MASK - 10 * DAY  # keys also hold a few events just past the horizon

PRICE_DECAY = (0.0, 0.4)  # a year, log
VOLATILITY = (0.12, 0.55)  # price noise of a $7 book: 12 % median, lognormal spread 0.55
EP_STEP = 0.004  # an underpricer's re-price moves ~0.3 % down on average (-0.7..+1.3 %)
EP_UNDERCUT = 0.25  # ... and 25 % at most in an episode
WATCHED_CALM = 0.75  # price noise of a watched product between its episodes (x)
EP_HIGH_SHARE = 0.35  # ... or now and then up a little for a while
EP_HIGH = (0.03, 0.3)  # log of the factor: 3-35 % up
RANK_TAU = 30.0 * DAY  # how long a sale lifts the rank (exponential memory, minutes)
RANK_SCALE = 2_200_000.0  # the rank one fresh sale gives an unsold book in an average season
RANK_ALPHA = 1.0  # rank ~ 1 / score**alpha
RANK_STEP = 0.98  # a sale's rank drop is at least 2 % below the rank shown before it
COMPETE_TAU = 15.0 * DAY  # the market level behind ranks, smoothed
COMPETE_POWER = 1.5  # in a busy season a sale buys less rank than in proportion
DORMANT_EPOCH = 7_360_000  # Keepa minute (2024-12) where rank_dormant holds exactly
DORMANT_DRIFT = 10 * 365.0 * DAY  # unsold books sink further: x1.1 a year

# hash streams (one per kind of random draw)
(
    S_SALE,
    S_ARRIVE,
    S_LAG,
    S_DROP,
    S_LEAVE,
    S_BACK,
    S_REPRICE,
    S_UNOISE,
    S_COND,
    S_CNOISE,
    S_NEWPTS,
    S_NEW,
    S_CNEW,
    S_AMZ,
    S_AMZOFF,
    S_SAMPLE,
    S_REVIEWS,
    S_RATING,
    S_SHIP,
    S_EPREPRICE,
    S_EPHI,
    S_VOL,
) = range(22)

_M1 = np.uint64(0x9E3779B97F4A7C15)
_M2 = np.uint64(0xBF58476D1CE4E5B9)
_M3 = np.uint64(0x94D049BB133111EB)
_MASK64 = (1 << 64) - 1


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


@dataclass
class Batch:
    """Generated products' points, product p's rows p * N_SLOTS + s in SLOTS order."""

    t: np.ndarray  # int32 Keepa minutes
    raw: np.ndarray  # int32 values (prices without shipping)
    ship: np.ndarray  # int32 shipping (0 on pair rows)
    start: np.ndarray  # (n_products * N_SLOTS,) first point of each row
    sale_t: list[np.ndarray]  # per product: true sale times (int64)
    used_ship: list[int]  # per product: cents added by merchant-fulfilled used offers
    horizon: int  # points are generated for times before this minute


# ---- counter-based random numbers ------------------------------------------------------------


def _mix(x: np.ndarray) -> np.ndarray:
    """SplitMix64's finalizer, in place on a uint64 array."""
    x ^= x >> np.uint64(30)
    x *= _M2
    x ^= x >> np.uint64(27)
    x *= _M3
    x ^= x >> np.uint64(31)
    return x


def _mix_int(x: int) -> int:
    x &= _MASK64
    x = ((x ^ (x >> 30)) * 0xBF58476D1CE4E5B9) & _MASK64
    x = ((x ^ (x >> 27)) * 0x94D049BB133111EB) & _MASK64
    return x ^ (x >> 31)


def product_keys(seed: int, ids: np.ndarray) -> np.ndarray:
    """Per-product hash keys (uint64): the root of every random draw of that product."""
    x = ids.astype(np.uint64) * _M1
    x ^= np.uint64(_mix_int(seed * 0x2545F4914F6CDD1D + 0x51ED))
    return _mix(x)


def _hash(key: np.ndarray, stream: int, j: np.ndarray) -> np.ndarray:
    """64 random bits for (product key, stream, counter j), element-wise (SplitMix64)."""
    x = j.astype(np.uint64)
    x += np.uint64(stream << 40)
    x *= _M1
    x += key
    return _mix(x)


def uniform(key: np.ndarray, stream: int, j: np.ndarray) -> np.ndarray:
    """U(0, 1) for (product key, stream, counter j), element-wise; never exactly 0 or 1."""
    x = _hash(key, stream, j)
    return ((x >> np.uint64(11)).astype(np.float64) + 0.5) * (1.0 / (1 << 53))


def _normal(u: np.ndarray) -> np.ndarray:
    """A unit-variance, symmetric noise from uniforms (logistic; cheap, deterministic)."""
    return np.log(u / (1.0 - u)) * (math.sqrt(3.0) / math.pi)


def _uniforms(key: np.ndarray, stream: int, j: np.ndarray, k: int) -> list[np.ndarray]:
    """k (<= 4) uniforms in (0, 1) per element from one hash, 64 // k bits each."""
    x = _hash(key, stream, j)
    bits = 64 // k
    mask = np.uint64((1 << bits) - 1)
    scale = 1.0 / (1 << bits)
    return [
        (((x >> np.uint64(bits * q)) & mask).astype(np.float64) + 0.5) * scale for q in range(k)
    ]


def _noise2(key: np.ndarray, stream: int, j: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Two unit-variance symmetric noises per element from one hash (each the sum of two
    16-bit uniforms: triangular; no transcendental functions)."""
    x = _hash(key, stream, j)
    m = np.uint64(0xFFFF)
    a = ((x >> np.uint64(48)) + ((x >> np.uint64(32)) & m)).astype(np.float64)
    b = (((x >> np.uint64(16)) & m) + (x & m)).astype(np.float64)
    scale = math.sqrt(6.0) / 65536.0
    return (a - 65535.0) * scale, (b - 65535.0) * scale


# ---- flat segmented helpers -------------------------------------------------------------------


def _segments(counts: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(owner of each element, index within its segment, segment starts) for `counts`."""
    starts = np.zeros(len(counts), dtype=np.int64)
    np.cumsum(counts[:-1], out=starts[1:])
    owner = np.repeat(np.arange(len(counts), dtype=np.int64), counts)
    local = np.arange(int(counts.sum()), dtype=np.int64) - starts[owner]
    return owner, local, starts


def _seg_cumsum(
    x: np.ndarray, owner: np.ndarray, starts: np.ndarray, counts: np.ndarray
) -> np.ndarray:
    """Cumulative sums restarting at each segment (integers: exact, batch-independent)."""
    c = np.cumsum(x)
    base = np.zeros(len(counts), dtype=c.dtype)
    nz = counts > 0
    base[nz] = c[starts[nz]] - x[starts[nz]]
    out: np.ndarray = c - base[owner]
    return out


def _process(
    keys: np.ndarray,
    stream: int,
    mean: np.ndarray,
    span: int,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """A Poisson process per product (mean gap `mean` minutes) on [0, span) minutes.

    Returns (owner, event number, minute), sorted by owner then time. Event j of a product
    only depends on its first j gaps, so a longer span only appends events.
    """
    lam = span / mean
    n = np.ceil(lam + 4 * np.sqrt(lam) + 8).astype(np.int64)
    while True:
        owner, j, starts = _segments(n)
        gap = np.floor(-np.log(uniform(keys[owner], stream, j)) * mean[owner]).astype(np.int64)
        gap += 1
        dt = _seg_cumsum(gap, owner, starts, n)
        short = dt[starts + n - 1] < span
        if not short.any():
            break
        n = np.where(short, n * 2, n)
    keep = dt < span
    return owner[keep], j[keep], dt[keep]


def _compress(
    owner: np.ndarray,
    dt: np.ndarray,
    v: np.ndarray,
    ship: np.ndarray | None = None,
    unique: bool = False,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray | None]:
    """Keepa stores changes only: of points in one minute the last wins, repeats are dropped.

    Input sorted by (owner, dt); works across all products' segments at once. `unique`: the
    times are known to be distinct (skips the same-minute pass).
    """
    n = len(dt)
    if n == 0:
        return owner, dt, v, ship
    last = np.empty(n, dtype=bool)
    if not unique:
        k = (owner << DT_BITS) | dt
        np.not_equal(k[1:], k[:-1], out=last[:-1])
        last[-1] = True
    if not unique and not last.all():
        owner, dt, v = owner[last], dt[last], v[last]
        ship = None if ship is None else ship[last]
        n = len(dt)
    keep = np.ones(n, dtype=bool)
    same = (v[1:] == v[:-1]) & (owner[1:] == owner[:-1])
    if ship is not None:
        same &= ship[1:] == ship[:-1]
    np.logical_not(same, out=keep[1:])
    if keep.all():
        return owner, dt, v, ship
    return owner[keep], dt[keep], v[keep], None if ship is None else ship[keep]


@dataclass
class SeasonTable:
    """Expected sales per unit velocity from day 0 to day d (`cum[kind, d]`), and its inverse
    on a grid of 1/CELLS season-days (`inv[kind, cell]`: the day holding the cell's start).
    No day is shorter than a cell (SEASON >= 1/CELLS), so a cell holds at most one day
    boundary: the day of any value is inv[cell] or the one after."""

    cum: np.ndarray
    inv: np.ndarray
    compete: np.ndarray  # per day: how busy the book market is (1 = a year's average)

    CELLS = 4

    def day_of(self, kind: np.ndarray, c: np.ndarray) -> np.ndarray:
        """max{d : cum[kind, d] <= c}, like searchsorted(cum[kind], c, 'right') - 1."""
        cell = np.minimum((c * self.CELLS).astype(np.int64), self.inv.shape[1] - 1)
        d: np.ndarray = self.inv[kind, cell]
        d += c >= self.cum[kind, np.minimum(d + 1, self.cum.shape[1] - 1)]
        return d


def cumulative_season(month_of_day: np.ndarray) -> SeasonTable:
    """The SeasonTable of a market whose day d falls in calendar month month_of_day[d]."""
    if SEASON.min() * SeasonTable.CELLS < 1:
        raise ValueError("a season multiplier is below 1 / SeasonTable.CELLS")
    per_day = SEASON[:, month_of_day]
    cum = np.zeros((len(SEASON), per_day.shape[1] + 1))
    np.cumsum(per_day, axis=1, out=cum[:, 1:])
    n_cells = int(np.ceil(cum[:, -1].max() * SeasonTable.CELLS)) + 2
    starts = np.arange(n_cells) / SeasonTable.CELLS
    inv = np.stack(
        [np.minimum(np.searchsorted(row, starts, side="right") - 1, len(row) - 2) for row in cum]
    )
    return SeasonTable(cum=cum, inv=inv, compete=_competition(month_of_day))


def _competition(month_of_day: np.ndarray) -> np.ndarray:
    """Per day: the book market's sales level (book kinds' seasons weighted by their share,
    smoothed over COMPETE_TAU), 1 = the year's average. Ranks are
    relative, so in the textbook season a book needs more sales for the same rank."""
    books = sorted(BOOK_KINDS)
    share = np.array([KINDS[k][4] for k in books])
    level = share @ SEASON[books] / share.sum()  # per month
    daily = (level[month_of_day] / level.mean()) ** COMPETE_POWER
    decay = math.exp(-DAY / COMPETE_TAU)
    out = np.empty(len(daily))
    acc = float(daily[:365].mean())  # start from the yearly mean: no warm-up transient
    for d, x in enumerate(daily.tolist()):
        acc = acc * decay + (1 - decay) * x
        out[d] = acc
    return out


def _cheap_slot(keys: np.ndarray) -> np.ndarray:
    """Per product: the position in CHEAP_CONDITION[0] of its cheapest copy's condition."""
    u = uniform(keys, S_COND, np.full(len(keys), 1 << 20, dtype=np.int64))
    slot: np.ndarray = np.searchsorted(np.cumsum(CHEAP_CONDITION[1]), u, side="right")
    last: np.ndarray = np.minimum(slot, len(CHEAP_CONDITION[0]) - 1)
    return last


def cheap_condition(cat: Catalog, ids: np.ndarray) -> np.ndarray:
    """Per product: the csv index (USED_*_SHIPPING) of the row holding its cheapest used copy
    (Keepa's used buy box follows it)."""
    conds: np.ndarray = np.array(CHEAP_CONDITION[0])[_cheap_slot(product_keys(cat.seed, ids))]
    return conds


def _episode_points(
    cat: Catalog,
    ids: np.ndarray,
    keys: np.ndarray,
    t0: int,
    start_day: int,
    span: int,
) -> tuple[np.ndarray, np.ndarray]:
    """(owner, minute since t0) of price episodes' price points: the start and end of every
    dip, spike and deep underpricing episode (the price moves then, not at the next re-price),
    and a deep episode's underpricer's re-prices inside it (a Poisson process at the
    product's ep_reprice interval; none for a static seller)."""
    period, phase = cat.dip_period[ids], cat.dip_phase[ids]
    length, depth = cat.dip_len[ids], cat.dip_depth[ids]
    episodic = np.isfinite(period)
    deep = episodic & (depth >= DEEP_DEPTH[0])
    off = (t0 - start_day * DAY) / DAY  # the market day of minute 0
    span_d = span / DAY
    safe = np.where(episodic, period, 1.0)
    k_lo = np.floor((off - phase - length) / safe) + 1  # first episode ending after minute 0
    k_hi = np.floor((off + span_d - phase) / safe)  # last one starting before the horizon
    n_ep = np.where(episodic, np.maximum(k_hi - k_lo + 1, 0), 0).astype(np.int64)
    own, j, _ = _segments(n_ep)
    start = (phase[own] + (k_lo[own] + j) * period[own] - off) * DAY
    end = start + length[own] * DAY
    bounds = np.ceil(np.concatenate([start, end])).astype(np.int64)
    b_own = np.concatenate([own, own])
    ok = (bounds >= 0) & (bounds < span)
    sub = np.flatnonzero(deep & np.isfinite(cat.ep_reprice[ids]))
    r_own, _, r_dt = _process(keys[sub], S_EPREPRICE, cat.ep_reprice[ids][sub] * DAY, span)
    r_own = sub[r_own]
    pos = np.mod((r_dt / DAY + off) - phase[r_own], period[r_own])
    inside = pos < length[r_own]
    return (
        np.concatenate([b_own[ok], r_own[inside]]),
        np.concatenate([bounds[ok], r_dt[inside]]),
    )


# ---- the generator ----------------------------------------------------------------------------


def generate(
    cat: Catalog,
    ids: np.ndarray | list[int],
    t0: int,
    horizon: int,
    month_of_day: np.ndarray,
    start_day: int,
    season: SeasonTable | None = None,
) -> Batch:
    """Histories of products `ids` (catalog rows) from Keepa minute `t0` up to `horizon`.

    `month_of_day[d]` is the calendar month (0-11) of day d since t0 (it must cover the
    horizon); `start_day` is the catalog's day zero (dip schedules are relative to it);
    `season` is cumulative_season(month_of_day) (pass it to avoid recomputing).
    """
    ids = np.asarray(ids, dtype=np.int64)
    n_p = len(ids)
    span = int(horizon - t0)
    if not 0 < span <= MAX_SPAN:
        raise ValueError(f"history span {span} minutes out of range")
    n_days = -(-span // DAY)
    if len(month_of_day) < n_days:
        raise ValueError("month_of_day does not cover the horizon")
    season = season if season is not None else cumulative_season(month_of_day)
    cs = season.cum
    keys = product_keys(cat.seed, ids)
    kind = cat.kind[ids].astype(np.int64)
    rate = np.minimum(cat.velocity[ids].astype(np.float64), 4.0)
    book = np.isin(kind, list(BOOK_KINDS))

    # ---- sales: Poisson with seasonal rate, by inverting the cumulative intensity
    lam = rate * cs[kind, n_days]
    n = np.ceil(lam + 4 * np.sqrt(lam) + 8).astype(np.int64)
    while True:
        s_own, s_j, starts = _segments(n)
        e = np.floor(-np.log(uniform(keys[s_own], S_SALE, s_j)) * (1 << 24)).astype(np.int64)
        c_int = _seg_cumsum(e, s_own, starts, n)  # exact: the same for any batch
        short = c_int[starts + n - 1] * (1.0 / (1 << 24)) < lam
        if not short.any():
            break
        n = np.where(short, n * 2, n)
    c = c_int * (1.0 / (1 << 24)) / rate[s_own]  # in season-days of this product's kind
    s_kind = kind[s_own]
    d = season.day_of(s_kind, c)
    inside = d < n_days
    s_own, s_j, c, d, s_kind = s_own[inside], s_j[inside], c[inside], d[inside], s_kind[inside]
    frac = (c - cs[s_kind, d]) / SEASON[s_kind, month_of_day[d]]
    sale_dt = d * DAY + np.clip(np.floor(frac * DAY).astype(np.int64), 0, DAY - 1)
    inside = sale_dt < span
    s_own, s_j, sale_dt = s_own[inside], s_j[inside], sale_dt[inside]

    # ---- used offer count (stock, -1 per sale, +1 per arrival, sellers leaving and returning)
    # and the used-price change points (t0, weekly-ish re-prices, just after each sale), in one
    # sort: the count at each price point is the running sum where the point sorts
    u_arrive, u_lag, u_drop = _uniforms(keys[s_own], S_ARRIVE, s_j, 3)  # 21 bits each
    arr_dt = sale_dt + np.floor(-np.log(u_arrive) * 4 * DAY).astype(np.int64)
    l_own, l_j, leave_dt = _process(keys, S_LEAVE, np.full(n_p, 20.0 * DAY), span)
    back_dt = leave_dt + np.floor(-np.log(uniform(keys[l_own], S_BACK, l_j)) * 10 * DAY).astype(
        np.int64
    )
    # re-prices: repricers move a book's lowest used price every 3-12 days on average
    rp_mean = (3.0 + 9.0 * uniform(keys, S_REPRICE, np.full(n_p, 1 << 30, dtype=np.int64))) * DAY
    r_own, _, r_dt = _process(keys, S_REPRICE, rp_mean, span)
    # copies listed at the start: the typical count plus what a busy season sells in days
    # (fewer for a book with an underpricing seller: mostly alone on the listing)
    deep_prone = cat.deep()[ids]
    stock = (
        cat.used_count[ids].astype(np.int64)
        + np.ceil(rate * SEASON[kind].max(axis=1) * np.where(deep_prone, 2.0, 8.0)).astype(np.int64)
        + np.where(deep_prone, 0, 1)
    )
    ep_own, ep_dt = _episode_points(cat, ids, keys, t0, start_day, span)
    t0_key = np.arange(n_p, dtype=np.int64) << (DT_BITS + 3)
    ev = [t0_key, t0_key | 5]  # t0: the initial stock (type 0) and a price point (type 5)
    # types sort within a minute: stock, sale, arrival, leave, back, re-price, after-sale
    # price, an underpricing episode's price point (its start, end and repricer)
    for code, own, dt in (
        (1, s_own, sale_dt),
        (2, s_own, arr_dt),
        (3, l_own, leave_dt),
        (4, l_own, back_dt),
        (5, r_own, r_dt),
        (6, s_own, sale_dt + 1),
        (7, ep_own, ep_dt),
    ):
        m = dt < span
        ev.append((own[m] << (DT_BITS + 3)) | (dt[m] << 3) | code)
    evk = np.sort(np.concatenate(ev))
    typ = evk & 7
    e_own = evk >> (DT_BITS + 3)
    e_dt = (evk >> 3) & DT_MASK
    delta = np.array([0, -1, 1, -1, 1, 0, 0, 0], dtype=np.int64)[typ]
    first = typ == 0
    delta[first] = stock[e_own[first]]
    counts = np.bincount(e_own, minlength=n_p)
    count_all = np.maximum(0, _seg_cumsum(delta, e_own, np.flatnonzero(first), counts))
    c_own, c_dt, count, _ = _compress(e_own, e_dt, count_all)  # price points repeat: dropped

    q = typ >= 5
    pk = evk[q] >> 3
    keep = np.ones(len(pk), dtype=bool)
    np.not_equal(pk[1:], pk[:-1], out=keep[1:])  # one point per minute, the re-price first
    p_own = e_own[q][keep]
    p_dt = e_dt[q][keep]
    reprice = typ[q][keep] == 5
    stocked = count_all[q][keep] > 0
    p_day = p_dt // DAY
    p_kind = kind[p_own]
    pk_keys = keys[p_own]
    z_acc, z_new = _noise2(pk_keys, S_UNOISE, p_dt)
    z_vg, z_good = _noise2(pk_keys, S_CNOISE, p_dt)
    # the market day of each point (dip schedules count from the catalog's day zero)
    day_rel = (p_dt + (t0 - start_day * DAY)) / DAY
    period = cat.dip_period[ids][p_own]
    depth = cat.dip_depth[ids][p_own]
    finite = np.isfinite(period)
    in_dip = np.zeros(len(p_dt), dtype=bool)
    in_dip[finite] = (
        np.mod(day_rel[finite] - cat.dip_phase[ids][p_own][finite], period[finite])
        < cat.dip_len[ids][p_own][finite]
    )
    deep_now = in_dip & (depth >= DEEP_DEPTH[0])
    # every copy takes part in an ordinary dip or a scarcity spike; in a deep episode one
    # underpriced copy (the acceptable one) is the lowest, the others keep their prices
    # used prices drift down as a book ages (new editions, more copies around): base_used is
    # the price at DORMANT_EPOCH, falling PRICE_DECAY[0]-[1] a year (per product)
    decay = PRICE_DECAY[0] + (PRICE_DECAY[1] - PRICE_DECAY[0]) * uniform(
        keys, S_VOL, np.ones(n_p, dtype=np.int64)
    )
    years = (p_dt + t0 - DORMANT_EPOCH) / (365.0 * DAY)
    level = (
        cat.base_used[ids].astype(np.float64)[p_own]
        * PRICE_SEASON[p_kind, month_of_day[p_day]]
        * np.exp(-decay[p_own] * years)
    ).clip(250, None)  # a used book's lowest price rarely goes under ~$2
    level = np.where(in_dip & ~deep_now, level * (1.0 - depth), level)
    # outside episodes: the cheapest copy's price noise, per product between calm and wild
    # (in relative terms a cheap book's lowest price jumps more: $3 -> $5 is two thirds)
    vol = (
        VOLATILITY[0]
        * (cat.base_used[ids] / 700.0) ** -0.05
        * np.exp(VOLATILITY[1] * _normal(uniform(keys, S_VOL, np.zeros(n_p))))
    )
    # (a product arbitrage sellers watch has calmer prices between its episodes)
    vol = np.where(np.isfinite(cat.watch_h[ids]), vol * WATCHED_CALM, vol)
    noise = np.maximum(0.3, 1 + vol[p_own] * z_acc)
    u_hi = uniform(pk_keys, S_EPHI, p_dt)
    fast_pt = typ[q][keep] == 7
    first_pt = np.zeros(len(p_dt), dtype=bool)
    first_pt[np.flatnonzero(np.diff(p_own, prepend=-1))] = True
    fast_pt |= first_pt  # t0: an episode under way
    was_deep = np.zeros(len(p_dt), dtype=bool)  # not an episode's first point
    was_deep[1:] = deep_now[:-1] & (p_own[1:] == p_own[:-1])
    # In an episode the underpricer's repricer mostly undercuts (a little, at most EP_UNDERCUT
    # in all): a walk down from the episode's start, summed per episode in fixed point (exact)
    fxp = float(1 << 32)
    starts = first_pt | (deep_now & ~was_deep)
    step = np.where(
        deep_now & fast_pt & was_deep, np.round(np.log1p(-EP_STEP * (z_good + 0.8)) * fxp), 0
    ).astype(np.int64)
    seg_start = np.flatnonzero(starts)
    walk = _seg_cumsum(
        step, np.cumsum(starts) - 1, seg_start, np.diff(np.append(seg_start, len(step)))
    )
    noise = np.where(deep_now, np.clip(np.exp(walk / fxp), 1.0 - EP_UNDERCUT, 1.05), noise)
    # ... and now and then tries a higher price (the cheap copy looks gone)
    # (a seller 45 % under the usual price tries more often than one dumping at 75 % under)
    p_hi = EP_HIGH_SHARE * np.clip((0.85 - depth) / 0.3, 0.2, 1.0)
    hi = deep_now & fast_pt & was_deep & (u_hi < p_hi)
    frac = np.where(hi, u_hi / np.maximum(p_hi, 1e-9), 0.0)
    noise = np.where(hi, noise * np.exp(EP_HIGH[0] + (EP_HIGH[1] - EP_HIGH[0]) * frac), noise)
    acc_level = np.where(deep_now, level * (1.0 - depth), level)
    acc = np.where(stocked, np.round(acc_level * noise / 10) * 10 - 1, -1).astype(np.int64)
    # in an episode the underpriced copy only moves at its own re-prices (the episode's start
    # is one): other price points of the product carry it
    last7 = np.maximum.accumulate(np.where(fast_pt, np.arange(len(p_dt)), 0))
    carry = deep_now & ~fast_pt & (p_own[last7] == p_own) & deep_now[last7]
    acc = np.where(carry & stocked & (acc[last7] >= 0), acc[last7], acc)
    base = level
    ship_u = uniform(keys, S_SHIP, np.zeros(n_p, dtype=np.int64))
    used_ship = np.where(ship_u < 0.45, 0, 399).astype(np.int64)  # the cheapest copy ships
    # better conditions re-price only at re-price points; carried to the others (t0 is one)
    last_rp = np.maximum.accumulate(np.where(reprice, np.arange(len(p_dt)), 0))
    lowest = np.where(acc >= 0, acc, np.int64(1) << 40)
    cond_rows: dict[int, tuple[np.ndarray, np.ndarray, np.ndarray | None]] = {}
    for c_i, (idx, prob) in enumerate(COND_PRESENT.items()):
        present = uniform(keys, S_COND, np.full(n_p, c_i, dtype=np.int64)) < prob
        cn = 1 + 0.08 * (z_new, z_vg, z_good)[c_i]
        price = (np.round(base * COND_MULT[idx] * cn / 10) * 10 - 1).astype(np.int64)[last_rp]
        price = np.where(stocked, price, -1)
        here = present[p_own]
        lowest = np.where(here & (price >= 0), np.minimum(lowest, price), lowest)
        cond_rows[idx] = (price, np.where(price > 0, used_ship[p_own], -1), here)
    cond_rows[USED_ACC] = (acc, np.where(acc > 0, used_ship[p_own], -1), None)
    used = np.where(lowest < (np.int64(1) << 40), lowest, -1)
    # the cheapest copy (the row above that moves at every sale, and in an episode is the
    # underpriced one) is in any condition: CHEAP_CONDITION shares; it swaps rows with the
    # acceptable copy of that product
    cheap_slot = _cheap_slot(keys)
    a_v, a_s, _ = cond_rows[USED_ACC]
    acc_v, acc_s, acc_here = a_v, a_s, np.ones(len(p_own), dtype=bool)
    for c_i, idx in enumerate(CHEAP_CONDITION[0]):
        if idx == USED_ACC:
            continue
        swap = (cheap_slot == c_i)[p_own]
        o_v, o_s, o_here = cond_rows[idx]
        here = np.ones(len(p_own), dtype=bool) if o_here is None else o_here
        cond_rows[idx] = (np.where(swap, a_v, o_v), np.where(swap, a_s, o_s), here | swap)
        acc_v, acc_s = np.where(swap, o_v, acc_v), np.where(swap, o_s, acc_s)
        acc_here = np.where(swap, here, acc_here)
    cond_rows[USED_ACC] = (acc_v, acc_s, acc_here)

    # ---- new / Amazon / buy box / new offer count: weekly change points
    nj_own, nj, n_dt = _process(keys, S_NEWPTS, np.full(n_p, 7.0 * DAY), span)
    n_own = np.concatenate([np.arange(n_p, dtype=np.int64), nj_own])
    n_j = np.concatenate([np.zeros(n_p, dtype=np.int64), nj + 1])
    n_dt = np.concatenate([np.zeros(n_p, dtype=np.int64), n_dt])
    order = np.argsort((n_own << DT_BITS) | n_dt, kind="stable")
    n_own, n_j, n_dt = n_own[order], n_j[order], n_dt[order]
    new_base = cat.base_used[ids].astype(np.float64) * cat.new_mult[ids]
    nk = keys[n_own]
    z_new, _ = _noise2(nk, S_NEW, n_j)
    new = (np.round(new_base[n_own] * (1 + 0.05 * z_new) / 10) * 10 - 1).astype(np.int64)
    u_cnew, u_amz, u_off = _uniforms(nk, S_CNEW, n_j, 3)
    count_new = np.floor(u_cnew * 5).astype(np.int64)  # 0-4 new offers
    amz = np.round(new_base[n_own] * (0.95 + 0.1 * u_amz) / 10) * 10 - 1
    amz = np.where(u_off < 0.2, -1, amz).astype(np.int64)
    has_amz = cat.has_amazon[ids][n_own]
    amz = np.where(has_amz, amz, -1)  # no Amazon offer: one -1 point at t0 (compressed)

    # ---- sales rank: observed about every 2 days; each sale's drop shows hours later
    # (the first observation past the horizon is generated too: drops before it depend on it)
    n_obs = (span + DAY - 1) // (2 * DAY) + 2
    o_own, o_m, _ = _segments(np.full(n_p, n_obs, dtype=np.int64))
    o_dt = o_m * 2 * DAY + np.floor(uniform(keys[o_own], S_SAMPLE, o_m) * DAY).astype(np.int64)
    ok_all = (o_own << DT_BITS) | o_dt
    lag = 30 + np.floor(u_lag * 450).astype(np.int64)
    # next observation strictly after each sale, by merging (observations first in a minute)
    mk = np.sort(np.concatenate([ok_all << 1, (((s_own << DT_BITS) | sale_dt) << 1) | 1]))
    is_sale = (mk & 1).astype(bool)
    nxt = np.cumsum(~is_sale)[is_sale]  # observations before the sale = index of the next one
    # the drop shows before the next observation (which then shows the climb after it)
    drop_dt = np.minimum(sale_dt + lag, np.maximum(sale_dt + 1, o_dt[nxt] - 1))
    m = o_dt < span
    o_own, o_dt = o_own[m], o_dt[m]
    ok = ok_all[m]
    dk = np.maximum.accumulate((s_own << DT_BITS) | drop_dt)  # keep drops in time order
    m_drop = (dk & DT_MASK) < span
    dk, d_own = dk[m_drop], s_own[m_drop]
    # rank points: observations and drops merged (an observation sorts before a drop in the
    # same minute, which overwrites it)
    rk = np.sort(np.concatenate([ok << 1, (dk << 1) | 1]))
    is_drop = (rk & 1).astype(bool)
    rk_own = rk >> (DT_BITS + 1)
    rk_dt = (rk >> 1) & DT_MASK
    # Amazon's rank is a decayed count of recent sales, relative to the whole market: each
    # sale adds ~1 to the product's score S, which decays with RANK_TAU; the rank is
    # RANK_SCALE / (S k + eps)^RANK_ALPHA, where k reflects how busy the market was at the
    # last sale (in the textbook season the same sales rank lower) and eps sets the rank of a
    # book that stopped selling (catalog rank_dormant, sinking slowly as years pass). Between
    # sales S only decays, so observations show the climb and only sales improve the rank.
    cnt = np.bincount(s_own, minlength=n_p)
    s_loc = np.arange(len(s_own), dtype=np.int64) - (np.cumsum(cnt) - cnt)[s_own]
    rel = (sale_dt - sale_dt[(np.cumsum(cnt) - cnt)[s_own]]) / RANK_TAU
    grid = np.zeros((n_p, int(cnt.max()) if n_p else 0))
    grid[s_own, s_loc] = np.exp(rel) * (0.6 + 0.8 * u_drop)  # a sale's weight varies
    # per product: sum over its sales so far of weight * exp(-(s_j - s_k) / tau); a row of the
    # padded grid only holds its own product's sales (batch-independent floating point)
    memory = np.cumsum(grid, axis=1)[s_own, s_loc] * np.exp(-rel)
    k_sale = season.compete[sale_dt // DAY] ** (-1.0 / RANK_ALPHA)
    d_mem, d_sale, d_k = memory[m_drop], sale_dt[m_drop], k_sale[m_drop]
    jd = np.cumsum(is_drop) - 1  # last drop at or before each point
    has = jd >= 0
    jd0 = np.maximum(jd, 0)
    if len(dk):
        has[has] = d_own[jd0[has]] == rk_own[has]
    score = (
        np.where(has, d_mem[jd0] * np.exp(-(rk_dt - d_sale[jd0]) / RANK_TAU) * d_k[jd0], 0.0)
        if len(dk)
        else np.zeros(len(rk))
    )
    eps = (RANK_SCALE / cat.rank_dormant[ids]) ** (1.0 / RANK_ALPHA)
    eps_t = eps[rk_own] * np.exp(-(rk_dt + t0 - DORMANT_EPOCH) / DORMANT_DRIFT)
    f = RANK_SCALE * (score + eps_t) ** -RANK_ALPHA
    # A drop shows V = min(f, STEP * the rank shown before it): an observation's f, or in a
    # run of drops with no observation between, the previous drop's V. Within a run, in
    # logs, x_j = min(a_j, c + x_{j-1}) = j c + min_{k<=j}(a_k - k c): a prefix minimum
    # (fixed point integers: exact, so batch-independent).
    fx = float(1 << 32)
    logf = np.round(np.log(f) * fx).astype(np.int64)
    c_step = round(math.log(RANK_STEP) * fx)
    same = np.zeros(len(rk), dtype=bool)
    same[1:] = rk_own[1:] == rk_own[:-1]
    prev_drop = np.zeros(len(rk), dtype=bool)
    prev_drop[1:] = is_drop[:-1] & same[1:]
    start = is_drop & ~prev_drop  # first drop of a run
    before = np.empty(len(rk), dtype=np.int64)  # the shown value before a run (log)
    before[1:] = logf[:-1]
    dormant = np.round(np.log(RANK_SCALE * eps_t**-RANK_ALPHA) * fx).astype(np.int64)
    before = np.where(same, before, dormant)
    a = np.where(start, np.minimum(logf, before + c_step), logf)[is_drop]
    if len(a):
        rs = start[is_drop]
        run = np.cumsum(rs) - 1
        loc = np.arange(len(a), dtype=np.int64) - np.flatnonzero(rs)[run]
        sep = run << 40
        x = np.minimum.accumulate(a - loc * c_step - sep) + sep + loc * c_step
        logf[is_drop] = x
    rank = np.exp(logf / fx)
    rank = np.maximum(1, rank).astype(np.int64)
    rank = np.where(cat.ranked[ids][rk_own], rank, -1)  # some books carry no rank at all

    # ---- reviews and rating: monthly
    n_months = -(-span // (30 * DAY))
    m_own, m_i, _ = _segments(np.full(n_p, n_months, dtype=np.int64))
    m_dt = m_i * 30 * DAY
    lam_r = np.maximum(0.2, cat.velocity[ids].astype(np.float64) * 3)
    q = lam_r / (1 + lam_r)
    inc = np.floor(np.log(uniform(keys[m_own], S_REVIEWS, m_i)) / np.log(q[m_own])).astype(np.int64)
    reviews = _seg_cumsum(
        inc,
        m_own,
        np.arange(n_p, dtype=np.int64) * n_months,
        np.full(n_p, n_months, dtype=np.int64),
    )
    r_base = np.round(
        43 + 3 * _normal(uniform(keys, S_RATING, np.full(n_p, 1 << 30, dtype=np.int64)))
    )
    rating = np.clip(
        r_base[m_own] + np.floor(uniform(keys[m_own], S_RATING, m_i) * 3) - 1, 10, 50
    ).astype(np.int64)
    rating = np.where(reviews > 0, rating, -1)

    # ---- rows, in SLOTS order: change points only (a series keeps its first point and every
    # point whose value differs from the one before; rows derived from one set of points share
    # its "first point of a product" mask)
    def firsts(own: np.ndarray) -> np.ndarray:
        f = np.empty(len(own), dtype=bool)
        f[:1] = True
        np.not_equal(own[1:], own[:-1], out=f[1:])
        return f

    def changes(
        v: np.ndarray,
        first: np.ndarray,
        where: np.ndarray | None = None,
    ) -> np.ndarray:
        keep = first.copy()
        keep[1:] |= v[1:] != v[:-1]
        return np.flatnonzero(keep if where is None else keep & where)

    first_p, first_n, first_m = firsts(p_own), firsts(n_own), firsts(m_own)
    n_ship = np.zeros(len(n_dt), dtype=np.int64)
    fba = (new * 1.02).astype(np.int64)
    rows: dict[int, tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray | None]] = {}
    for idx, own, dt, v, ship, first_of, where in (
        (AMAZON, n_own, n_dt, amz, None, first_n, None),
        (NEW, n_own, n_dt, new, None, first_n, None),
        (USED, p_own, p_dt, used, None, first_p, None),
        (NEW_FBA, n_own, n_dt, fba, None, first_n, ~book[n_own]),
        (COUNT_NEW, n_own, n_dt, count_new, None, first_n, None),
        (RATING, m_own, m_dt, rating, None, first_m, None),
        (COUNT_REVIEWS, m_own, m_dt, reviews, None, first_m, None),
        (BUY_BOX_SHIPPING, n_own, n_dt, new, n_ship, first_n, None),
        *(
            (c, p_own, p_dt, price, ship, first_p, here)
            for c, (price, ship, here) in cond_rows.items()
        ),
    ):
        k = changes(v, first_of, where)
        rows[idx] = (own[k], dt[k], v[k], None if ship is None else ship[k])
    rows[SALES] = (*_compress(rk_own, rk_dt, rank)[:3], None)
    rows[COUNT_USED] = (c_own, c_dt, count, None)
    rows[LISTPRICE] = (
        np.arange(n_p, dtype=np.int64),
        np.zeros(n_p, dtype=np.int64),
        cat.list_price[ids].astype(np.int64),
        None,
    )
    lens = np.empty((n_p, N_SLOTS), dtype=np.int64)
    for s, idx in enumerate(SLOTS):
        lens[:, s] = np.bincount(rows[idx][0], minlength=n_p)
    row_start = np.zeros(n_p * N_SLOTS, dtype=np.int64)
    np.cumsum(lens.ravel()[:-1], out=row_start[1:])
    total = int(lens.sum())
    t_all = np.empty(total, dtype=np.int32)
    raw_all = np.empty(total, dtype=np.int32)
    ship_all = np.zeros(total, dtype=np.int32)
    for s, idx in enumerate(SLOTS):
        own, dt, v, ship = rows[idx]
        # element e of product p goes to row_start[p, s] + (e - first element of p here)
        off = row_start[s::N_SLOTS] - (np.cumsum(lens[:, s]) - lens[:, s])
        at = np.arange(len(own), dtype=np.int64)
        at += off[own]
        t_all[at] = dt + t0
        raw_all[at] = v
        if ship is not None:
            ship_all[at] = ship
    sale_cnt = np.bincount(s_own, minlength=n_p)
    sale_t = np.split(sale_dt + t0, np.cumsum(sale_cnt)[:-1])
    return Batch(
        t=t_all,
        raw=raw_all,
        ship=ship_all,
        start=row_start,
        sale_t=sale_t,
        used_ship=used_ship.tolist(),
        horizon=int(horizon),
    )
