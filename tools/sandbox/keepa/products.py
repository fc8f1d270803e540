"""/product/: products as Keepa answers them, cut at the time each was last crawled.

All products of a request are answered in one vectorized pass over their series tables
(cached histories, stats and csv slices computed for every product at once); what each product
costs follows Keepa's rules in tools/keepa/costs.py.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from tools.keepa import costs
from tools.sandbox.keepa.catalog import BOOK_KINDS, KIND_NAMES, KINDS, ROOT_NAMES
from tools.sandbox.keepa.core import SLOT_IDS, Entry, MarketCore
from tools.sandbox.keepa.offers import offers_of
from tools.sandbox.keepa.sellers import AMAZON_SELLER
from tools.sandbox.keepa.series import (
    AMAZON,
    BUY_BOX_SHIPPING,
    BUY_BOX_USED,
    COUNT_REVIEWS,
    N_SLOTS,
    NEW,
    SALES,
    SLOT,
    SLOTS,
    USED,
    USED_ACC,
    cheap_condition,
    product_keys,
    uniform,
)
from tools.sandbox.keepa.stats import N_TYPES, SeriesTable

_NESTED = ("buyBoxEligibleOfferCounts", "categories", "categoryTree", "languages")
S_STATIC = 100  # hash stream of the time-free product fields
_IDS_BB = np.array((*SLOTS, BUY_BOX_USED), dtype=np.int64)
_SLOTS_BB = np.array((*range(N_SLOTS), SLOT[USED_ACC]), dtype=np.int64)


class Cut:
    """Products' series cut at the minute each is seen (and to the last `days` days): row r is
    csv type ids[r] of product g[r], table row rows[r], points [a, b). What /product/ answers
    and the market's truth (truth.py) read a product's current values from."""

    __slots__ = ("a", "b", "g", "ids", "ids1", "live", "n_p", "rows", "tab")

    def __init__(
        self,
        tab: SeriesTable,
        at: np.ndarray,
        days: int | None,
        buybox: bool,
        cheap: np.ndarray | None = None,
    ) -> None:
        """`cheap` (with buybox): each product's cheapest used row (csv index), which the used
        buy box follows (series.cheap_condition)."""
        ids1, slots1 = (_IDS_BB, _SLOTS_BB) if buybox else (SLOT_IDS, np.arange(N_SLOTS))
        self.tab, self.n_p, self.ids1 = tab, len(at), ids1
        self.g = np.repeat(np.arange(self.n_p, dtype=np.int64), len(ids1))
        self.ids = np.tile(ids1, self.n_p)
        slots = np.tile(slots1, self.n_p)
        if buybox and cheap is not None:
            slots[N_SLOTS :: N_SLOTS + 1] = [SLOT[c] for c in cheap.tolist()]
        self.rows = self.g * N_SLOTS + slots
        self.a, self.b = tab.view(self.rows, at[self.g], days)
        self.live = self.b > self.a

    def current(self) -> tuple[list[dict[int, int]], list[dict[int, int]]]:
        """Per product: the current raw value per csv index (-1: none), and the minute of the
        last point per csv index that has one."""
        nr, tab = len(self.ids1), self.tab
        last = np.maximum(self.b - 1, 0)
        cur_l = np.where(self.live, tab.raw[last], -1).reshape(self.n_p, nr).tolist()
        lt_l = np.where(self.live, tab.t[last], -1).reshape(self.n_p, nr).tolist()
        ids1_l = self.ids1.tolist()
        return (
            [dict(zip(ids1_l, c, strict=True)) for c in cur_l],
            [{idx: t for idx, t in zip(ids1_l, ts, strict=True) if t >= 0} for ts in lt_l],
        )


class Products:
    """The /product/ endpoint over a market; remembers when each product's offers were read
    (a repeat within the hour is charged as fresh)."""

    def __init__(self, market: MarketCore, sellers: list[dict[str, Any]]) -> None:
        self.market = market
        self.sellers = sellers
        self._offers_seen: dict[int, int] = {}

    def _seen_at(self, i: int, now: int, update: int | None) -> tuple[int, bool]:
        """(minute the product's data is from, whether `update=0` forced a refresh of data
        under an hour old) for a /product/ call."""
        crawled = self.market.crawl_time(i, now)
        fresh_h = 1 if update is None else update
        forced = update is not None and update == 0 and now - crawled < 60
        return (crawled if (fresh_h < 0 or now - crawled <= fresh_h * 60) else now), forced

    def products(
        self,
        asins: Sequence[str],
        *,
        stats: int | None = None,
        history: bool = True,
        offers: int | None = None,
        buybox: bool = False,
        rating: bool = False,
        update: int | None = None,
        days: int | None = None,
        arrays: bool = False,
    ) -> list[tuple[dict[str, Any], int] | None]:
        """Keepa product dicts and token costs of many ASINs at once (one vectorized pass); None
        for unknown ASINs.

        `arrays=True` is for answers serialized at once with orjson (OPT_SERIALIZE_NUMPY):
        csv histories and stats arrays stay numpy arrays/views (no Python ints or lists to
        build, nor to collect) and cached nested fields are shared, not copied.
        """
        market = self.market
        now = market.now_min()
        known = [(k, i) for k, a in enumerate(asins) if (i := market.index_of(a)) is not None]
        out: list[tuple[dict[str, Any], int] | None] = [None] * len(asins)
        if not known:
            return out
        seen = [self._seen_at(i, now, update) for _, i in known]
        at = np.array([x[0] for x in seen], dtype=np.int64)
        entries, tab = market.entries_table([i for _, i in known], int(at.max()), history)
        if tab is None:
            if history:  # cached with the product for later history requests
                for e in entries:
                    e.table.ensure_csv()
            tab = SeriesTable.concat([e.table for e in entries])
        n_p = len(known)
        cheap = (
            cheap_condition(market.catalog, np.array([i for _, i in known], dtype=np.int64))
            if buybox
            else None
        )
        cut = Cut(tab, at, days, buybox, cheap)
        g, ids, rows, a, b, live = cut.g, cut.ids, cut.rows, cut.a, cut.b, cut.live
        current, changed = cut.current()
        if history:  # every non-empty cut series as a csv slice, per product
            csv_rows = np.flatnonzero(live)
            slices = tab.csv(rows[csv_rows], a[csv_rows], b[csv_rows])
            if not arrays:
                slices = [x.tolist() for x in slices]
            csv_of: list[list[tuple[int, Any]]] = [[] for _ in range(n_p)]
            for r, arr in zip((g[csv_rows] * 64 + ids[csv_rows]).tolist(), slices, strict=True):
                csv_of[r >> 6].append((r & 63, arr))
        self._fill_static([i for _, i in known], entries)
        extras: list[dict[str, Any]] = []
        for p, (k, i) in enumerate(known):
            at_p = int(at[p])
            cur, last_t = current[p], changed[p]
            product = self._product_dict(i, entries[p], cur, last_t, at_p, copy=not arrays)
            stat_extra: dict[str, Any] = {}
            found: int | None = None
            fresh = False
            if offers:
                offer_list, stat_extra = offers_of(
                    market.seed, self.sellers, i, cur, entries[p].used_ship, at_p, offers
                )
                product["offers"] = offer_list
                product["liveOffersOrder"] = stat_extra.pop("liveOffersOrder", [])
                product["offersSuccessful"] = True
                found = len(product["liveOffersOrder"])  # Keepa charges the live ones
                last_seen = self._offers_seen.get(i)
                fresh = last_seen is not None and now - last_seen < costs.OFFERS_FRESH_MIN
                self._offers_seen[i] = now
                if buybox:
                    product["buyBoxSellerIdHistory"] = [
                        str(at_p),
                        stat_extra.get("buyBoxSellerId") or AMAZON_SELLER,
                    ]
            if buybox:
                stat_extra.setdefault("buyBoxPrice", cur.get(BUY_BOX_SHIPPING, -1))
                stat_extra.setdefault("buyBoxShipping", 0)
            cost = costs.product_charge(
                offers_found=found,
                offers_fresh=fresh,
                buybox=buybox,
                rating=rating and cur.get(COUNT_REVIEWS, -1) > 0,
                forced_refresh=seen[p][1],
            )
            if history:
                csv: list[Any] = [None] * N_TYPES
                for idx, arr in csv_of[p]:
                    csv[idx] = arr
                product["csv"] = csv
                product["salesRanks"] = {str(market.root(i)): csv[SALES]}
            else:
                product["csv"] = None
            extras.append(stat_extra)
            out[k] = (product, cost)
        if stats:
            for (k, _), st in zip(
                known, tab.stats(g, ids, rows, a, b, at, stats, extras, arrays), strict=True
            ):
                out[k][0]["stats"] = st  # type: ignore[index]
        return out

    def _product_dict(
        self,
        i: int,
        entry: Entry,
        cur: dict[int, int],
        last_t: dict[int, int],
        at: int,
        copy: bool = True,
    ) -> dict[str, Any]:
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
                d[key] = [
                    dict(x) if isinstance(x, dict) else list(x) if isinstance(x, list) else x
                    for x in d[key]
                ]
        return d

    def _fill_static(self, idx: list[int], entries: list[Entry]) -> None:
        """Build the time-free fields of entries that lack them (their draws vectorized)."""
        todo = [(i, e) for i, e in zip(idx, entries, strict=True) if e.static is None]
        if not todo:
            return
        ids = np.array([i for i, _ in todo], dtype=np.int64)
        keys = np.repeat(product_keys(self.market.seed, ids), 4)
        u = uniform(keys, S_STATIC, np.tile(np.arange(4), len(todo))).reshape(-1, 4).tolist()
        for (i, e), ui in zip(todo, u, strict=True):
            e.static = self._static_fields(i, ui)

    def _static_fields(self, i: int, u: list[float]) -> dict[str, Any]:
        """Product fields that never change with market time (placeholders for those that do);
        `u`: four of the product's uniform draws (see _fill_static)."""
        c = self.market.catalog
        t0 = self.market.t0
        k = int(c.kind[i])
        kind = KIND_NAMES[k]
        root = KINDS[k][1]
        leaf_id, leaf_name = KINDS[k][2][int(c.leaf[i])]
        book = k in BOOK_KINDS
        weight = int(c.weight_g[i])
        length, width, height = (int(x) for x in c.dims_mm[i])
        fee = (
            322 + max(0, weight - 340) // 100 * 40
            if book
            else 371 + max(0, weight - 227) // 100 * 45
        )
        monthly = int(float(c.velocity[i]) * 30 // 50 * 50)
        asin = c.asins[i]
        pub = 20000101 + int(u[0] * 25) * 10000 + int(u[1] * 12) * 100 + int(u[2] * 28)
        return {
            "asin": asin,
            "author": c.author(i),
            "availabilityAmazon": -1,
            "binding": KINDS[k][3],
            "brand": None if book else "Sandbox Goods",
            "buyBoxEligibleOfferCounts": [1, 0, 0, 0, 0, 0, 0, 0],
            "buyBoxSellerIdHistory": None,
            "categories": c.categories(i),
            "categoryTree": [
                {"catId": root, "name": ROOT_NAMES[root]},
                {"catId": leaf_id, "name": leaf_name},
            ],
            "color": None,
            "coupon": None,
            "csv": None,
            "description": f"Synthetic {kind.replace('_', ' ')} product from the Keepa sandbox.",
            "domainId": 1,
            "eanList": None,
            "ebayListingIds": None,
            "edition": None,
            "fbaFees": {"lastUpdate": 0, "pickAndPackFee": int(fee)},
            "features": None,
            "format": None,
            "frequentlyBoughtTogether": None,
            "hasReviews": False,
            "images": None,
            "isAdultProduct": False,
            "isEligibleForSuperSaverShipping": True,
            "isEligibleForTradeIn": book,
            "isHeatSensitive": False,
            "isRedirectASIN": False,
            "isSNS": False,
            "itemHeight": height,
            "itemLength": length,
            "itemWeight": weight,
            "itemWidth": width,
            "itemTypeKeyword": kind.replace("_", "-"),
            "languages": [["English", "Published"]] if book else None,
            "lastEbayUpdate": 0,
            "lastPriceChange": 0,
            "lastRatingUpdate": 0,
            "lastSoldUpdate": 0,
            "lastUpdate": 0,
            "launchpad": False,
            "listedSince": t0,
            "liveOffersOrder": None,
            "manufacturer": c.publisher(i) if book else "Sandbox Goods",
            "model": None,
            "monthlySold": monthly if monthly >= 50 else 0,
            "monthlySoldHistory": None,
            "numberOfItems": 1,
            "numberOfPages": 120 + int(u[3] * 1080) if book else -1,
            "offersSuccessful": False,
            "packageHeight": height,
            "packageLength": length,
            "packageQuantity": 1,
            "packageWeight": weight,
            "packageWidth": width,
            "parentAsin": None,
            "partNumber": None,
            "productGroup": "Book" if book else "Home",
            "productType": 0,
            "promotions": None,
            "publicationDate": pub if book else 0,
            "referralFeePercent": 15,
            "referralFeePercentage": 15.0,
            "releaseDate": 0,
            "rootCategory": root,
            "salesRankDisplayGroup": "book_display_on_website" if book else "home_display",
            "salesRankReference": root,
            "salesRankReferenceHistory": None,
            "salesRanks": None,
            "size": None,
            "stats": None,
            "title": c.title(i),
            "trackingSince": t0,
            "type": "ABIS_BOOK" if book else "HOME",
            "upcList": None,
            "urlSlug": None,
            "variations": None,
            "websiteDisplayGroup": "book_display_on_website" if book else "home_display_on_website",
            "websiteDisplayGroupName": "Book" if book else "Home",
        }
