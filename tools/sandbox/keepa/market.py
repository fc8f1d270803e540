"""SandboxMarket: the seeded synthetic market behind the Keepa-compatible app.

Products are generated lazily: catalog vectors at start (a 20,000-product market starts in
milliseconds), histories on demand, all products of a request in one vectorized batch and only
up to a horizon a month or two past the time asked for (extended when time gets there), then
LRU-cached (12 bytes a point, ~30 KB a product; 1,000 by default). Time comes from an
injected clock: wall time for `arbitrage sandbox serve`, a ScaledClock to run faster than real
time, or a SimClock that `advance(minutes)` moves for simulations. Token accounting follows
docs/domain.md "Token bucket" exactly.
"""

from __future__ import annotations

import json
import math
import threading
from collections import OrderedDict
from collections.abc import Sequence
from typing import Any

import numpy as np

from tools.keepa.clock import Clock, SimClock, SystemClock
from tools.keepa.keepatime import to_keepa_minutes
from tools.sandbox.keepa.catalog import (
    BOOK_KINDS,
    BOOKS_ROOT,
    KIND_NAMES,
    KINDS,
    ROOT_NAMES,
    Catalog,
    build_catalog,
)
from tools.sandbox.keepa.series import (
    AMAZON,
    BUY_BOX_SHIPPING,
    BUY_BOX_USED,
    COUNT_NEW,
    COUNT_REVIEWS,
    COUNT_USED,
    DAY,
    MAX_SPAN,
    N_SLOTS,
    NEW,
    SALES,
    SLOT,
    SLOTS,
    TRIPLETS,
    USED,
    USED_ACC,
    USED_GOOD,
    USED_NEW,
    USED_VG,
    History,
    Series,
    cumulative_season,
    generate,
    product_keys,
    uniform,
)
from tools.sandbox.keepa.stats import N_TYPES, SeriesTable
from tools.sandbox.keepa.tokens import TokenBucket

AMAZON_SELLER = "ATVPDKIKX0DER"
N_SELLERS = 1500
DEAL_INTERVALS = (2, 7, 30, 90)  # day (Keepa uses 48 h), week, month, 90 days
_DEAL_DAYS = np.array(DEAL_INTERVALS)
RECENT_MIN = 12 * 60  # /deal/ only lists products updated in the last 12 h
MAX_SCAN = 4000  # exact evaluations per /query/ request
_CHARS = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"
_NESTED = ("buyBoxEligibleOfferCounts", "categories", "categoryTree", "languages")
HORIZON_BLOCK = 30 * DAY  # histories are generated 1-2 blocks past the latest time asked for
GEN_CHUNK = 256  # products generated per batch (bounds the batch's temporary arrays)
S_STATIC = 100  # hash stream of the time-free product fields
_IDS = np.array(SLOTS, dtype=np.int64)
_IDS_BB = np.array((*SLOTS, BUY_BOX_USED), dtype=np.int64)
_SLOTS_BB = np.array((*range(N_SLOTS), SLOT[USED_ACC]), dtype=np.int64)


class _Entry:
    """A cached product: its series table (up to a horizon) and time-free JSON fields."""

    __slots__ = ("hist", "horizon", "sale_t", "static", "table", "used_ship")

    def __init__(self, table: SeriesTable, sale_t: np.ndarray, used_ship: int, horizon: int,
                 static: dict[str, Any] | None = None) -> None:
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
                    series[idx] = Series(tab.t[lo:hi], tab.raw[lo:hi],
                                         tab.ship[lo:hi] if idx in TRIPLETS else None)
            self.hist = History(t0=t0, series=series, sale_t=self.sale_t,
                                used_ship=self.used_ship)
        return self.hist


class _Scan:
    """One /deal/ candidate scan (a selection at a market minute), continued page by page.

    Matches are kept as (sort key, product, crawl minute), not as deal objects: an unfiltered
    selection over 20,000 products matches ~17,000 (~300 MB as dicts); a page's 150 deals are
    built (or taken from the deal cache) when asked for.
    """

    __slots__ = ("crawled", "idx", "lock", "matches", "n", "prior", "ready", "seen", "sorted")

    def __init__(self, idx: np.ndarray, crawled: np.ndarray,
                 prior: dict[int, tuple[int, Any]] | None = None) -> None:
        self.idx, self.crawled = idx, crawled
        self.n = 0
        self.sorted = False  # matches in the selection's sort order (non-lazy orders)
        # candidate -> (crawl minute, its sort key if it matched, else None): a later scan of
        # the same selection reuses what was not re-crawled since (`prior`: an earlier `seen`)
        self.seen: dict[int, tuple[int, Any]] = {}
        self.prior = prior
        self.ready = 0  # candidates before this one have their histories generated
        self.matches: list[tuple[Any, int, int]] = []
        self.lock = threading.Lock()


