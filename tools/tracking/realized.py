"""Realized profit: the seller's sales and refunds (financial events synced from SP-API)
matched first-in-first-out to their purchases, stored as sale_allocation rows.

Per unit sold: realized profit = what reached the seller (item price, shipping and other
charges, promotions, minus Amazon's fees; sales tax collected and withheld left out) minus
the unit's all-in cost (price paid + tax + prep + inbound, at the settings of its purchase).

Which purchases a sale may draw from: those with the sale's SKU; when no purchase has that
SKU, those of the same ASIN and condition that have no SKU or a SKU Amazon never reported
(a typo, a listing made later), then, when none has that condition, the same ASIN whatever
the condition. A refunded unit goes back to its purchase and may sell again (fifo.py); the
money Amazon kept on the refund stays as a loss on that purchase. A refund without returned
units, a chargeback or a guarantee claim is money only, shared over the units of the sale.

The matching is rebuilt per ASIN (`rematch`) when a purchase of it changes, and for the
ASINs of newly synced events (`refresh`, which the sync workers and the questions call; a
no-op when nothing is new). Each purchase's realized_* columns sum its allocations.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import and_, bindparam, case, delete, func, select, update
from sqlmodel import Session

from tools.db import table_of
from tools.models import (
    FbaInventory,
    FinancialEvent,
    FinancialEventKind,
    Purchase,
    SaleAllocation,
    SaleMonth,
    SellerOrderItem,
    SystemState,
    utcnow,
)
from tools.restrictions.conditions import UnknownCondition, to_condition_type
from tools.tracking import fifo
from tools.tracking.costs import unit_all_in

E = table_of(FinancialEvent)
OI = table_of(SellerOrderItem)
V = table_of(FbaInventory)
A = table_of(SaleAllocation)
M = table_of(SaleMonth)
P = table_of(Purchase)
CHUNK = 500
ALL_AT_ONCE = 300  # more ASINs than this: rebuild the seller's whole matching in one pass
SALE = "sale"
REFUND = "refund"
ADJUSTMENT = "adjustment"


def condition_of(*names: str | None) -> str | None:
    """Our condition type from SP-API's names: ("Used", "VeryGood"), "UsedLikeNew", "NewItem"."""
    text = " ".join(n for n in names if n)
    if not text:
        return None
    words = re.sub(r"(?<=[a-z])(?=[A-Z])", " ", text).lower()
    if words.startswith("new"):
        return "new_new"
    try:
        return to_condition_type(words)
    except UnknownCondition:
        return None


@dataclass
class Event:
    id: int
    kind: str
    at: datetime
    order_id: str
    order_item_id: str | None
    sku: str | None
    asin: str | None
    condition: str | None
    quantity: int
    principal: float
    fees: float
    proceeds: float


@dataclass
class Lot:
    id: int
    asin: str
    sku: str | None
    condition: str
    at: datetime
    quantity: int
    unit_cost: float  # all-in
    profit_pred: float | None = None
    days_pred: float | None = None


@dataclass
class RefreshResult:
    events: int = 0
    asins: int = 0
    allocations: int = 0


def _chunks(values: Sequence[Any]) -> Iterable[Sequence[Any]]:
    for i in range(0, len(values), CHUNK):
        yield values[i : i + CHUNK]


def _sku_maps(
    session: Session, user_id: int, skus: Sequence[str] | None
) -> tuple[dict[str, str], dict[str, str | None]]:
    """SKU -> ASIN and SKU -> condition from the inventory rows and the seller's purchases."""
    asin: dict[str, str] = {}
    cond: dict[str, str | None] = {}
    groups = list(_chunks(skus)) if skus is not None else [None]
    for group in groups:
        q = select(P.c.sku, P.c.asin).where(P.c.user_id == user_id, P.c.sku.is_not(None))
        if group is not None:
            q = q.where(P.c.sku.in_(group))
        for sku, a in session.execute(q):
            asin.setdefault(sku, a)
        q2 = select(V.c.sku, V.c.asin, V.c.condition).where(V.c.user_id == user_id)
        if group is not None:
            q2 = q2.where(V.c.sku.in_(group))
        for sku, a, c in session.execute(q2):
            if a:
                asin[sku] = a  # Amazon's word over the seller's
            cond[sku] = condition_of(c)
    return asin, cond


