"""The seller's Amazon data in the database: idempotent writes and reads, always for one owner.

Every function takes the owner's user id and touches only that user's rows: writes stamp it
on every row, reads filter on it. Writes are `INSERT ... ON CONFLICT` on each table's natural
key, so a page stored twice (a retry, a crash before the checkpoint moved) changes nothing:
orders and inventory are overwritten with the newer answer, financial events are kept as first
stored (a posted event never changes).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import and_, func, update
from sqlalchemy import select as core_select
from sqlmodel import Session, col, select

from tools.db import table_of, upsert
from tools.models import (
    FbaInventory,
    FinancialEvent,
    FinancialEventKind,
    SellerOrder,
    SellerOrderItem,
)

_ORDER_KEY = ("user_id", "amazon_order_id")
_ITEM_KEY = ("user_id", "amazon_order_id", "order_item_id")
_EVENT_KEY = ("user_id", "kind", "amazon_order_id", "item_key", "posted_at")


def _owned(rows: Sequence[dict[str, Any]], user_id: int) -> list[dict[str, Any]]:
    if any(r.get("user_id") != user_id for r in rows):
        raise ValueError("every row must belong to the user it is stored for")
    return list(rows)


# ---- writes ----------------------------------------------------------------------------------


def save_inventory(session: Session, user_id: int, rows: Sequence[dict[str, Any]]) -> int:
    return upsert(session, FbaInventory, _owned(rows, user_id), key=("user_id", "sku"))


def zero_unseen_inventory(session: Session, user_id: int, walk_started: datetime) -> int:
    """After a complete inventory walk: SKUs it did not report hold nothing any more."""
    t = table_of(FbaInventory)
    result = session.connection().execute(
        update(t)
        .where(and_(t.c.user_id == user_id, t.c.seen_at < walk_started, t.c.total_quantity > 0))
        .values(
            fulfillable=0,
            inbound_working=0,
            inbound_shipped=0,
            inbound_receiving=0,
            reserved=0,
            unfulfillable=0,
            researching=0,
            total_quantity=0,
            updated_at=walk_started,
        )
    )
    return int(result.rowcount or 0)


def save_orders(session: Session, user_id: int, rows: Sequence[dict[str, Any]]) -> int:
    return upsert(session, SellerOrder, _owned(rows, user_id), key=_ORDER_KEY)


def save_order_items(
    session: Session,
    user_id: int,
    order_id: str,
    rows: Sequence[dict[str, Any]],
    fetched_at: datetime,
) -> int:
    """Store an order's items and note on the order when (and at which status) they came."""
    written = upsert(session, SellerOrderItem, _owned(rows, user_id), key=_ITEM_KEY)
    t = table_of(SellerOrder)
    session.connection().execute(
        update(t)
        .where(and_(t.c.user_id == user_id, t.c.amazon_order_id == order_id))
        .values(items_fetched_at=fetched_at, items_fetched_status=t.c.status)
    )
    return written


def save_financial_events(session: Session, user_id: int, rows: Sequence[dict[str, Any]]) -> int:
    """Returns how many were new (an event already stored is left as it is)."""
    return upsert(
        session, FinancialEvent, _owned(rows, user_id), key=_EVENT_KEY, on_conflict="nothing"
    )


def orders_needing_items(
    session: Session, user_id: int, since: datetime, limit: int = 100
) -> list[str]:
    """Orders purchased since `since` whose items are unknown, or were read while the order
    was Pending (Amazon shows no prices then) and it has moved on; canceled ones never.
    Oldest first. Driven by what is stored, so items a crash left unread are read later."""
    o = table_of(SellerOrder)
    rows = session.connection().execute(
        core_select(o.c.amazon_order_id)
        .where(o.c.user_id == user_id)
        .where(o.c.purchase_date >= since)
        .where(o.c.status != "Canceled")
        .where(
            (o.c.items_fetched_status.is_(None))
            | ((o.c.items_fetched_status == "Pending") & (o.c.status != "Pending"))
        )
        .order_by(o.c.purchase_date)
        .limit(limit)
    )
    return [r[0] for r in rows]


# ---- reads -----------------------------------------------------------------------------------


def inventory(session: Session, user_id: int) -> list[FbaInventory]:
    """The user's FBA inventory, SKUs holding anything first, then by SKU."""
    return list(
        session.exec(
            select(FbaInventory)
            .where(col(FbaInventory.user_id) == user_id)
            .order_by(col(FbaInventory.total_quantity) == 0, col(FbaInventory.sku))
        )
    )


def orders(
    session: Session, user_id: int, since: datetime | None = None, limit: int = 1000
) -> list[SellerOrder]:
    q = select(SellerOrder).where(col(SellerOrder.user_id) == user_id)
    if since is not None:
        q = q.where(col(SellerOrder.purchase_date) >= since)
    return list(session.exec(q.order_by(col(SellerOrder.purchase_date).desc()).limit(limit)))


