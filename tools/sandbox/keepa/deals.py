"""/deal/: the products whose price just dropped, paged 150 at a time like Keepa's.

A deal object only changes when Keepa re-crawls its product, so deal objects are cached by
(product, crawl minute); a selection's candidate scan at one market minute is kept, so page p
continues where page p-1 stopped, and a later scan of the same selection reuses what was not
re-crawled since.
"""

from __future__ import annotations

import json
import math
import threading
from collections import OrderedDict
from collections.abc import Callable
from typing import Any

import numpy as np

from tools.sandbox.keepa.catalog import KINDS, ROOT_NAMES
from tools.sandbox.keepa.core import SLOT_IDS, MarketCore, SandboxError
from tools.sandbox.keepa.series import (
    AMAZON,
    DAY,
    N_SLOTS,
    SALES,
    SLOT,
    USED,
    USED_ACC,
    USED_GOOD,
    USED_NEW,
    USED_VG,
    Series,
)
from tools.sandbox.keepa.stats import N_TYPES

DEAL_INTERVALS = (1, 7, 30, 90)  # day, week, month, 90 days
_DEAL_DAYS = np.array(DEAL_INTERVALS)
# /deal/ lists products updated in the last day: real answers hold rows 15-21 h old
# (tools/sandbox/calibration, stratum "broad"), so Keepa's window is not 12 h as once assumed
RECENT_MIN = 24 * 60
MAX_SCANS = 8  # candidate scans kept (selections x market minutes)
DEAL_CACHE_PER_PRODUCT = 8  # deal objects kept per cached product history


class _Scan:
    """One /deal/ candidate scan (a selection at a market minute), continued page by page.

    Matches are kept as (sort key, product, crawl minute), not as deal objects: an unfiltered
    selection over 20,000 products matches ~17,000 (~300 MB as dicts); a page's 150 deals are
    built (or taken from the deal cache) when asked for.
    """

    __slots__ = ("crawled", "idx", "lock", "matches", "n", "prior", "ready", "seen", "sorted")

    def __init__(
        self, idx: np.ndarray, crawled: np.ndarray, prior: dict[int, tuple[int, Any]] | None = None
    ) -> None:
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