def _events(session: Session, user_id: int, skus: Sequence[str] | None) -> list[Event]:
    """The seller's financial events (of these SKUs, or all), ASIN and condition resolved."""
    cols = (
        E.c.id,
        E.c.kind,
        E.c.posted_at,
        E.c.amazon_order_id,
        E.c.order_item_id,
        E.c.sku,
        E.c.quantity,
        E.c.principal,
        E.c.fees_total,
        (E.c.principal + E.c.shipping + E.c.other_charges + E.c.promotions + E.c.fees_total),
        OI.c.asin,
        OI.c.condition_id,
        OI.c.condition_subtype_id,
    )
    base = (
        select(*cols)
        .select_from(E)
        .outerjoin(
            OI,
            and_(
                OI.c.user_id == user_id,
                OI.c.amazon_order_id == E.c.amazon_order_id,
                OI.c.order_item_id == E.c.order_item_id,
            ),
        )
        .where(E.c.user_id == user_id)
    )
    rows: list[Any] = []
    if skus is None:
        rows = list(session.execute(base))
    else:
        for group in _chunks(skus):
            rows += list(session.execute(base.where(E.c.sku.in_(group))))
    sku_asin, sku_cond = _sku_maps(
        session, user_id, None if skus is None else sorted({r[5] for r in rows if r[5]})
    )
    out = []
    for r in rows:
        sku = r[5]
        out.append(
            Event(
                id=r[0],
                kind=r[1],
                at=r[2],
                order_id=r[3],
                order_item_id=r[4],
                sku=sku,
                asin=r[10] or (sku_asin.get(sku) if sku else None),
                condition=condition_of(r[11], r[12]) or (sku_cond.get(sku) if sku else None),
                quantity=int(r[6] or 0),
                principal=float(r[7] or 0.0),
                fees=float(r[8] or 0.0),
                proceeds=float(r[9] or 0.0),
            )
        )
    return out


def _lots(session: Session, user_id: int, asins: Sequence[str] | None) -> list[Lot]:
    q = select(Purchase).where(Purchase.user_id == user_id)  # type: ignore[arg-type]
    groups = list(_chunks(asins)) if asins is not None else [None]
    out: list[Lot] = []
    for group in groups:
        stmt = q if group is None else q.where(Purchase.asin.in_(group))  # type: ignore[attr-defined]
        for (p,) in session.execute(stmt):
            out.append(
                Lot(
                    p.id,
                    p.asin,
                    p.sku,
                    p.condition,
                    p.purchased_at,
                    p.quantity,
                    unit_all_in(p),
                    p.profit_pred,
                    p.days_to_sell_pred,
                )
            )
    return out


def _known_skus(session: Session, user_id: int, skus: Iterable[str] | None = None) -> set[str]:
    """Which of these SKUs (None: any) Amazon has reported for this seller, in events or
    inventory: a purchase under one of them waits for its own SKU's sales."""
    wanted = None if skus is None else sorted(set(skus))
    found: set[str] = set()
    for table in (E, V):
        q = select(table.c.sku).where(table.c.user_id == user_id, table.c.sku.is_not(None))
        if wanted is None:
            found |= {s for (s,) in session.execute(q.distinct())}
            continue
        for group in _chunks(wanted):
            found |= {s for (s,) in session.execute(q.where(table.c.sku.in_(group)).distinct())}
    return found


@dataclass
class _Group:
    lots: list[Lot] = field(default_factory=list)
    events: list[Event] = field(default_factory=list)


def _eligible(event: Event, lots: list[Lot], known: set[str]) -> tuple[int, ...]:
    by_sku = [lot.id for lot in lots if event.sku and lot.sku == event.sku]
    if by_sku:
        return tuple(by_sku)
    loose = [lot for lot in lots if not lot.sku or lot.sku not in known]
    same = [lot.id for lot in loose if event.condition and lot.condition == event.condition]
    return tuple(same or [lot.id for lot in loose])


def _share(total: float, part: int, whole: int) -> float:
    return total * part / whole if whole else 0.0


