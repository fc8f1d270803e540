"""A seller's Amazon records in the sandbox: SKUs, orders with their items, financial events.

Everything is a timeline, so what SP-API shows is a pure function of the world's clock: an
order exists from its purchase time, is Pending, then Unshipped once paid, then Shipped (or
Canceled); a financial event exists from its posted time; a SKU's quantities are whatever
they were at the time asked. A `Ledger` holds one source of records (a seeded history, or the
units a seller sent in) with the sorted indexes the endpoints page through by key, so a page
costs its size, not the seller's history.
"""

from __future__ import annotations

import bisect
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any, Protocol

# Order statuses, in the order an order goes through them.
PENDING, UNSHIPPED, SHIPPED, CANCELED = "Pending", "Unshipped", "Shipped", "Canceled"


@dataclass(slots=True)
class SkuView:
    """One SKU's FBA inventory at one moment (what getInventorySummaries reports)."""

    sku: str
    asin: str
    fnsku: str
    condition: str  # the summary's condition text, e.g. "UsedGood"
    title: str
    fulfillable: int = 0
    inbound_working: int = 0
    inbound_shipped: int = 0
    inbound_receiving: int = 0
    reserved: int = 0
    unfulfillable: int = 0
    researching: int = 0
    updated: float = 0.0  # lastUpdatedTime, epoch seconds

    @property
    def total(self) -> int:
        return (
            self.fulfillable
            + self.inbound_working
            + self.inbound_shipped
            + self.inbound_receiving
            + self.reserved
            + self.unfulfillable
            + self.researching
        )


@dataclass(slots=True)
class OrderItem:
    order_item_id: str
    asin: str
    sku: str
    title: str
    quantity: int
    price: float  # ItemPrice: for the whole quantity
    tax: float
    condition_id: str = "Used"
    condition_subtype: str = "Good"


@dataclass(slots=True)
class Order:
    order_id: str
    purchased: float
    paid: float  # Pending -> Unshipped
    shipped: float | None  # Unshipped -> Shipped (None: never)
    canceled: float | None  # -> Canceled (None: never)
    items: list[OrderItem]

    def changes(self) -> list[float]:
        out = [self.purchased, self.paid]
        if self.shipped is not None:
            out.append(self.shipped)
        if self.canceled is not None:
            out.append(self.canceled)
        return out

    def status_at(self, t: float) -> tuple[str, float]:
        """(OrderStatus, LastUpdateDate) as seen at time t (t >= purchased)."""
        if self.canceled is not None and t >= self.canceled:
            return CANCELED, self.canceled
        if self.shipped is not None and t >= self.shipped:
            return SHIPPED, self.shipped
        if t >= self.paid:
            return UNSHIPPED, self.paid
        return PENDING, self.purchased


@dataclass(slots=True)
class EventItem:
    """One ShipmentItem of a shipment event, or one adjustment item of a refund."""

    key: str  # OrderItemId (shipment) or OrderAdjustmentItemId (refund)
    order_item_id: str
    sku: str
    quantity: int
    charges: dict[str, float]  # ChargeType -> amount (negative in a refund)
    fees: dict[str, float]  # FeeType -> amount (negative: charged to the seller)
    withheld: dict[str, float] = field(default_factory=dict)  # TaxCollectionModel amounts


@dataclass(slots=True)
class Event:
    event_id: str  # sandbox-internal tie-breaker for paging (SP-API events have no id)
    kind: str  # "shipment" | "refund"
    order_id: str
    posted: float
    items: list[EventItem]
    released: float = 0.0  # a deferred event shows from then on, under its PostedDate

    def visible(self, now: float) -> bool:
        return self.released <= now


class InventorySource(Protocol):
    def skus_at(self, t: float) -> list[SkuView]: ...


class Ledger:
    """Orders and financial events of one source, indexed for keyset paging.

    `skus_at(t)` is the source's inventory; seeded histories keep fixed quantities, the units
    a seller sent in compute theirs from their timeline.
    """

    def __init__(self, orders: list[Order], events: list[Event], skus: InventorySource) -> None:
        self.skus = skus
        self.orders = sorted(orders, key=lambda o: (o.purchased, o.order_id))
        self.by_id = {o.order_id: o for o in self.orders}
        self._purchased = [o.purchased for o in self.orders]
        changes = sorted(
            (t, o.order_id, k) for k, o in enumerate(self.orders) for t in set(o.changes())
        )
        self._change_t = [c[0] for c in changes]
        self._changes = changes
        self.events = sorted(events, key=lambda e: (e.posted, e.event_id))
        self._posted = [e.posted for e in self.events]

    def created(
        self, after: float, before: float, pos: tuple[float, str] | None
    ) -> Iterator[tuple[float, str, Order]]:
        """Orders purchased in [after, before], in (PurchaseDate, id) order, after `pos`."""
        start = after if pos is None else max(after, pos[0])
        for k in range(bisect.bisect_left(self._purchased, start), len(self.orders)):
            o = self.orders[k]
            if o.purchased > before:
                return
            if pos is not None and (o.purchased, o.order_id) <= pos:
                continue
            yield o.purchased, o.order_id, o

    def updated(
        self, after: float, before: float, now: float, pos: tuple[float, str] | None
    ) -> Iterator[tuple[float, str, Order]]:
        """Orders whose LastUpdateDate (as of `now`) is in [after, before], in
        (LastUpdateDate, id) order, after `pos`. Each order shows once: at its last change."""
        start = after if pos is None else max(after, pos[0])
        for k in range(bisect.bisect_left(self._change_t, start), len(self._changes)):
            t, order_id, idx = self._changes[k]
            if t > before:
                return
            if pos is not None and (t, order_id) <= pos:
                continue
            order = self.orders[idx]
            if order.status_at(now)[1] == t:
                yield t, order_id, order

    def posted(
        self, after: float, before: float, pos: tuple[float, str] | None, now: float
    ) -> Iterator[tuple[float, str, Event]]:
        """Events posted in [after, before) and released by `now`, in (PostedDate, id) order,
        after `pos`. (Amazon shows deferred events only once released, under their old
        PostedDate: a reader of "what posted since I last looked" must look back.)"""
        start = after if pos is None else max(after, pos[0])
        for k in range(bisect.bisect_left(self._posted, start), len(self.events)):
            e = self.events[k]
            if e.posted >= before:
                return
            if pos is not None and (e.posted, e.event_id) <= pos:
                continue
            if e.released <= now:
                yield e.posted, e.event_id, e


def money(amount: float, currency: str = "USD") -> dict[str, Any]:
    """Orders API Money: {"CurrencyCode", "Amount"} with the amount as a decimal string."""
    return {"CurrencyCode": currency, "Amount": f"{amount:.2f}"}


def currency(amount: float, code: str = "USD") -> dict[str, Any]:
    """Finances API Currency: {"CurrencyCode", "CurrencyAmount"} with a number."""
    return {"CurrencyCode": code, "CurrencyAmount": round(amount, 2)}