def order_items(session: Session, user_id: int, order_id: str) -> list[SellerOrderItem]:
    return list(
        session.exec(
            select(SellerOrderItem)
            .where(col(SellerOrderItem.user_id) == user_id)
            .where(col(SellerOrderItem.amazon_order_id) == order_id)
        )
    )


def financial_events(
    session: Session,
    user_id: int,
    since: datetime | None = None,
    until: datetime | None = None,
    kind: str | None = None,
) -> list[FinancialEvent]:
    q = select(FinancialEvent).where(col(FinancialEvent.user_id) == user_id)
    if since is not None:
        q = q.where(col(FinancialEvent.posted_at) >= since)
    if until is not None:
        q = q.where(col(FinancialEvent.posted_at) < until)
    if kind is not None:
        q = q.where(col(FinancialEvent.kind) == kind)
    return list(session.exec(q.order_by(col(FinancialEvent.posted_at), col(FinancialEvent.id))))


@dataclass(frozen=True)
class SoldItem:
    """One shipped order item with its money: the unit of FIFO matching.

    `net` is what reached the seller (price + other charges + fees + withheld tax);
    `refunded_net` sums the item's refunds (negative), `refunded_quantity` their units.
    """

    amazon_order_id: str
    order_item_id: str | None
    sku: str | None
    asin: str | None
    quantity: int
    purchase_date: datetime | None  # the order's (None when the order is not synced yet)
    posted_at: datetime  # when the shipment's money posted
    principal: float
    fees_total: float
    fees: dict[str, float]
    net: float
    refunded_quantity: int
    refunded_net: float


def sold_items(
    session: Session,
    user_id: int,
    since: datetime | None = None,
    until: datetime | None = None,
) -> list[SoldItem]:
    """The user's shipped items (financial shipment events) posted in [since, until), oldest
    first, each with its order's purchase date, its ASIN (from the order item, else the
    SKU's inventory row) and its refunds."""
    ship = table_of(FinancialEvent).alias("ship")
    refund = table_of(FinancialEvent).alias("refund")
    order = table_of(SellerOrder)
    item = table_of(SellerOrderItem)
    inv = table_of(FbaInventory)
    refunds = (
        core_select(
            refund.c.amazon_order_id,
            refund.c.order_item_id,
            func.sum(refund.c.quantity).label("qty"),
            func.sum(refund.c.net).label("net"),
        )
        .where(refund.c.user_id == user_id)
        .where(refund.c.kind != FinancialEventKind.shipment.value)
        .group_by(refund.c.amazon_order_id, refund.c.order_item_id)
        .subquery()
    )
    q = (
        core_select(
            ship.c.amazon_order_id,
            ship.c.order_item_id,
            ship.c.sku,
            func.coalesce(item.c.asin, inv.c.asin),
            ship.c.quantity,
            order.c.purchase_date,
            ship.c.posted_at,
            ship.c.principal,
            ship.c.fees_total,
            ship.c.fees,
            ship.c.net,
            func.coalesce(refunds.c.qty, 0),
            func.coalesce(refunds.c.net, 0.0),
        )
        .select_from(ship)
        .outerjoin(
            order,
            and_(order.c.user_id == user_id, order.c.amazon_order_id == ship.c.amazon_order_id),
        )
        .outerjoin(
            item,
            and_(
                item.c.user_id == user_id,
                item.c.amazon_order_id == ship.c.amazon_order_id,
                item.c.order_item_id == ship.c.order_item_id,
            ),
        )
        .outerjoin(inv, and_(inv.c.user_id == user_id, inv.c.sku == ship.c.sku))
        .outerjoin(
            refunds,
            and_(
                refunds.c.amazon_order_id == ship.c.amazon_order_id,
                refunds.c.order_item_id == ship.c.order_item_id,
            ),
        )
        .where(ship.c.user_id == user_id)
        .where(ship.c.kind == FinancialEventKind.shipment.value)
    )
    if since is not None:
        q = q.where(ship.c.posted_at >= since)
    if until is not None:
        q = q.where(ship.c.posted_at < until)
    q = q.order_by(ship.c.posted_at, ship.c.id)
    return [
        SoldItem(
            amazon_order_id=r[0],
            order_item_id=r[1],
            sku=r[2],
            asin=r[3],
            quantity=int(r[4]),
            purchase_date=r[5],
            posted_at=r[6],
            principal=float(r[7]),
            fees_total=float(r[8]),
            fees=dict(r[9] or {}),
            net=float(r[10]),
            refunded_quantity=int(r[11]),
            refunded_net=float(r[12]),
        )
        for r in session.connection().execute(q)
    ]