def _match_group(user_id: int, group: _Group, known: set[str]) -> list[dict[str, Any]]:
    """The allocation rows of one ASIN's events over its purchases."""
    lots = {lot.id: lot for lot in group.lots}
    events = {f"e{e.id}": e for e in group.events}
    sales_of: dict[tuple[str, str | None], list[str]] = defaultdict(list)
    moves: list[fifo.Sale | fifo.Refund] = []
    money_only: list[Event] = []
    for key, e in sorted(events.items(), key=lambda kv: (kv[1].at, kv[1].id)):
        if e.kind == FinancialEventKind.shipment.value:
            if e.quantity > 0:
                moves.append(fifo.Sale(key, e.at, e.quantity, _eligible(e, group.lots, known)))
                sales_of[(e.order_id, e.order_item_id)].append(key)
            else:
                money_only.append(e)
        elif e.kind == FinancialEventKind.refund.value and e.quantity > 0:
            sales = sales_of.get((e.order_id, e.order_item_id)) or ["-"]
            moves.append(fifo.Refund(key, e.at, e.quantity, sales[-1]))
        else:
            money_only.append(e)
    matched = fifo.match([fifo.Lot(lot.id, lot.at, lot.quantity) for lot in group.lots], moves)
    rows: list[dict[str, Any]] = []
    units_of: dict[str, list[tuple[int | None, int]]] = defaultdict(list)  # sale -> (lot, n)
    for a in matched.allocations:
        e = events[a.key]
        lot = lots.get(a.lot) if a.lot is not None else None
        n = a.quantity
        if e.kind == FinancialEventKind.shipment.value:
            units_of[a.key].append((a.lot, n))
            sold_at = e.at
        else:
            sold_at = a.sold_at or e.at
        proceeds = _share(e.proceeds, abs(n), e.quantity)
        cost = lot.unit_cost * n if lot else None
        days = max(0.0, (sold_at - lot.at).total_seconds() / 86400) if lot else None
        rows.append(
            _row(
                user_id,
                e,
                SALE if n > 0 else REFUND,
                a.lot,
                n,
                _share(e.principal, abs(n), e.quantity),
                _share(e.fees, abs(n), e.quantity),
                proceeds,
                cost,
                days,
            )
        )
    for e in money_only:  # shared over the units of the sale it adjusts, by purchase
        keys = sales_of.get((e.order_id, e.order_item_id)) or []
        taken: dict[int | None, int] = defaultdict(int)
        for key in keys:
            for lot_id, n in units_of.get(key, []):
                taken[lot_id] += n
        whole = sum(taken.values())
        for lot_id, n in taken.items() if whole else [(None, 1)]:
            part = n if whole else 1
            amount = _share(e.proceeds, part, whole or 1)
            rows.append(
                _row(
                    user_id,
                    e,
                    ADJUSTMENT,
                    lot_id,
                    0,
                    _share(e.principal, part, whole or 1),
                    _share(e.fees, part, whole or 1),
                    amount,
                    0.0 if lot_id is not None else None,
                    None,
                )
            )
    return rows


def _row(
    user_id: int,
    e: Event,
    kind: str,
    lot: int | None,
    quantity: int,
    sale_price: float,
    fees: float,
    proceeds: float,
    cost: float | None,
    days: float | None,
) -> dict[str, Any]:
    return {
        "user_id": user_id,
        "event_id": e.id,
        "purchase_id": lot,
        "kind": kind,
        "at": e.at,
        "month": e.at.astimezone(UTC).strftime("%Y-%m"),
        "asin": e.asin,
        "sku": e.sku,
        "amazon_order_id": e.order_id,
        "quantity": quantity,
        "sale_price": round(sale_price, 4),
        "fees": round(fees, 4),
        "proceeds": round(proceeds, 4),
        "cost": None if cost is None else round(cost, 4),
        "profit": None if cost is None else round(proceeds - cost, 4),
        "days_to_sell": days,
    }


