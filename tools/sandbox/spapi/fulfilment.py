"""Units a seller sends to Amazon, and their sales as the Keepa sandbox market decides them.

A shipment (a purchase the seller sends in) is inbound for a few simulated days (working,
shipped, receiving: 4-7 days in all, fixed per shipment), then fulfillable. From then on each
sale the Keepa market makes of that ASIN whose landed price (lowest used price plus its
shipping) is at or above the seller's price sells one of the seller's units at the seller's
price, the cheapest unit first: the order is placed at the market's sale time, paid within the
hour, shipped within a day, and its financial event (price, Amazon's fees) posts a few hours
after shipping. The market's histories are deterministic, so every process computes the same
sales from the same shipments: one simulated world, one clock. Each seller's units are matched
against the market on their own (two sellers may both sell on one market sale).
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from tools.deals.money import estimate_fba_fee
from tools.keepa.conventions import keepa_minutes_to_unix, to_keepa_minutes
from tools.sandbox.spapi.history import DAY, HOUR, TAX_RATE, shipment_item
from tools.sandbox.spapi.ledger import Event, Ledger, Order, OrderItem, SkuView

DEFAULT_FBA_FEE = 3.22
# condition type -> (summary condition, order item ConditionId, ConditionSubtypeId)
CONDITION_NAMES = {
    "new_new": ("NewItem", "New", "New"),
    "used_like_new": ("UsedLikeNew", "Used", "Like New"),
    "used_very_good": ("UsedVeryGood", "Used", "Very Good"),
    "used_good": ("UsedGood", "Used", "Good"),
    "used_acceptable": ("UsedAcceptable", "Used", "Acceptable"),
}


@dataclass(frozen=True)
class Shipment:
    """Units a seller sends in: `sent_at` is when they leave the seller (epoch seconds)."""

    sku: str
    asin: str
    condition: str  # a condition type, e.g. used_good
    quantity: int
    price: float  # the seller's list price (FBA: no shipping charged)
    sent_at: float
    title: str | None = None


@dataclass(frozen=True)
class UnitPlan:
    """One unit's timeline (epoch seconds; None: not reached within the horizon)."""

    shipment: Shipment
    unit: int
    shipped_out: float  # inbound working -> shipped
    receiving: float  # -> receiving
    available: float  # -> fulfillable
    sold: float | None  # an order is placed (reserved until shipped)
    delivered: float | None  # shipped to the buyer: gone from inventory


def _frac(*parts: object) -> float:
    digest = hashlib.sha256(":".join(map(str, parts)).encode()).digest()
    return int.from_bytes(digest[:8], "big") / 2**64


def inbound_times(s: Shipment) -> tuple[float, float, float]:
    """(shipped out, receiving from, available from): a few simulated days, fixed per shipment."""
    out = s.sent_at + (0.5 + 0.5 * _frac(s.sku, s.sent_at, "work")) * DAY
    receiving = out + (2.0 + 3.0 * _frac(s.sku, s.sent_at, "transit")) * DAY
    return out, receiving, receiving + 1.0 * DAY


class MarketSales:
    """The Keepa market's sales of one ASIN with their landed prices (cents), up to a time."""

    def __init__(self, market: Any) -> None:
        self.market = market

    def sales(self, asin: str, after: float, until: float) -> list[tuple[float, int]]:
        """[(epoch seconds, landed cents)] of the market's sales in (after, until]."""
        from tools.sandbox.keepa.series import USED

        i = self.market.index_of(asin)
        if i is None:
            return []
        hi = min(to_keepa_minutes(until), self.market.end_min)
        lo = to_keepa_minutes(after)
        if hi <= lo:
            return []
        hist = self.market.history(i, hi)
        sale_t = hist.sale_t[(hist.sale_t > lo) & (hist.sale_t <= hi)]
        used = hist.series.get(USED)
        if used is None or not len(sale_t):
            return []
        k = np.searchsorted(used.t, sale_t, side="right") - 1
        price = np.where(k >= 0, used.v[np.maximum(k, 0)], -1)
        return [
            (keepa_minutes_to_unix(int(t)), int(p) + int(hist.used_ship))
            for t, p in zip(sale_t, price, strict=True)
            if p > 0
        ]

    def fba_fee(self, asin: str) -> float:
        i = self.market.index_of(asin)
        if i is None:
            return DEFAULT_FBA_FEE
        cat = self.market.catalog
        dims = cat.dims_mm[i]
        est = estimate_fba_fee(
            float(dims[0]), float(dims[1]), float(dims[2]), float(cat.weight_g[i])
        )
        return est.fee if est is not None else DEFAULT_FBA_FEE

    def title(self, asin: str) -> str | None:
        i = self.market.index_of(asin)
        return None if i is None else str(self.market.catalog.title(i))


