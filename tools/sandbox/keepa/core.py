"""The market's state and time, shared by every endpoint: catalog, clock, generated histories.

Products are generated lazily: catalog vectors at start (a 20,000-product market starts in
milliseconds), histories on demand, all products of a request in one vectorized batch and only
up to a horizon a month or two past the time asked for (extended when time gets there), then
LRU-cached (12 bytes a point, ~30 KB a product; 1,000 by default). Time comes from an
injected clock: wall time for `arbitrage sandbox serve`, a ScaledClock to run faster than real
time, or a SimClock that `advance(minutes)` moves for simulations.
"""

from __future__ import annotations

import math
import threading
from collections import OrderedDict
from collections.abc import Sequence
from typing import Any

import numpy as np

from tools.clock import Clock, SimClock, SystemClock
from tools.keepa.conventions import to_keepa_minutes
from tools.sandbox.keepa.catalog import BOOKS_ROOT, KINDS, Catalog, build_catalog
from tools.sandbox.keepa.series import (
    DAY,
    MAX_SPAN,
    SLOTS,
    TRIPLETS,
    History,
    Series,
    cumulative_season,
    generate,
)
from tools.sandbox.keepa.stats import SeriesTable
from tools.sandbox.keepa.tokens import TokenBucket

HORIZON_BLOCK = 30 * DAY  # histories are generated 1-2 blocks past the latest time asked for
GEN_CHUNK = 256  # products generated per batch (bounds the batch's temporary arrays)
SLOT_IDS = np.array(SLOTS, dtype=np.int64)  # the csv index of each row of a product's table


class Entry:
    """A cached product: its series table (up to a horizon) and time-free JSON fields."""

    __slots__ = ("hist", "horizon", "sale_t", "static", "table", "used_ship")

    def __init__(
        self,
        table: SeriesTable,
        sale_t: np.ndarray,
        used_ship: int,
        horizon: int,
        static: dict[str, Any] | None = None,
    ) -> None:
        self.table, self.sale_t, self.used_ship, self.horizon = table, sale_t, used_ship, horizon
        self.static = static
        self.hist: History | None = None

    def history(self, t0: int) -> History:
        if self.hist is None:
            tab = self.table
            series = {}
            for s, idx in enumerate(SLOTS):
                lo, hi = int(tab.start[s]), int(tab.stop[s])
                if hi > lo:
                    series[idx] = Series(
                        tab.t[lo:hi], tab.raw[lo:hi], tab.ship[lo:hi] if idx in TRIPLETS else None
                    )
            self.hist = History(t0=t0, series=series, sale_t=self.sale_t, used_ship=self.used_ship)
        return self.hist