def rematch(session: Session, user_id: int, asins: Iterable[str] | None = None) -> int:
    """Rebuild the allocations of these ASINs (None: all of the seller's); returns rows."""
    wanted = None if asins is None else sorted({a for a in asins if a})
    if wanted is not None and len(wanted) > ALL_AT_ONCE:
        wanted = None
    if wanted == []:
        return 0
    lots = _lots(session, user_id, wanted)
    if wanted is None:
        events = _events(session, user_id, None)
    else:
        keep = set(wanted)
        events = [e for e in _events(session, user_id, _skus_of(session, user_id, wanted))]
        events = [e for e in events if e.asin in keep]
    groups: dict[str | None, _Group] = defaultdict(_Group)
    for lot in lots:
        groups[lot.asin].lots.append(lot)
    for e in events:
        groups[e.asin].events.append(e)
    lot_skus = None if wanted is None else {lot.sku for lot in lots if lot.sku}
    known = _known_skus(session, user_id, lot_skus) if events else set()
    rows = [r for g in groups.values() for r in _match_group(user_id, g, known)]
    conn = session.connection()
    months: set[str] | None = None
    if wanted is None:
        conn.execute(delete(A).where(A.c.user_id == user_id))
    else:
        months = {r["month"] for r in rows}
        for group in _chunks(wanted):
            where = (A.c.user_id == user_id, A.c.asin.in_(group))
            months |= {m for (m,) in conn.execute(select(A.c.month).where(*where).distinct())}
            conn.execute(delete(A).where(*where))
    for part in _chunks(rows):
        conn.execute(A.insert(), list(part))
    _update_purchases(session, lots, rows)
    roll_up(session, user_id, months)
    return len(rows)


SUMS = (
    ("sold", func.sum(case((A.c.quantity > 0, A.c.quantity), else_=0))),
    ("returned", func.sum(case((A.c.quantity < 0, -A.c.quantity), else_=0))),
    ("sales", func.sum(A.c.sale_price)),  # a refund's share is negative
    ("fees", func.sum(A.c.fees)),
    ("proceeds", func.sum(A.c.proceeds)),
    ("cost", func.sum(case((A.c.purchase_id.is_not(None), A.c.proceeds - A.c.profit), else_=0.0))),
    ("profit", func.sum(case((A.c.purchase_id.is_not(None), A.c.profit), else_=0.0))),
    ("unmatched_units", func.sum(case((A.c.purchase_id.is_not(None), 0), else_=A.c.quantity))),
    ("unmatched_proceeds", func.sum(case((A.c.purchase_id.is_not(None), 0.0), else_=A.c.proceeds))),
)


