"""The sellers' side of the simulated world: each seller's records, as of the world's clock.

A seller's records come from up to two ledgers: a seeded history (history.py, for sellers
that need a past) and the units the seller sent in (fulfilment.py), whose sales the Keepa
sandbox market decides. Units come from `register` (the sandbox control API) and from the
`shipments` provider (the embedded default reads the app's purchases, so every process's
in-process sandbox computes the same world). Queries merge the ledgers in key order.
"""

from __future__ import annotations

import heapq
import math
import threading
from collections.abc import Callable, Iterator, Sequence
from typing import Any

from tools.clock import Clock
from tools.sandbox.spapi.fulfilment import MarketSales, Shipment, unit_ledger
from tools.sandbox.spapi.history import DAY, HistorySpec, seeded_ledger
from tools.sandbox.spapi.ledger import Event, Ledger, Order, SkuView

HORIZON_S = 7 * DAY  # units' timelines are computed this far past the clock, then extended


class SellerWorld:
    def __init__(
        self,
        clock: Clock,
        market: Any = None,
        histories: dict[str, HistorySpec] | None = None,
        shipments: Callable[[str], Sequence[Shipment]] | None = None,
    ) -> None:
        self.clock = clock
        self.market = market
        self._specs = dict(histories or {})
        self._provider = shipments
        self._seeded: dict[str, Ledger] = {}
        self._registered: dict[str, list[Shipment]] = {}
        self._units: dict[str, tuple[tuple[tuple[Shipment, ...], float], Ledger]] = {}
        self._lock = threading.Lock()

    # ---- what the world holds ----------------------------------------------------------------

    def seed(self, seller_id: str, spec: HistorySpec) -> None:
        """Give a seller a seeded history (replacing any earlier one)."""
        with self._lock:
            self._specs[seller_id] = spec
            self._seeded.pop(seller_id, None)

    def register(self, seller_id: str, shipment: Shipment) -> None:
        """The seller sends units in (the sandbox control API)."""
        with self._lock:
            self._registered.setdefault(seller_id, []).append(shipment)

    def shipments(self, seller_id: str) -> tuple[Shipment, ...]:
        provided = tuple(self._provider(seller_id)) if self._provider else ()
        return tuple(self._registered.get(seller_id, ())) + provided

    def ledgers(self, seller_id: str) -> list[Ledger]:
        out = []
        seeded = self._seeded_ledger(seller_id)
        if seeded is not None:
            out.append(seeded)
        units = self._unit_ledger(seller_id)
        if units is not None:
            out.append(units)
        return out

    def _seeded_ledger(self, seller_id: str) -> Ledger | None:
        with self._lock:
            ledger = self._seeded.get(seller_id)
            spec = self._specs.get(seller_id)
            if ledger is not None or spec is None:
                return ledger
            catalog = _market_books(self.market, spec.n_skus)
            ledger = self._seeded[seller_id] = seeded_ledger(seller_id, spec, catalog)
            return ledger

    def _unit_ledger(self, seller_id: str) -> Ledger | None:
        shipments = self.shipments(seller_id)
        if not shipments:
            return None
        horizon = (math.floor(self.clock.now() / HORIZON_S) + 2) * HORIZON_S
        key = (shipments, horizon)
        with self._lock:
            cached = self._units.get(seller_id)
            if cached is not None and cached[0] == key:
                return cached[1]
        sales = MarketSales(self.market) if self.market is not None else None
        ledger = unit_ledger(seller_id, shipments, sales, horizon)
        with self._lock:
            self._units[seller_id] = (key, ledger)
        return ledger

    # ---- what SP-API shows -------------------------------------------------------------------

    def skus(self, seller_id: str, now: float) -> list[SkuView]:
        """Every SKU the seller has at `now`, sorted by SKU (a SKU in both ledgers: the
        seeded one's quantities plus the units')."""
        merged: dict[str, SkuView] = {}
        for ledger in self.ledgers(seller_id):
            for v in ledger.skus.skus_at(now):
                have = merged.get(v.sku)
                if have is None:
                    merged[v.sku] = v
                    continue
                merged[v.sku] = SkuView(
                    v.sku,
                    have.asin,
                    have.fnsku,
                    have.condition,
                    have.title,
                    have.fulfillable + v.fulfillable,
                    have.inbound_working + v.inbound_working,
                    have.inbound_shipped + v.inbound_shipped,
                    have.inbound_receiving + v.inbound_receiving,
                    have.reserved + v.reserved,
                    have.unfulfillable + v.unfulfillable,
                    have.researching + v.researching,
                    max(have.updated, v.updated),
                )
        return sorted(merged.values(), key=lambda v: v.sku)

    def order(self, seller_id: str, order_id: str, now: float) -> Order | None:
        for ledger in self.ledgers(seller_id):
            o = ledger.by_id.get(order_id)
            if o is not None and o.purchased <= now:
                return o
        return None

    def orders_created(
        self, seller_id: str, after: float, before: float, pos: tuple[float, str] | None
    ) -> Iterator[tuple[float, str, Order]]:
        return heapq.merge(
            *(lg.created(after, before, pos) for lg in self.ledgers(seller_id)),
            key=lambda r: (r[0], r[1]),
        )

    def orders_updated(
        self,
        seller_id: str,
        after: float,
        before: float,
        now: float,
        pos: tuple[float, str] | None,
    ) -> Iterator[tuple[float, str, Order]]:
        return heapq.merge(
            *(lg.updated(after, before, now, pos) for lg in self.ledgers(seller_id)),
            key=lambda r: (r[0], r[1]),
        )

    def events(
        self,
        seller_id: str,
        after: float,
        before: float,
        pos: tuple[float, str] | None,
        now: float,
    ) -> Iterator[tuple[float, str, Event]]:
        return heapq.merge(
            *(lg.posted(after, before, pos, now) for lg in self.ledgers(seller_id)),
            key=lambda r: (r[0], r[1]),
        )


def _market_books(market: Any, n: int) -> list[tuple[str, str]]:
    """(asin, title) of the market's first books, so a seeded seller lists books the rest of
    the sandbox knows (cycled when the seller has more SKUs than the market has books)."""
    if market is None or n <= 0:
        return []
    catalog = market.catalog
    books = [int(i) for i in catalog.is_book().nonzero()[0][:n]]
    return [(catalog.asins[i], str(catalog.title(i))) for i in books]