class Deals:
    """The /deal/ endpoint over a market, with its deal-object cache and candidate scans."""

    def __init__(self, market: MarketCore) -> None:
        self.market = market
        self._lock = threading.Lock()
        self._deal_cache: OrderedDict[tuple[int, int], dict[str, Any]] = OrderedDict()
        self._deal_scans: OrderedDict[tuple[str, int], _Scan] = OrderedDict()

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
            date_range = int(selection.get("dateRange", 0))  # Keepa's default: the day window
            sort_type = int(selection.get("sortType", 0))
        except (TypeError, ValueError) as err:
            raise SandboxError(400, f"invalid deal selection: {err}") from None
        if not 0 <= date_range <= 3 or not 0 <= pt < N_TYPES or page < 0:
            raise SandboxError(400, "dateRange must be 0-3, priceTypes a csv index, page >= 0")
        now = self.market.now_min()
        scan_key = (
            json.dumps(
                {k: v for k, v in selection.items() if k != "page"}, sort_keys=True, default=str
            ),
            now,
        )
        with self._lock:
            scan = self._deal_scans.get(scan_key)
            prior = next(
                (x.seen for k, x in reversed(self._deal_scans.items()) if k[0] == scan_key[0]), None
            )
        if scan is None:
            scan = _Scan(*self._deal_candidates(selection, now, pt, sort_type), prior=prior)
            with self._lock:
                self._deal_scans[scan_key] = scan
                while len(self._deal_scans) > MAX_SCANS:
                    self._deal_scans.popitem(last=False)

        def rank(d: dict[str, Any], sign: int) -> int:  # no rank: last either way
            return sign * d["current"][SALES] if d["current"][SALES] > 0 else 1 << 40

        keys: dict[int, Callable[[dict[str, Any]], Any]] = {
            1: lambda d: -d["creationDate"],
            2: lambda d: -d["delta"][date_range][pt],
            3: lambda d: rank(d, 1),
            4: lambda d: -d["deltaPercent"][date_range][pt],
            # negative: the same order inverted
            -2: lambda d: d["delta"][date_range][pt],
            -3: lambda d: rank(d, -1),
            -4: lambda d: d["deltaPercent"][date_range][pt],
            0: lambda d: d["lastUpdate"],
        }  # 0 and any other: Keepa's own order
        key = keys.get(sort_type, keys[0])
        # Keepa sorts the whole result. The candidates already come in the exact order of the
        # default (0: Keepa's own order, which real answers show as the least recently updated
        # first), so those pages are evaluated lazily; the other orders (a deal's creation date
        # is when its current price was set: in its history) need every candidate evaluated
        # once per scan.
        lazy = sort_type not in (1, 2, 3, 4, -2, -3, -4)
        need = (page + 1) * 150 if lazy else math.inf
        ranges = bool(selection.get("isRangeEnabled", False))
        with scan.lock:
            prior = scan.prior or {}
            while len(scan.matches) < need and scan.n < len(scan.idx):
                if scan.n >= scan.ready:  # generate the next candidates' histories together
                    chunk = scan.idx[scan.n : scan.n + 64]
                    self._generate_for_deals(
                        [
                            (int(i), int(scan.crawled[i]))
                            for i in chunk
                            if prior.get(int(i), (-1,))[0] != int(scan.crawled[i])
                        ]
                    )
                    scan.ready = scan.n + len(chunk)
                i = int(scan.idx[scan.n])
                at = int(scan.crawled[i])
                scan.n += 1
                hit = prior.get(i)
                if hit is not None and hit[0] == at:  # not re-crawled: the same deal
                    k = hit[1]
                else:
                    d = self._deal_cached(i, at)
                    k = key(d) if self._deal_matches(d, selection, pt, date_range, ranges) else None
                scan.seen[i] = (at, k)
                if k is not None:
                    scan.matches.append((k, i, at))
            if scan.n >= len(scan.idx):
                scan.prior = None  # evaluated: the earlier scan's results can go
            if not lazy and not scan.sorted:
                scan.matches.sort(key=lambda m: m[0])  # stable: ties keep candidate order
                scan.sorted = True
            rows = scan.matches[page * 150 : (page + 1) * 150]
            # category counts cover the whole result (what is evaluated of it, for the lazy
            # default order), not the page
            roots = self.market.catalog.root()[[i for _, i, _ in scan.matches]]
            ids, counts = np.unique(roots, return_counts=True)
            cats = dict(zip(ids.tolist(), counts.tolist(), strict=True))
        if lazy:
            rows = sorted(rows, key=lambda m: m[0])  # ties within one update minute
        dr = self._deals_at([(i, at) for _, i, at in rows])
        return {
            "dr": dr,
            "drDateIndex": [],
            "dealsCached": False,
            "categoryIds": list(cats),
            "categoryNames": [ROOT_NAMES[x] for x in cats],
            "categoryCount": list(cats.values()),
        }

    def _deal_candidates(
        self,
        selection: dict[str, Any],
        now: int,
        pt: int,
        sort_type: int,
    ) -> tuple[np.ndarray, np.ndarray]:
        """(candidate indexes in page order, crawl times): the numpy prefilter of /deal/."""
        c = self.market.catalog
        crawled = self.market.crawl_times(now)
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
            day = (crawled - self.market.start_day * DAY) / DAY
            cand &= c.below_average(day)  # dips, or the weeks after a spike
        idx = np.nonzero(cand)[0]
        depth = np.where(np.isfinite(c.dip_period), np.abs(c.dip_depth), 0)
        if sort_type == 3:
            order = np.argsort(-c.velocity[idx], kind="stable")  # best ranks sell most
        elif sort_type == 2:
            order = np.argsort(-(c.base_used[idx] * depth[idx]), kind="stable")
        elif sort_type == 4:
            order = np.argsort(-depth[idx], kind="stable")
        elif sort_type == 1:  # newest deal first: most recently crawled candidates first
            order = np.argsort(-crawled[idx], kind="stable")
        else:  # Keepa's own order: least recently updated first (exact: lastUpdate = crawl)
            order = np.argsort(crawled[idx], kind="stable")
        return idx[order], crawled

    @staticmethod
    def _deal_matches(
        d: dict[str, Any], sel: dict[str, Any], pt: int, dr: int, ranges: bool
    ) -> bool:
        cur = d["current"][pt]
        if cur < 0 or d["delta"][dr][pt] <= 0:
            return False  # Keepa lists only prices that dropped in the requested window
        if sel.get("isFilterEnabled"):
            if sel.get("mustNotHaveAmazonOffer") and d["current"][AMAZON] > 0:
                return False
            if sel.get("mustHaveAmazonOffer") and d["current"][AMAZON] <= 0:
                return False
        if ranges:
            checks = (
                ("currentRange", cur),
                ("deltaRange", d["delta"][dr][pt]),
                ("deltaPercentRange", d["deltaPercent"][dr][pt]),
                ("salesRankRange", d["current"][SALES]),
            )
            for name, value in checks:
                rng = sel.get(name)
                if rng and len(rng) == 2:
                    lo, hi = rng
                    if name == "salesRankRange" and value < 0:
                        return False
                    if (lo is not None and lo >= 0 and value < lo) or (
                        hi is not None and hi >= 0 and value > hi
                    ):
                        return False
        title = sel.get("titleSearch")
        return not (title and str(title).lower() not in d["title"].lower())

    def _generate_for_deals(self, rows: list[tuple[int, int]]) -> None:
        """Generate, in one batch, the histories of the (product, crawl minute) rows whose deal
        objects are not cached yet."""
        with self._lock:
            todo = [i for i, at in rows if (i, at) not in self._deal_cache]
        if todo:
            self.market.entries(todo, max(at for _, at in rows))

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
                while len(self._deal_cache) > DEAL_CACHE_PER_PRODUCT * self.market.cache_size:
                    self._deal_cache.popitem(last=False)
        return hit

    def _deal(self, i: int, at: int) -> dict[str, Any]:
        tab = self.market.entry(i, at).table
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
        ids = SLOT_IDS[live].tolist()
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
        c = self.market.catalog
        k = int(c.kind[i])
        rank = view[SALES]
        drops = {}
        for w in (30, 90, 180, 365):
            m = rank.t[1:] >= at - w * DAY
            drops[f"salesRankDrops{w}"] = int(((rank.v[1:] < rank.v[:-1]) & m).sum())
        if rank.v[-1:].tolist() == [-1] and len(rank.v) <= 1:
            drops = dict.fromkeys(drops, -1)  # no rank history: Keepa reports -1
        # a deal is as old as its current used price, as Keepa saw it: at the first crawl
        # after the change (else: the crawl that listed it)
        created = self.market.first_crawl_after(i, since[USED]) if since[USED] > 0 else at
        created = min(created, at)
        return {
            "asin": c.asins[i],
            "parentAsin": None,
            "title": c.title(i),
            "rootCat": KINDS[k][1],
            "categories": c.categories(i),
            "lastUpdate": at,
            "creationDate": created,
            "current": cur,
            "avg": avg,
            "delta": delta,
            "deltaPercent": dpct,
            "deltaLast": last,
            "currentSince": since,
            "image": [ord(ch) for ch in "sandbox.jpg"],
            "lightningEnd": 0,
            "lightningStart": 0,
            "backInStock": False,
            "dateIntervalIndex": 0,
            "flags": 0,
            "warehouseCondition": 0,
            "warehouseConditionComment": None,
            "minRating": -1,
            **drops,
        }