def month_bounds(month: str) -> tuple[datetime, datetime]:
    """[first instant, first instant of the next month) of a "YYYY-MM" month, UTC."""
    year, m = int(month[:4]), int(month[5:7])
    first = datetime(year, m, 1, tzinfo=UTC)
    return first, datetime(year + m // 12, m % 12 + 1, 1, tzinfo=UTC)


def roll_up(session: Session, user_id: int, months: set[str] | None) -> None:
    """Rebuild the seller's sale_month rows of these months (None: all of them) from the
    allocations."""
    if months is not None and not months:
        return
    conn = session.connection()
    q = select(A.c.user_id, A.c.month, *(expr for _, expr in SUMS)).where(A.c.user_id == user_id)
    gone = delete(M).where(M.c.user_id == user_id)
    if months is not None:
        lo, hi = month_bounds(min(months))[0], month_bounds(max(months))[1]
        q = q.where(A.c.at >= lo, A.c.at < hi, A.c.month.in_(sorted(months)))
        gone = gone.where(M.c.month.in_(sorted(months)))
    conn.execute(gone)
    names = ["user_id", "month", *(name for name, _ in SUMS)]
    conn.execute(M.insert().from_select(names, q.group_by(A.c.user_id, A.c.month)))


def _skus_of(session: Session, user_id: int, asins: Sequence[str]) -> list[str]:
    """Every SKU that may carry these ASINs' sales: the order items', inventory's, purchases'."""
    skus: set[str] = set()
    for group in _chunks(asins):
        for table in (OI, V, P):
            q = select(table.c.sku).where(
                table.c.user_id == user_id, table.c.asin.in_(group), table.c.sku.is_not(None)
            )
            skus |= {s for (s,) in session.execute(q.distinct())}
    return sorted(skus)


def _update_purchases(session: Session, lots: list[Lot], rows: list[dict[str, Any]]) -> None:
    sums: dict[int, list[Any]] = {lot.id: [0, 0.0, 0.0, None] for lot in lots}
    for r in rows:
        s = sums.get(r["purchase_id"])
        if s is None:
            continue
        s[0] += r["quantity"]
        s[1] += r["profit"] or 0.0
        if r["days_to_sell"] is not None:
            s[2] += r["days_to_sell"] * r["quantity"]
        if r["kind"] == SALE and (s[3] is None or r["at"] > s[3]):
            s[3] = r["at"]
    params = []
    by_id = {lot.id: lot for lot in lots}
    for pid, (units, profit, days, last) in sums.items():
        lot = by_id[pid]
        per_unit = profit / units if units > 0 else None
        avg_days = days / units if units > 0 else None
        pred, days_pred = lot.profit_pred, lot.days_pred
        params.append(
            {
                "pid": pid,
                "u": units,
                "p": round(profit, 4),
                "d": days,
                "l": last,
                "pu": per_unit,
                "pd": per_unit - pred if per_unit is not None and pred is not None else None,
                "pr": per_unit / pred if per_unit is not None and pred and pred > 0 else None,
                "ad": avg_days,
                "dr": avg_days / days_pred if avg_days is not None and days_pred else None,
            }
        )
    stmt = (
        update(P)
        .where(P.c.id == bindparam("pid"))
        .values(
            units_sold=bindparam("u"),
            realized_profit=bindparam("p"),
            days_to_sell_sum=bindparam("d"),
            last_sold_at=bindparam("l"),
            realized_per_unit=bindparam("pu"),
            profit_diff=bindparam("pd"),
            profit_ratio=bindparam("pr"),
            avg_days=bindparam("ad"),
            days_ratio=bindparam("dr"),
        )
    )
    conn = session.connection()
    for part in _chunks(params):
        conn.execute(stmt, list(part))


def _mark_key(user_id: int) -> str:
    return f"tracking:matched:{user_id}"


def refresh(session: Session, user_id: int) -> RefreshResult:
    """Match what was synced since the last refresh: the SKUs of new financial events, and,
    when new order items arrived (they tell an event's ASIN), the events whose ASIN was
    unknown. Nothing new costs three indexed reads."""
    state = session.get(SystemState, _mark_key(user_id))
    value = state.value if state is not None and isinstance(state.value, dict) else {}
    mark, item_mark = int(value.get("event_id", 0)), int(value.get("item_id", 0))

    def newer(table: Any, after: int) -> bool:
        q = select(table.c.id).where(table.c.id > after, table.c.user_id == user_id).limit(1)
        return session.execute(q).first() is not None

    new_events, new_items = newer(E, mark), newer(OI, item_mark)
    if not new_events and not new_items:
        return RefreshResult()
    top = session.execute(select(func.max(E.c.id)).where(E.c.user_id == user_id)).scalar() or 0
    top_item = (
        session.execute(select(func.max(OI.c.id)).where(OI.c.user_id == user_id)).scalar() or 0
    )
    new = session.execute(
        select(func.count(), func.count(func.distinct(E.c.sku))).where(
            E.c.user_id == user_id, E.c.id > mark
        )
    ).one()
    result = RefreshResult(events=int(new[0]))
    if mark == 0 or int(new[1]) > ALL_AT_ONCE:
        result.allocations = rematch(session, user_id, None)
        result.asins = -1  # all of them
    else:
        fresh = select(E.c.sku).where(E.c.user_id == user_id, E.c.id > mark).distinct()
        skus = {s for (s,) in session.execute(fresh) if s}
        if new_items:  # events whose ASIN was unknown may be known now
            unknown = select(A.c.sku).where(A.c.user_id == user_id, A.c.asin.is_(None)).distinct()
            skus |= {s for (s,) in session.execute(unknown) if s}
        result.allocations, result.asins = _rematch_skus(session, user_id, sorted(skus))
    value = {"event_id": int(top), "item_id": int(top_item), "at": utcnow().isoformat()}
    if state is None:
        session.add(SystemState(key=_mark_key(user_id), value=value))
    else:
        state.value = value
        state.updated_at = utcnow()
        session.add(state)
    session.flush()
    return result


def _rematch_skus(session: Session, user_id: int, skus: list[str]) -> tuple[int, int]:
    """Rematch the ASINs these SKUs' events belong to; events of no known ASIN stay
    unmatched (kept apart, by SKU, until their ASIN shows up)."""
    if not skus:
        return 0, 0
    events = _events(session, user_id, skus)
    asins = {e.asin for e in events if e.asin}
    conn = session.connection()
    for group in _chunks(skus):
        conn.execute(
            delete(A).where(A.c.user_id == user_id, A.c.asin.is_(None), A.c.sku.in_(group))
        )
    rows = rematch(session, user_id, asins)
    unresolved = _match_group(user_id, _Group(events=[e for e in events if e.asin is None]), set())
    for part in _chunks(unresolved):
        conn.execute(A.insert(), list(part))
    return rows + len(unresolved), len(asins)