class SandboxError(Exception):
    """A request the real Keepa would reject; carries the HTTP status."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


class SandboxMarket:
    def __init__(self, n_products: int = 20_000, seed: int = 42, refill_rate: int = 20,
                 clock: Clock | None = None, start: float | None = None,
                 history_days: int = 730, future_days: int = 400,
                 initial_tokens: int | None = None, cache_size: int = 1000) -> None:
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
        self.month_of_day = (dates.astype("datetime64[M]").astype(np.int64) % 12)
        if self.days * DAY > MAX_SPAN:
            raise ValueError(f"a market spans at most {MAX_SPAN // DAY} days")
        self._season = cumulative_season(self.month_of_day)
        self.seed = seed
        self.catalog: Catalog = build_catalog(n_products, seed)
        self.tokens = TokenBucket(refill_rate, self.clock, initial_tokens)
        self._cache: OrderedDict[int, _Entry] = OrderedDict()
        self._cache_size = cache_size
        self._lock = threading.Lock()
        self._offers_seen: dict[int, int] = {}
        self._deal_cache: OrderedDict[tuple[int, int], dict[str, Any]] = OrderedDict()
        self._deal_scans: OrderedDict[tuple[str, int], _Scan] = OrderedDict()
        self._sellers = self._build_sellers()

    # ---- time ----------------------------------------------------------------------------

    def now_min(self) -> int:
        return min(to_keepa_minutes(self.clock.now()), self.end_min)

    def advance(self, minutes: float) -> None:
        """Move simulated time (SimClock only): prices move, items sell, deals appear."""
        if not isinstance(self.clock, SimClock):
            raise TypeError("advance() needs a SimClock; this market runs on "
                            f"{type(self.clock).__name__}")
        self.clock.advance(minutes * 60)

    def asins(self) -> list[str]:
        return list(self.catalog.asins)

    def crawl_time(self, i: int, now: int) -> int:
        """Keepa minute of product i's last background refresh."""
        period = float(self.catalog.crawl_h[i]) * 60
        phase = math.fmod(float(self.catalog.crawl_phase[i]) * 60, period)
        return int(math.floor((now - phase) / period) * period + phase)

    def crawl_times(self, now: int) -> np.ndarray:
        """Keepa minute of each product's last background refresh (vectorized)."""
        period = self.catalog.crawl_h * 60
        phase = np.mod(self.catalog.crawl_phase * 60, period)
        return (np.floor((now - phase) / period) * period + phase).astype(np.int64)

    # ---- product generation -----------------------------------------------------------------

    def _horizon(self, at: int) -> int:
        """Generate up to 1-2 blocks past `at` (histories cost their number of points)."""
        h = self.t0 + ((at - self.t0) // HORIZON_BLOCK + 2) * HORIZON_BLOCK
        return min(h, self.t0 + self.days * DAY)

    def _entries(self, idx: Sequence[int], at: int) -> list[_Entry]:
        """Cached entries of products `idx` whose histories reach past minute `at`; the
        missing ones are generated in batches (a later horizon only appends points)."""
        return self._entries_table(idx, at)[0]

    def _entries_table(self, idx: Sequence[int], at: int, csv: bool = False,
                       ) -> tuple[list[_Entry], SeriesTable | None]:
        """_entries, plus the generated batch's table when it is exactly `idx` in order (a
        cold request then skips re-concatenating its products' tables); `csv`: new tables
        get their Keepa csv layout (cached with them)."""
        out: list[_Entry | None] = [None] * len(idx)
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
            made: list[_Entry] = []
            for c in range(0, len(new), GEN_CHUNK):
                batch = generate(self.catalog, new[c:c + GEN_CHUNK], self.t0, horizon,
                                 self.month_of_day, self.start_day, self._season)
                table = SeriesTable(batch.t, batch.raw, batch.ship, batch.start, self.t0)
                if csv:
                    table.ensure_csv()
                made += [_Entry(*x, batch.horizon) for x in zip(
                    table.split(), batch.sale_t, batch.used_ship, strict=True)]
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
                while len(self._cache) > max(self._cache_size, len(idx)):
                    self._cache.popitem(last=False)
        return out, whole  # type: ignore[return-value]

    def _entry(self, i: int, at: int | None = None) -> _Entry:
        return self._entries([i], self.now_min() if at is None else at)[0]

    def history(self, i: int, until: int | None = None) -> History:
        """Product i's generated history, at least up to `until` (default: now)."""
        return self._entry(i, until).history(self.t0)

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

    def _seen_at(self, i: int, now: int, update: int | None) -> tuple[int, int]:
        """(minute the product's data is from, extra token cost) for a /product/ call."""
        crawled = self.crawl_time(i, now)
        fresh_h = 1 if update is None else update
        extra = 1 if update is not None and update == 0 and now - crawled < 60 else 0
        return (crawled if (fresh_h < 0 or now - crawled <= fresh_h * 60) else now), extra

    def product(self, asin: str, *, stats: int | None = None, history: bool = True,
                offers: int | None = None, buybox: bool = False, rating: bool = False,
                update: int | None = None, days: int | None = None,
                ) -> tuple[dict[str, Any], int] | None:
        """(Keepa product dict, token cost) or None for an unknown ASIN."""
        return self.products([asin], stats=stats, history=history, offers=offers,
                             buybox=buybox, rating=rating, update=update, days=days)[0]

    def products(self, asins: Sequence[str], *, stats: int | None = None, history: bool = True,
                 offers: int | None = None, buybox: bool = False, rating: bool = False,
                 update: int | None = None, days: int | None = None, arrays: bool = False,
                 ) -> list[tuple[dict[str, Any], int] | None]:
        """product() for many ASINs at once (one vectorized pass); None for unknown ASINs.

        `arrays=True` is for answers serialized at once with orjson (OPT_SERIALIZE_NUMPY):
        csv histories and stats arrays stay numpy arrays/views (no Python ints or lists to
        build, nor to collect) and cached nested fields are shared, not copied.
        """
        now = self.now_min()
        known = [(k, i) for k, a in enumerate(asins) if (i := self.index_of(a)) is not None]
        out: list[tuple[dict[str, Any], int] | None] = [None] * len(asins)
        if not known:
            return out
        seen = [self._seen_at(i, now, update) for _, i in known]
        at = np.array([x[0] for x in seen], dtype=np.int64)
        entries, tab = self._entries_table([i for _, i in known], int(at.max()), history)
        if tab is None:
            if history:  # cached with the product for later history requests
                for e in entries:
                    e.table.ensure_csv()
            tab = SeriesTable.concat([e.table for e in entries])
        n_p = len(known)
        ids1, slots1 = (_IDS_BB, _SLOTS_BB) if buybox else (_IDS, np.arange(N_SLOTS))
        nr = len(ids1)
        g = np.repeat(np.arange(n_p, dtype=np.int64), nr)
        ids = np.tile(ids1, n_p)
        rows = g * N_SLOTS + np.tile(slots1, n_p)
        a, b = tab.view(rows, at[g], days)
        live = b > a
        last = np.maximum(b - 1, 0)
        cur_l = np.where(live, tab.raw[last], -1).reshape(n_p, nr).tolist()
        lt_l = np.where(live, tab.t[last], -1).reshape(n_p, nr).tolist()
        ids1_l = ids1.tolist()
        if history:  # every non-empty cut series as a csv slice, per product
            csv_rows = np.flatnonzero(live)
            slices = tab.csv(rows[csv_rows], a[csv_rows], b[csv_rows])
            if not arrays:
                slices = [x.tolist() for x in slices]
            csv_of: list[list[tuple[int, Any]]] = [[] for _ in range(n_p)]
            for r, arr in zip((g[csv_rows] * 64 + ids[csv_rows]).tolist(), slices,
                              strict=True):
                csv_of[r >> 6].append((r & 63, arr))
        self._fill_static([i for _, i in known], entries)
        extras: list[dict[str, Any]] = []
        for p, (k, i) in enumerate(known):
            at_p, extra_cost = int(at[p]), seen[p][1]
            cur = dict(zip(ids1_l, cur_l[p], strict=True))
            last_t = {idx: t for idx, t in zip(ids1_l, lt_l[p], strict=True) if t >= 0}
            product = self._product_dict(i, entries[p], cur, last_t, at_p, copy=not arrays)
            stat_extra: dict[str, Any] = {}
            cost = 1
            if offers:
                offer_list, stat_extra = self._offers(i, cur, entries[p].used_ship, at_p,
                                                      offers)
                product["offers"] = offer_list
                product["liveOffersOrder"] = sorted(
                    range(len(offer_list)),
                    key=lambda j, ol=offer_list: ol[j]["offerCSV"][-2] + max(
                        0, ol[j]["offerCSV"][-1]))
                product["offersSuccessful"] = True
                found = len(offer_list)
                pages = math.ceil(found / 10)
                last_seen = self._offers_seen.get(i)
                fresh = last_seen is not None and now - last_seen < 60
                cost = 5 if found == 0 else (5 if fresh else 6) * pages
                self._offers_seen[i] = now
                if buybox:
                    product["buyBoxSellerIdHistory"] = [
                        str(at_p), stat_extra.get("buyBoxSellerId") or AMAZON_SELLER]
            elif buybox:
                cost += 2
            if buybox:
                stat_extra.setdefault("buyBoxPrice", cur.get(BUY_BOX_SHIPPING, -1))
                stat_extra.setdefault("buyBoxShipping", 0)
            if rating and cur.get(COUNT_REVIEWS, -1) > 0:
                cost += 1
            cost += extra_cost
            if history:
                csv: list[Any] = [None] * N_TYPES
                for idx, arr in csv_of[p]:
                    csv[idx] = arr
                product["csv"] = csv
                product["salesRanks"] = {str(self._root(i)): csv[SALES]}
            else:
                product["csv"] = None
            extras.append(stat_extra)
            out[k] = (product, cost)
        if stats:
            for (k, _), st in zip(known, tab.stats(g, ids, rows, a, b, at, stats, extras,
                                                   arrays), strict=True):
                out[k][0]["stats"] = st  # type: ignore[index]
        return out

    def _root(self, i: int) -> int:
        return KINDS[int(self.catalog.kind[i])][1]

    def _product_dict(self, i: int, entry: _Entry, cur: dict[int, int], last_t: dict[int, int],
                      at: int, copy: bool = True) -> dict[str, Any]:
        """The top-level product fields: the time-free part is built once per product.

        `copy=False` shares the cached nested lists/dicts (for answers serialized at once)."""
        if entry.static is None:
            self._fill_static([i], [entry])
        d = dict(entry.static)  # type: ignore[arg-type]  # same key order as Keepa's; only time-dependent values change
        amazon = cur.get(AMAZON, -1)
        reviews = cur.get(COUNT_REVIEWS, -1)
        price_changes = [t for j in (AMAZON, NEW, USED) if (t := last_t.get(j)) is not None]
        sale_t = entry.sale_t
        k = int(np.searchsorted(sale_t, at, side="right"))
        d["availabilityAmazon"] = 0 if amazon > 0 else -1
        d["fbaFees"] = {"lastUpdate": at, "pickAndPackFee": d["fbaFees"]["pickAndPackFee"]}
        d["hasReviews"] = reviews > 0
        d["lastPriceChange"] = max(price_changes) if price_changes else at
        d["lastRatingUpdate"] = last_t.get(COUNT_REVIEWS) or 0
        d["lastSoldUpdate"] = int(sale_t[k - 1]) if k else 0
        d["lastUpdate"] = at
        for key in _NESTED if copy else ():  # never share mutable parts of the cache
            if d[key] is not None:
                d[key] = [dict(x) if isinstance(x, dict) else list(x) if isinstance(x, list)
                          else x for x in d[key]]
        return d

    def _fill_static(self, idx: list[int], entries: list[_Entry]) -> None:
        """Build the time-free fields of entries that lack them (their draws vectorized)."""
        todo = [(i, e) for i, e in zip(idx, entries, strict=True) if e.static is None]
        if not todo:
            return
        ids = np.array([i for i, _ in todo], dtype=np.int64)
        keys = np.repeat(product_keys(self.seed, ids), 4)
        u = uniform(keys, S_STATIC, np.tile(np.arange(4), len(todo))).reshape(-1, 4).tolist()
        for (i, e), ui in zip(todo, u, strict=True):
            e.static = self._static_fields(i, ui)

    def _static_fields(self, i: int, u: list[float]) -> dict[str, Any]:
        """Product fields that never change with market time (placeholders for those that do);
        `u`: four of the product's uniform draws (see _fill_static)."""
        c = self.catalog
        k = int(c.kind[i])
        kind = KIND_NAMES[k]
        root = KINDS[k][1]
        leaf_id, leaf_name = KINDS[k][2][int(c.leaf[i])]
        book = k in BOOK_KINDS
        weight = int(c.weight_g[i])
        length, width, height = (int(x) for x in c.dims_mm[i])
        fee = (322 + max(0, weight - 340) // 100 * 40 if book
               else 371 + max(0, weight - 227) // 100 * 45)
        monthly = int(float(c.velocity[i]) * 30 // 50 * 50)
        asin = c.asins[i]
        pub = 20000101 + int(u[0] * 25) * 10000 + int(u[1] * 12) * 100 + int(u[2] * 28)
        return {
            "asin": asin, "author": c.author(i), "availabilityAmazon": -1,
            "binding": KINDS[k][3], "brand": None if book else "Sandbox Goods",
            "buyBoxEligibleOfferCounts": [1, 0, 0, 0, 0, 0, 0, 0],
            "buyBoxSellerIdHistory": None, "categories": [leaf_id],
            "categoryTree": [{"catId": root, "name": ROOT_NAMES[root]},
                             {"catId": leaf_id, "name": leaf_name}],
            "color": None, "coupon": None, "csv": None,
            "description": f"Synthetic {kind.replace('_', ' ')} product from the Keepa sandbox.",
            "domainId": 1, "eanList": None, "ebayListingIds": None, "edition": None,
            "fbaFees": {"lastUpdate": 0, "pickAndPackFee": int(fee)},
            "features": None, "format": None, "frequentlyBoughtTogether": None,
            "hasReviews": False,
            "images": None, "isAdultProduct": False, "isEligibleForSuperSaverShipping": True,
            "isEligibleForTradeIn": book, "isHeatSensitive": False, "isRedirectASIN": False,
            "isSNS": False, "itemHeight": height, "itemLength": length, "itemWeight": weight,
            "itemWidth": width, "itemTypeKeyword": kind.replace("_", "-"),
            "languages": [["English", "Published"]] if book else None,
            "lastEbayUpdate": 0, "lastPriceChange": 0, "lastRatingUpdate": 0,
            "lastSoldUpdate": 0, "lastUpdate": 0, "launchpad": False, "listedSince": self.t0,
            "liveOffersOrder": None, "manufacturer": "Sandbox Press" if book else "Sandbox Goods",
            "model": None, "monthlySold": monthly if monthly >= 50 else 0,
            "monthlySoldHistory": None, "numberOfItems": 1,
            "numberOfPages": 120 + int(u[3] * 1080) if book else -1,
            "offersSuccessful": False, "packageHeight": height, "packageLength": length,
            "packageQuantity": 1, "packageWeight": weight, "packageWidth": width,
            "parentAsin": None, "partNumber": None,
            "productGroup": "Book" if book else "Home", "productType": 0, "promotions": None,
            "publicationDate": pub if book else 0,
            "referralFeePercent": 15, "referralFeePercentage": 15.0,
            "releaseDate": 0, "rootCategory": root,
            "salesRankDisplayGroup": "book_display_on_website" if book else "home_display",
            "salesRankReference": root, "salesRankReferenceHistory": None, "salesRanks": None,
            "size": None, "stats": None, "title": c.title(i), "trackingSince": self.t0,
            "type": "ABIS_BOOK" if book else "HOME", "upcList": None, "urlSlug": None,
            "variations": None, "websiteDisplayGroup": "book_display_on_website" if book
            else "home_display_on_website",
            "websiteDisplayGroupName": "Book" if book else "Home",
        }

    # ---- offers and sellers -------------------------------------------------------------------

    def _build_sellers(self) -> list[dict[str, Any]]:
        rng = np.random.default_rng([self.seed, 0x5E11])
        out = []
        for j in range(N_SELLERS):
            sid = "A" + "".join(_CHARS[c] for c in rng.integers(0, 36, 13))
            rating = int(np.clip(rng.normal(92, 8), 40, 100))
            count = int(rng.lognormal(6, 1.8))
            out.append({"sellerId": sid, "sellerName": f"Sandbox Books {j}", "rating": rating,
                        "count": count, "fba": bool(rng.random() < 0.4)})
        return out

    def seller(self, seller_id: str) -> dict[str, Any] | None:
        now = self.now_min()
        if seller_id == AMAZON_SELLER:
            s = {"sellerId": AMAZON_SELLER, "sellerName": "Amazon.com", "rating": 100,
                 "count": 0, "fba": True}
        else:
            s = next((x for x in self._sellers if x["sellerId"] == seller_id), None)
            if s is None:
                return None
        r, n = s["rating"], s["count"]
        return {"domainId": 1, "sellerId": s["sellerId"], "sellerName": s["sellerName"],
                "trackedSince": self.t0, "lastUpdate": now, "lastRatingUpdate": now,
                "csv": [[self.t0, r, now - 60, r], [self.t0, max(0, n - 50), now - 60, n]],
                "currentRating": r, "currentRatingCount": n,
                "ratingCount": [max(0, n // 60), max(0, n // 20), max(0, n // 5), n],
                "positiveRating": [r, r, r, r], "negativeRating": [100 - r] * 4,
                "neutralRating": [0, 0, 0, 0], "hasFBA": s["fba"], "shipsFromChina": False,
                "isScammer": False}

    def _offers(self, i: int, current: dict[int, int], used_ship: int, at: int, limit: int,
                ) -> tuple[list[dict[str, Any]], dict[str, Any]]:
        rng = np.random.default_rng([self.seed, i, at // 60, 9])
        offers: list[dict[str, Any]] = []

        def cur(idx: int) -> int:
            return current.get(idx, -1)

        def add(seller: str, cond: int, price: int, ship: int, fba: bool, amazon: bool) -> None:
            first = at - int(rng.integers(60, 40 * DAY))
            old = price + int(rng.integers(0, 3)) * 100
            ocsv = [first, old, ship] if old == price else [first, old, ship, at - 30, price,
                                                             ship]
            offers.append({"offerId": len(offers), "lastSeen": at, "sellerId": seller,
                           "offerCSV": ocsv, "condition": cond, "conditionComment": None,
                           "isPrime": fba, "isMAP": False, "isShippable": True,
                           "isPreorder": False, "isWarehouseDeal": False,
                           "shipsFromChina": False, "isAmazon": amazon, "isFBA": fba,
                           "isPrimeExcl": False, "minOrderQty": 1})

        if cur(AMAZON) > 0:
            add(AMAZON_SELLER, 1, cur(AMAZON), 0, True, True)
        n_used = max(0, cur(COUNT_USED))
        lowest = cur(USED)
        cond_prices = {2: cur(USED_NEW), 3: cur(USED_VG), 4: cur(USED_GOOD), 5: cur(USED_ACC)}
        for j in range(n_used):
            seller = self._sellers[int(rng.integers(N_SELLERS))]
            cond = 5 if j == 0 else int(rng.choice([2, 3, 4, 5], p=[0.2, 0.35, 0.3, 0.15]))
            base = cond_prices.get(cond, -1)
            base = base if base > 0 else lowest
            if base <= 0:
                break
            price = lowest if j == 0 else int(base * rng.uniform(1.0, 1.3) // 10 * 10 - 1)
            fba = bool(seller["fba"] and rng.random() < 0.8)
            ship = 0 if fba else (used_ship if rng.random() > 0.1 else -1)
            if fba and rng.random() < 0.05:
                ship = -1  # FBA offers with unknown shipping (count as free)
            add(seller["sellerId"], cond, price, ship, fba, False)
        for _ in range(min(max(0, cur(COUNT_NEW)), 15)):
            seller = self._sellers[int(rng.integers(N_SELLERS))]
            newp = cur(NEW)
            if newp <= 0:
                break
            fba = bool(seller["fba"])
            add(seller["sellerId"], 1, int(newp * rng.uniform(1.0, 1.2) // 10 * 10 - 1),
                0 if fba else 399, fba, False)
        offers = offers[:limit]
        for k, o in enumerate(offers):
            o["offerId"] = k
        fba_n = sum(1 for o in offers if o["isFBA"])
        new_offers = [o for o in offers if o["condition"] == 1]
        bb = min(new_offers, key=lambda o: o["offerCSV"][-2], default=None)
        extra: dict[str, Any] = {
            "offerCountFBA": fba_n, "offerCountFBM": len(offers) - fba_n,
            "retrievedOfferCount": len(offers), "totalOfferCount": len(offers),
            "lastOffersUpdate": at,
            "buyBoxPrice": bb["offerCSV"][-2] if bb else -1,
            "buyBoxShipping": max(0, bb["offerCSV"][-1]) if bb else -1,
            "buyBoxSellerId": bb["sellerId"] if bb else None,
            "buyBoxIsAmazon": bool(bb and bb["isAmazon"]), "buyBoxIsFBA": bool(bb and bb["isFBA"]),
            "buyBoxIsUsed": False, "buyBoxCondition": 1 if bb else None,
            "buyBoxStats": ({bb["sellerId"]: {"avgNewOfferCount": len(new_offers),
                                               "avgPrice": bb["offerCSV"][-2],
                                               "avgUsedOfferCount": n_used,
                                               "isFBA": bb["isFBA"], "lastSeen": at,
                                               "percentageWon": 100.0}} if bb else {}),
        }
        return offers, extra

    # ---- deals --------------------------------------------------------------------------------

    def _generate_for_deals(self, rows: list[tuple[int, int]]) -> None:
        """Generate, in one batch, the histories of the (product, crawl minute) rows whose deal
        objects are not cached yet."""
        with self._lock:
            todo = [i for i, at in rows if (i, at) not in self._deal_cache]
        if todo:
            self._entries(todo, max(at for _, at in rows))

    def _deals_at(self, rows: list[tuple[int, int]]) -> list[dict[str, Any]]:
        """The deal objects of (product, crawl minute) rows."""
        self._generate_for_deals(rows)
        return [self._deal_cached(i, at) for i, at in rows]

    def _deal_cached(self, i: int, at: int) -> dict[str, Any]:
        """Deal objects only change when Keepa re-crawls the product, so cache by (i, at)."""
        key = (i, at)
        with self._lock:
            hit = self._deal_cache.get(key)
        if hit is None:
            hit = self._deal(i, at)
            with self._lock:
                self._deal_cache[key] = hit
                while len(self._deal_cache) > 8 * self._cache_size:
                    self._deal_cache.popitem(last=False)
        return hit

    def _deal(self, i: int, at: int) -> dict[str, Any]:
        tab = self._entry(i, at).table
        rows = np.arange(N_SLOTS, dtype=np.int64)
        now = np.full(N_SLOTS, at, dtype=np.int64)
        sa, sb = tab.view(rows, now, None)
        cur = [-1] * N_TYPES
        avg = [[-1] * N_TYPES for _ in DEAL_INTERVALS]
        delta = [[0] * N_TYPES for _ in DEAL_INTERVALS]
        dpct = [[0] * N_TYPES for _ in DEAL_INTERVALS]
        last = [0] * N_TYPES
        since = [-1] * N_TYPES
        live = sb > sa
        sa, sb, rows = sa[live], sb[live], rows[live]
        ids = _IDS[live].tolist()
        avgs = tab.window_avgs(rows, sa, sb, now[live], _DEAL_DAYS).tolist()
        v_last = tab.v[sb - 1].tolist()  # totals (with shipping) like Keepa's deal prices
        v_prev = tab.v[np.maximum(sb - 2, sa)].tolist()
        t_last = tab.t[sb - 1].tolist()
        n_pts = (sb - sa).tolist()
        for r, idx in enumerate(ids):
            c_now = v_last[r]
            cur[idx] = c_now
            since[idx] = t_last[r]
            if n_pts[r] > 1 and c_now >= 0 and v_prev[r] >= 0:
                last[idx] = v_prev[r] - c_now
            for j, a_j in enumerate(avgs[r]):
                avg[j][idx] = a_j
                if c_now >= 0 and a_j > 0:
                    delta[j][idx] = a_j - c_now  # positive = dropped below average
                    dpct[j][idx] = round(100 * (a_j - c_now) / a_j)
        r_sales = SLOT[SALES]
        ra = int(tab.start[r_sales])
        rb = max(ra, int(tab.view(np.array([r_sales]), now[:1], None)[1][0]))
        view = {SALES: Series(tab.t[ra:rb], tab.raw[ra:rb])}
        c = self.catalog
        k = int(c.kind[i])
        rank = view[SALES]
        drops = {}
        for w in (30, 90, 180, 365):
            m = rank.t[1:] >= at - w * DAY
            drops[f"salesRankDrops{w}"] = int(((rank.v[1:] < rank.v[:-1]) & m).sum())
        created = int(self._creation_dates(np.array([i]), np.array([at]))[0])
        return {"asin": c.asins[i], "parentAsin": None, "title": c.title(i),
                "rootCat": KINDS[k][1], "categories": [KINDS[k][2][int(c.leaf[i])][0]],
                "lastUpdate": at, "creationDate": created, "current": cur, "avg": avg,
                "delta": delta, "deltaPercent": dpct, "deltaLast": last, "currentSince": since,
                "image": [ord(ch) for ch in "sandbox.jpg"], "lightningEnd": 0,
                "warehouseCondition": 0, "warehouseConditionComment": None, "minRating": -1,
                **drops}

    def deals(self, selection: dict[str, Any]) -> dict[str, Any]:
        """The `deals` object for one /deal/ page (honours the selection; 150 per page).

        Like Keepa, every matching product updated in the last 12 h can be paged to. The
        candidate scan of one (selection, market minute) is kept, so page p continues where
        page p-1 stopped instead of re-evaluating (p+1) x 150 deals.
        """
        try:
            page = int(selection.get("page", 0))
            price_types = selection.get("priceTypes") or [0]
            pt = int(price_types[0] if isinstance(price_types, list) else price_types)
            date_range = int(selection.get("dateRange", 1))
            sort_type = int(selection.get("sortType", 1))
        except (TypeError, ValueError) as err:
            raise SandboxError(400, f"invalid deal selection: {err}") from None
        if not 0 <= date_range <= 3 or not 0 <= pt < N_TYPES or page < 0:
            raise SandboxError(400, "dateRange must be 0-3, priceTypes a csv index, page >= 0")
        now = self.now_min()
        scan_key = (json.dumps({k: v for k, v in selection.items() if k != "page"},
                               sort_keys=True, default=str), now)
        with self._lock:
            scan = self._deal_scans.get(scan_key)
            prior = next((x.seen for k, x in reversed(self._deal_scans.items())
                          if k[0] == scan_key[0]), None)
        if scan is None:
            scan = _Scan(*self._deal_candidates(selection, now, pt, sort_type), prior=prior)
            with self._lock:
                self._deal_scans[scan_key] = scan
                while len(self._deal_scans) > 8:
                    self._deal_scans.popitem(last=False)
        def rank(d: dict[str, Any], sign: int) -> int:  # no rank: last either way
            return sign * d["current"][SALES] if d["current"][SALES] > 0 else 1 << 40

        key = {1: lambda d: -d["creationDate"], 2: lambda d: -d["delta"][date_range][pt],
               3: lambda d: rank(d, 1), 4: lambda d: -d["deltaPercent"][date_range][pt],
               # negative: the same order inverted
               -2: lambda d: d["delta"][date_range][pt], -3: lambda d: rank(d, -1),
               -4: lambda d: d["deltaPercent"][date_range][pt],
               }.get(sort_type, lambda d: -d["lastUpdate"])
        # Keepa sorts the whole result. The candidates already come in the exact order of
        # sortType 1 (creation date) and of the default (last update), so those pages are
        # evaluated lazily; the other orders need every candidate evaluated once per scan.
        lazy = abs(sort_type) not in (2, 3, 4)
        need = (page + 1) * 150 if lazy else math.inf
        ranges = bool(selection.get("isRangeEnabled", False))
        with scan.lock:
            prior = scan.prior or {}
            while len(scan.matches) < need and scan.n < len(scan.idx):
                if scan.n >= scan.ready:  # generate the next candidates' histories together
                    chunk = scan.idx[scan.n:scan.n + 64]
                    self._generate_for_deals([
                        (int(i), int(scan.crawled[i])) for i in chunk
                        if prior.get(int(i), (-1,))[0] != int(scan.crawled[i])])
                    scan.ready = scan.n + len(chunk)
                i = int(scan.idx[scan.n])
                at = int(scan.crawled[i])
                scan.n += 1
                hit = prior.get(i)
                if hit is not None and hit[0] == at:  # not re-crawled: the same deal
                    k = hit[1]
                else:
                    d = self._deal_cached(i, at)
                    k = (key(d) if self._deal_matches(d, selection, pt, date_range, ranges)
                         else None)
                scan.seen[i] = (at, k)
                if k is not None:
                    scan.matches.append((k, i, at))
            if scan.n >= len(scan.idx):
                scan.prior = None  # evaluated: the earlier scan's results can go
            if not lazy and not scan.sorted:
                scan.matches.sort(key=lambda m: m[0])  # stable: ties keep candidate order
                scan.sorted = True
            rows = scan.matches[page * 150:(page + 1) * 150]
        if lazy:
            rows = sorted(rows, key=lambda m: m[0])  # ties within a creation date / minute
        dr = self._deals_at([(i, at) for _, i, at in rows])
        cats: dict[int, int] = {}
        for d in dr:
            cats[d["rootCat"]] = cats.get(d["rootCat"], 0) + 1
        return {"dr": dr, "drDateIndex": [0, 0, 0, 0],
                "categoryIds": list(cats), "categoryNames": [ROOT_NAMES[x] for x in cats],
                "categoryCount": list(cats.values())}

    def _deal_candidates(self, selection: dict[str, Any], now: int, pt: int, sort_type: int,
                         ) -> tuple[np.ndarray, np.ndarray]:
        """(candidate indexes in page order, crawl times): the numpy prefilter of /deal/."""
        c = self.catalog
        crawled = self.crawl_times(now)
        cand = (now - crawled) <= RECENT_MIN
        include = selection.get("includeCategories") or []
        exclude = selection.get("excludeCategories") or []
        root = c.root()
        leaf = np.array([KINDS[k][2][int(j)][0] for k, j in zip(c.kind, c.leaf, strict=True)])
        if include:
            cand &= np.isin(root, include) | np.isin(leaf, include)
        if exclude:
            cand &= ~(np.isin(root, exclude) | np.isin(leaf, exclude))
        ranges = bool(selection.get("isRangeEnabled", False))
        dpr = selection.get("deltaPercentRange") if ranges else None
        if dpr and dpr[0] >= 10 and pt in (USED, USED_ACC, USED_GOOD, USED_VG, USED_NEW):
            day = (crawled // DAY) - self.start_day
            cand &= c.in_dip(day.astype(float))  # used-price drops come from dips
        idx = np.nonzero(cand)[0]
        depth = np.where(np.isfinite(c.dip_period), c.dip_depth, 0)
        if sort_type == 3:
            order = np.argsort(c.rank_low[idx], kind="stable")
        elif sort_type == 2:
            order = np.argsort(-(c.base_used[idx] * depth[idx]), kind="stable")
        elif sort_type == 4:
            order = np.argsort(-depth[idx], kind="stable")
        elif sort_type == 1:  # newest deal first: exactly the dict's creationDate
            order = np.argsort(-self._creation_dates(idx, crawled[idx]), kind="stable")
        else:
            order = np.argsort(-crawled[idx], kind="stable")
        return idx[order], crawled

    def _creation_dates(self, idx: np.ndarray, at: np.ndarray) -> np.ndarray:
        """When each product's current deal appeared (Keepa minutes), seen at `at`: the start
        of the day its price dip began, else the crawl itself."""
        c = self.catalog
        at = at.astype(np.int64)
        period = c.dip_period[idx]
        pos = np.mod((at // DAY - self.start_day) - c.dip_phase[idx], period)
        dip = np.isfinite(period) & (pos < c.dip_len[idx])
        start = np.where(dip, np.trunc((at // DAY - np.where(dip, pos, 0)) * DAY), 0)
        return np.where(dip, np.maximum(self.t0, start.astype(np.int64)), at)

    @staticmethod
    def _deal_matches(d: dict[str, Any], sel: dict[str, Any], pt: int, dr: int,
                      ranges: bool) -> bool:
        cur = d["current"][pt]
        if cur < 0:
            return False
        if sel.get("isFilterEnabled"):
            if sel.get("mustNotHaveAmazonOffer") and d["current"][AMAZON] > 0:
                return False
            if sel.get("mustHaveAmazonOffer") and d["current"][AMAZON] <= 0:
                return False
        if ranges:
            checks = (("currentRange", cur), ("deltaRange", d["delta"][dr][pt]),
                      ("deltaPercentRange", d["deltaPercent"][dr][pt]),
                      ("salesRankRange", d["current"][SALES]))
            for name, value in checks:
                rng = sel.get(name)
                if rng and len(rng) == 2:
                    lo, hi = rng
                    if name == "salesRankRange" and value < 0:
                        return False
                    if (lo is not None and lo >= 0 and value < lo) or (
                            hi is not None and hi >= 0 and value > hi):
                        return False
        title = sel.get("titleSearch")
        return not (title and str(title).lower() not in d["title"].lower())

    # ---- product finder -------------------------------------------------------------------

    def query(self, selection: dict[str, Any]) -> tuple[list[str], int]:
        """Product finder: (asinList page, totalResults among scanned products)."""
        import keepa

        names = {name: idx for idx, name, _ in keepa.csv_indices}
        per_page = max(50, int(selection.get("perPage", 50)))
        page = int(selection.get("page", 0))
        now = self.now_min()
        c = self.catalog
        cand = np.ones(c.n, dtype=bool)
        roots = selection.get("rootCategory")
        if roots is not None:
            cand &= np.isin(c.root(), roots if isinstance(roots, list) else [roots])
        crawled = self.crawl_times(now)
        filters: list[tuple[str, int | None, str, float]] = []
        for key, val in selection.items():
            if not key.endswith(("_gte", "_lte")):
                continue
            base, op = key[:-4], key[-3:]
            stat, _, type_name = base.partition("_")
            if stat.startswith("salesRankDrops") and not type_name:
                filters.append((stat, None, op, float(val)))
            elif stat in ("current", "avg30", "avg90", "avg180", "avg365") and \
                    type_name in names:
                filters.append((stat, names[type_name], op, float(val)))
            else:
                raise SandboxError(400, f"unsupported product finder filter {key!r}")
        hits: list[str] = []
        scan = np.nonzero(cand)[0][:MAX_SCAN]
        for c0 in range(0, len(scan), GEN_CHUNK):
            chunk = scan[c0:c0 + GEN_CHUNK]
            sts = self._stats_at(chunk.tolist(), crawled[chunk], 90) if filters else []
            for n, i in enumerate(chunk.tolist()):
                if filters:
                    st = sts[n]
                    ok = True
                    for stat, idx, op, val in filters:
                        v = st[stat] if idx is None else st[stat][idx]
                        if v is None or v < 0 or (op == "gte" and v < val) or (
                                op == "lte" and v > val):
                            ok = False
                            break
                    if not ok:
                        continue
                hits.append(c.asins[i])
        return hits[page * per_page:(page + 1) * per_page], len(hits)

    def _stats_at(self, idx: list[int], at: np.ndarray, interval: int) -> list[dict[str, Any]]:
        """Stats objects of products `idx` seen at `at` (vectorized over the products)."""
        entries, tab = self._entries_table(idx, int(at.max()))
        if tab is None:
            tab = SeriesTable.concat([e.table for e in entries])
        g = np.repeat(np.arange(len(idx), dtype=np.int64), N_SLOTS)
        rows = g * N_SLOTS + np.tile(np.arange(N_SLOTS, dtype=np.int64), len(idx))
        a, b = tab.view(rows, at[g], None)
        return tab.stats(g, np.tile(_IDS, len(idx)), rows, a, b, at, interval,
                         [{} for _ in idx])

    # ---- categories ------------------------------------------------------------------------

    def category(self, cat_id: int) -> dict[str, Any] | None:
        for kind in KINDS:
            if cat_id == kind[1]:
                children = sorted({leaf for k in KINDS if k[1] == cat_id for leaf, _ in k[2]})
                return {"domainId": 1, "catId": cat_id, "name": ROOT_NAMES[cat_id],
                        "contextFreeName": ROOT_NAMES[cat_id], "children": children,
                        "parent": 0, "highestRank": 10_000_000,
                        "productCount": int((self.catalog.root() == cat_id).sum()),
                        "isBrowseNode": True}
            for leaf, name in kind[2]:
                if leaf == cat_id:
                    return {"domainId": 1, "catId": leaf, "name": name, "contextFreeName": name,
                            "children": [], "parent": kind[1], "highestRank": 5_000_000,
                            "productCount": 0, "isBrowseNode": True}
        return None

    @property
    def books_root(self) -> int:
        return BOOKS_ROOT