def plan_units(
    shipments: Sequence[Shipment], sales: MarketSales | None, until: float
) -> list[UnitPlan]:
    """Every unit's timeline up to `until`: per ASIN, each market sale at or above a waiting
    unit's price sells the cheapest such unit (ties: the one sent first)."""
    units: list[tuple[Shipment, int, tuple[float, float, float]]] = []
    for s in shipments:
        times = inbound_times(s)
        units.extend((s, u, times) for u in range(max(0, s.quantity)))
    sold: dict[int, float] = {}
    by_asin: dict[str, list[int]] = {}
    for n, (s, _, _) in enumerate(units):
        by_asin.setdefault(s.asin, []).append(n)
    for asin, members in by_asin.items():
        if sales is None:
            continue
        first = min(units[n][2][2] for n in members)
        waiting = sorted(members, key=lambda n: (units[n][0].price, units[n][0].sent_at, n))
        for t, landed in sales.sales(asin, first, until):
            pick = next(
                (
                    n
                    for n in waiting
                    if units[n][2][2] <= t and round(units[n][0].price * 100) <= landed
                ),
                None,
            )
            if pick is None:
                continue
            waiting.remove(pick)
            sold[pick] = t
            if not waiting:
                break
    plans = []
    for n, (s, u, (out, receiving, available)) in enumerate(units):
        sold_at = sold.get(n)
        delivered = None if sold_at is None else sold_at + _ship_delay(s, u)
        plans.append(UnitPlan(s, u, out, receiving, available, sold_at, delivered))
    return plans


def _ship_delay(s: Shipment, unit: int) -> float:
    """Placed -> shipped to the buyer: 6-24 hours (paid within the first hour)."""
    return (6.0 + 18.0 * _frac(s.sku, s.sent_at, unit, "ship")) * HOUR


class _UnitInventory:
    """Inventory summaries computed from the units' timelines at the time asked."""

    def __init__(self, plans: list[UnitPlan], fnsku: dict[str, str], titles: dict[str, str]):
        self.plans = plans
        self.fnsku = fnsku
        self.titles = titles

    def skus_at(self, t: float) -> list[SkuView]:
        views: dict[str, SkuView] = {}
        for p in self.plans:
            s = p.shipment
            if s.sent_at > t:
                continue
            v = views.get(s.sku)
            if v is None:
                v = views[s.sku] = SkuView(
                    sku=s.sku,
                    asin=s.asin,
                    fnsku=self.fnsku[s.sku],
                    condition=CONDITION_NAMES.get(s.condition, ("UsedGood", "", ""))[0],
                    title=self.titles.get(s.sku, ""),
                )
            changes = [s.sent_at, p.shipped_out, p.receiving, p.available]
            if p.delivered is not None and t >= p.delivered:
                changes.append(p.delivered)
            elif p.sold is not None and t >= p.sold:
                v.reserved += 1
                changes.append(p.sold)
            elif t >= p.available:
                v.fulfillable += 1
            elif t >= p.receiving:
                v.inbound_receiving += 1
            elif t >= p.shipped_out:
                v.inbound_shipped += 1
            else:
                v.inbound_working += 1
            v.updated = max(v.updated, max(c for c in changes if c <= t))
        return sorted(views.values(), key=lambda v: v.sku)


def unit_ledger(
    seller_id: str, shipments: Sequence[Shipment], sales: MarketSales | None, until: float
) -> Ledger:
    """A ledger of the seller's sent-in units up to `until`: their inventory, the orders the
    market's sales made and those orders' shipment events."""
    plans = plan_units(shipments, sales, until)
    fnsku = {
        s.sku: "X00" + hashlib.sha256(f"{seller_id}:{s.sku}".encode()).hexdigest()[:7].upper()
        for s in shipments
    }
    titles = {
        s.sku: s.title or (sales.title(s.asin) if sales else None) or s.asin for s in shipments
    }
    orders: list[Order] = []
    events: list[Event] = []
    for p in plans:
        if p.sold is None or p.delivered is None:
            continue
        s = p.shipment
        digest = hashlib.sha256(f"{seller_id}:{s.sku}:{s.sent_at}:{p.unit}".encode()).digest()
        num = int.from_bytes(digest[:8], "big")
        order_id = f"114-{num % 10**7:07d}-{(num // 10**7) % 10**7:07d}"
        _, cond_id, subtype = CONDITION_NAMES.get(s.condition, ("", "Used", "Good"))
        item = OrderItem(
            order_item_id=f"{(num // 10**14) % 10**14:014d}",
            asin=s.asin,
            sku=s.sku,
            title=titles[s.sku],
            quantity=1,
            price=round(s.price, 2),
            tax=round(s.price * TAX_RATE, 2),
            condition_id=cond_id,
            condition_subtype=subtype,
        )
        paid = p.sold + (0.1 + 0.9 * _frac(order_id, "paid")) * HOUR
        orders.append(Order(order_id, p.sold, paid, p.delivered, None, [item]))
        posted = p.delivered + (1.0 + 4.0 * _frac(order_id, "posted")) * HOUR
        fee = sales.fba_fee(s.asin) if sales else DEFAULT_FBA_FEE
        events.append(
            Event(f"u{order_id}", "shipment", order_id, posted, [shipment_item(item, fee)])
        )
    return Ledger(orders, events, _UnitInventory(plans, fnsku, titles))