class SandboxError(Exception):
    """A request the real Keepa would reject; carries the HTTP status."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


class MarketCore:
    """What every endpoint reads: the catalog, market time and the products' histories."""

    def __init__(
        self,
        n_products: int = 20_000,
        seed: int = 42,
        refill_rate: int = 20,
        clock: Clock | None = None,
        start: float | None = None,
        history_days: int = 730,
        future_days: int = 400,
        initial_tokens: int | None = None,
        cache_size: int = 1000,
    ) -> None:
        self.clock: Clock = clock or SystemClock()
        if start is None:
            start = math.floor(self.clock.now() / 86400) * 86400
        self.start_min = to_keepa_minutes(start)
        self.start_day = self.start_min // DAY
        self.t0 = self.start_min - history_days * DAY
        self.days = history_days + future_days
        self.end_min = self.t0 + self.days * DAY - 1
        first = np.datetime64("2011-01-01") + np.timedelta64(self.t0 // DAY, "D")
        dates = first + np.arange(self.days + 1).astype("timedelta64[D]")
        self.month_of_day = dates.astype("datetime64[M]").astype(np.int64) % 12
        if self.days * DAY > MAX_SPAN:
            raise ValueError(f"a market spans at most {MAX_SPAN // DAY} days")
        self._season = cumulative_season(self.month_of_day)
        self.seed = seed
        self.catalog: Catalog = build_catalog(n_products, seed)
        self.tokens = TokenBucket(refill_rate, self.clock, initial_tokens)
        self.cache_size = cache_size
        self._cache: OrderedDict[int, Entry] = OrderedDict()
        self._lock = threading.Lock()

    # ---- time ----------------------------------------------------------------------------

    def now_min(self) -> int:
        return min(to_keepa_minutes(self.clock.now()), self.end_min)

    def advance(self, minutes: float) -> None:
        """Move simulated time (SimClock only): prices move, items sell, deals appear."""
        if not isinstance(self.clock, SimClock):
            raise TypeError(
                f"advance() needs a SimClock; this market runs on {type(self.clock).__name__}"
            )
        self.clock.advance(minutes * 60)

    def asins(self) -> list[str]:
        return list(self.catalog.asins)

    def _crawls(self, idx: np.ndarray, t: np.ndarray, after: bool) -> np.ndarray:
        """Keepa minute of the last crawl at or before `t` (after: the first at or after) of
        products `idx`, element-wise.

        A product is crawled on its own schedule (catalog crawl_h) and, while arbitrage
        sellers watch it (a deep underpricing episode, the weeks after a scarcity spike:
        catalog watch_window), also every watch_h hours: Keepa refreshes what its users look
        at. Crawl minutes are whole minutes on each grid.
        """
        c = self.catalog
        t = t.astype(np.float64)
        period = c.crawl_h[idx] * 60
        phase = np.floor(np.mod(c.crawl_phase[idx] * 60, period))
        step = np.ceil if after else np.floor
        out = step((t - phase) / period) * period + phase
        w_period = np.where(np.isfinite(c.watch_h[idx]), c.watch_h[idx], 1.0) * 60
        w_phase = np.floor(np.mod(c.crawl_phase[idx] * 60, w_period))
        day0 = self.start_day * DAY
        # the watch window holding or preceding t, and the one after it (market days)
        s0, e0, s1, e1 = (x * DAY + day0 for x in c.watch_windows(idx, (t - day0) / DAY))
        watched = np.isfinite(s0)
        if after:
            f0 = np.ceil((t - w_phase) / w_period) * w_period + w_phase
            f1 = np.ceil((s1 - w_phase) / w_period) * w_period + w_phase
            out = np.where(watched & (t <= e0) & (f0 <= e0), np.minimum(out, f0), out)
            out = np.where(watched & (f1 <= e1), np.minimum(out, f1), out)
        else:
            f0 = np.floor((np.minimum(t, e0) - w_phase) / w_period) * w_period + w_phase
            out = np.where(watched & (f0 >= s0), np.maximum(out, f0), out)
        crawls: np.ndarray = out.astype(np.int64)
        return crawls

    def crawl_time(self, i: int, now: int) -> int:
        """Keepa minute of product i's last refresh at or before `now`."""
        return int(self._crawls(np.array([i]), np.array([now]), after=False)[0])

    def first_crawl_after(self, i: int, t: int) -> int:
        """Keepa minute of product i's first refresh at or after minute `t` (when Keepa sees
        a change that happened at `t`)."""
        return int(self._crawls(np.array([i]), np.array([t]), after=True)[0])

    def crawl_times(self, now: int) -> np.ndarray:
        """Keepa minute of each product's last refresh (vectorized)."""
        n = self.catalog.n
        return self._crawls(np.arange(n), np.full(n, now), after=False)

    # ---- product histories --------------------------------------------------------------

    def _horizon(self, at: int) -> int:
        """Generate up to 1-2 blocks past `at` (histories cost their number of points)."""
        h = self.t0 + ((at - self.t0) // HORIZON_BLOCK + 2) * HORIZON_BLOCK
        return min(h, self.t0 + self.days * DAY)

    def entries(self, idx: Sequence[int], at: int) -> list[Entry]:
        """Cached entries of products `idx` whose histories reach past minute `at`; the
        missing ones are generated in batches (a later horizon only appends points)."""
        return self.entries_table(idx, at)[0]

    def entries_table(
        self,
        idx: Sequence[int],
        at: int,
        csv: bool = False,
    ) -> tuple[list[Entry], SeriesTable | None]:
        """entries(), plus the generated batch's table when it is exactly `idx` in order (a
        cold request then skips re-concatenating its products' tables); `csv`: new tables
        get their Keepa csv layout (cached with them)."""
        out: list[Entry | None] = [None] * len(idx)
        todo: dict[int, list[int]] = {}
        with self._lock:
            for k, i in enumerate(idx):
                e = self._cache.get(i)
                if e is not None and e.horizon > at:
                    self._cache.move_to_end(i)
                    out[k] = e
                else:
                    todo.setdefault(i, []).append(k)
        whole: SeriesTable | None = None
        if todo:
            new = list(todo)
            horizon = self._horizon(at)
            made: list[Entry] = []
            for c in range(0, len(new), GEN_CHUNK):
                batch = generate(
                    self.catalog,
                    new[c : c + GEN_CHUNK],
                    self.t0,
                    horizon,
                    self.month_of_day,
                    self.start_day,
                    self._season,
                )
                table = SeriesTable(batch.t, batch.raw, batch.ship, batch.start, self.t0)
                if csv:
                    table.ensure_csv()
                made += [
                    Entry(*x, batch.horizon)
                    for x in zip(table.split(), batch.sale_t, batch.used_ship, strict=True)
                ]
            if len(new) == len(idx) <= GEN_CHUNK:
                whole = table
            with self._lock:
                for i, e in zip(new, made, strict=True):
                    old = self._cache.get(i)
                    if old is not None and old.horizon > at:
                        e = old  # another thread got here first
                        whole = None
                    elif old is not None:
                        e.static = old.static
                    self._cache[i] = e
                    self._cache.move_to_end(i)
                    for k in todo[i]:
                        out[k] = e
                while len(self._cache) > max(self.cache_size, len(idx)):
                    self._cache.popitem(last=False)
        return out, whole  # type: ignore[return-value]

    def entry(self, i: int, at: int | None = None) -> Entry:
        return self.entries([i], self.now_min() if at is None else at)[0]

    def history(self, i: int, until: int | None = None) -> History:
        """Product i's generated history, at least up to `until` (default: now)."""
        return self.entry(i, until).history(self.t0)

    def index_of(self, asin: str) -> int | None:
        return self.catalog.index.get(asin.strip().upper())

    def sales_between(self, asin: str, start_min: int, end_min: int) -> int:
        """True sales of a product in a Keepa-minute window (for tests and simulations)."""
        i = self.index_of(asin)
        if i is None:
            return 0
        s = self.history(i, min(end_min, self.end_min)).sale_t
        return int(((s >= start_min) & (s < end_min)).sum())

    def _view(self, i: int, at: int, days: int | None) -> dict[int, Series]:
        """Product i's series cut at `at` (and to `days`): the readable reference path."""
        h = self.history(i, at)
        out: dict[int, Series] = {}
        for idx, s in h.series.items():
            cut = s.upto(at)
            if days is not None and len(cut.t) > 1:
                lo = at - days * DAY
                k = max(0, int(np.searchsorted(cut.t, lo, side="right")) - 1)
                cut = Series(cut.t[k:], cut.v[k:], None if cut.ship is None else cut.ship[k:])
            out[idx] = cut
        return out

    def root(self, i: int) -> int:
        """Product i's root category id."""
        return KINDS[int(self.catalog.kind[i])][1]

    @property
    def books_root(self) -> int:
        return BOOKS_ROOT
