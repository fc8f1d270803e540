"""/query/: Keepa's product finder over the market (filters on current/average values and
sales rank drops, as of each product's last crawl)."""

from __future__ import annotations

from typing import Any

import numpy as np

from tools.keepa.conventions import CSV_INDEX
from tools.sandbox.keepa.core import GEN_CHUNK, SLOT_IDS, MarketCore, SandboxError
from tools.sandbox.keepa.series import N_SLOTS
from tools.sandbox.keepa.stats import SeriesTable

MAX_SCAN = 4000  # exact evaluations per /query/ request


class ProductFinder:
    """The /query/ endpoint over a market."""

    def __init__(self, market: MarketCore) -> None:
        self.market = market

    def query(self, selection: dict[str, Any]) -> tuple[list[str], int]:
        """Product finder: (asinList page, totalResults among scanned products)."""
        per_page = max(50, int(selection.get("perPage", 50)))
        page = int(selection.get("page", 0))
        now = self.market.now_min()
        c = self.market.catalog
        cand = np.ones(c.n, dtype=bool)
        roots = selection.get("rootCategory")
        if roots is not None:
            cand &= np.isin(c.root(), roots if isinstance(roots, list) else [roots])
        crawled = self.market.crawl_times(now)
        filters: list[tuple[str, int | None, str, float]] = []
        for key, val in selection.items():
            if not key.endswith(("_gte", "_lte")):
                continue
            base, op = key[:-4], key[-3:]
            stat, _, type_name = base.partition("_")
            if stat.startswith("salesRankDrops") and not type_name:
                filters.append((stat, None, op, float(val)))
            elif (
                stat in ("current", "avg30", "avg90", "avg180", "avg365") and type_name in CSV_INDEX
            ):
                filters.append((stat, CSV_INDEX[type_name], op, float(val)))
            else:
                raise SandboxError(400, f"unsupported product finder filter {key!r}")
        hits: list[str] = []
        scan = np.nonzero(cand)[0][:MAX_SCAN]
        for c0 in range(0, len(scan), GEN_CHUNK):
            chunk = scan[c0 : c0 + GEN_CHUNK]
            sts = self._stats_at(chunk.tolist(), crawled[chunk], 90) if filters else []
            for n, i in enumerate(chunk.tolist()):
                if filters:
                    st = sts[n]
                    ok = True
                    for stat, idx, op, val in filters:
                        v = st[stat] if idx is None else st[stat][idx]
                        if (
                            v is None
                            or v < 0
                            or (op == "gte" and v < val)
                            or (op == "lte" and v > val)
                        ):
                            ok = False
                            break
                    if not ok:
                        continue
                hits.append(c.asins[i])
        return hits[page * per_page : (page + 1) * per_page], len(hits)

    def _stats_at(self, idx: list[int], at: np.ndarray, interval: int) -> list[dict[str, Any]]:
        """Stats objects of products `idx` seen at `at` (vectorized over the products)."""
        entries, tab = self.market.entries_table(idx, int(at.max()))
        if tab is None:
            tab = SeriesTable.concat([e.table for e in entries])
        g = np.repeat(np.arange(len(idx), dtype=np.int64), N_SLOTS)
        rows = g * N_SLOTS + np.tile(np.arange(N_SLOTS, dtype=np.int64), len(idx))
        a, b = tab.view(rows, at[g], None)
        return tab.stats(
            g, np.tile(SLOT_IDS, len(idx)), rows, a, b, at, interval, [{} for _ in idx]
        )
