"""The seller's questions about what their purchases did: realized profit for a period and by
month, what sold, which purchases lose money, days to sell, inventory at Amazon, and how the
app's predictions at purchase compare with what happened (calibration).

Every function refreshes the seller's matching first (tools/tracking/realized.py: free when
nothing new was synced) and then reads the derived rows with indexed, owner-scoped queries,
so a question stays fast over 10,000 SKUs and 50,000 orders (bench/tracking.py).
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import and_, case, func, or_, select
from sqlalchemy.sql.elements import ColumnElement
from sqlmodel import Session

from tools.db import table_of
from tools.models import Deal, FbaInventory, Purchase, SaleAllocation, SaleMonth, User
from tools.tracking import TrackingError
from tools.tracking.clock import seller_now
from tools.tracking.realized import SALE, SUMS, month_bounds, refresh

A = table_of(SaleAllocation)
M = table_of(SaleMonth)
P = table_of(Purchase)
V = table_of(FbaInventory)
D = table_of(Deal)
MAX_ROWS = 50
AGING_SCAN = 500  # oldest unsold purchases looked at for "sitting too long"
STUCK_INBOUND_DAYS = 14
Z95 = 1.96


def _owner(user: User) -> int:
    if user.id is None:
        raise TrackingError("sales and profit belong to a signed-in seller")
    return user.id


def _money(v: Any) -> float:
    return round(float(v or 0.0), 2)


def _range(q: Any, start: datetime | None, end: datetime | None) -> Any:
    if start is not None:
        q = q.where(A.c.at >= start)
    if end is not None:
        q = q.where(A.c.at < end)
    return q


# ---- realized profit -------------------------------------------------------------------------


@dataclass
class ProfitSummary:
    start: str | None
    end: str | None
    units_sold: int = 0  # net of returned units
    units_returned: int = 0
    sales: float = 0.0  # item prices of the units sold (refunds taken off)
    fees: float = 0.0  # Amazon's fees (negative), refunded fees taken off
    proceeds: float = 0.0  # what reached the seller
    cost: float = 0.0  # all-in cost of the matched units
    profit: float = 0.0  # realized profit of the units matched to purchases
    unmatched_units: int = 0  # sold with no purchase on record: cost unknown
    unmatched_proceeds: float = 0.0
    by_month: list[dict[str, Any]] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def profit_summary(
    session: Session,
    user: User,
    start: datetime | None = None,
    end: datetime | None = None,
    *,
    months: int = 12,
) -> ProfitSummary:
    """Realized profit in [start, end) (all time when both are None) and, for the chart, by
    month: one pass over the period's rows in the covering index, grouped by month; the
    totals are the months' sums. An open-ended period charts its last `months` months."""
    owner = _owner(user)
    refresh(session, owner)
    rows = _months(session, owner, start, end)
    summary = ProfitSummary(
        start=start.isoformat() if start else None,
        end=end.isoformat() if end else None,
    )
    for r in rows:
        summary.units_sold += r["sold"] - r["returned"]
        summary.units_returned += r["returned"]
        summary.sales += r["sales"]
        summary.fees += r["fees"]
        summary.proceeds += r["proceeds"]
        summary.cost += r["cost"]
        summary.profit += r["profit"]
        summary.unmatched_units += r["unmatched_units"]
        summary.unmatched_proceeds += r["unmatched_proceeds"]
    for name in ("sales", "fees", "proceeds", "cost", "profit", "unmatched_proceeds"):
        setattr(summary, name, _money(getattr(summary, name)))
    chart = rows if start is not None else rows[-months:]
    summary.by_month = [
        {
            "month": r["month"],
            "profit": _money(r["profit"]),
            "proceeds": _money(r["proceeds"]),
            "units": r["sold"] - r["returned"],
        }
        for r in chart
    ]
    return summary


_INTS = ("sold", "returned", "unmatched_units")


def _months(
    session: Session, owner: int, start: datetime | None, end: datetime | None
) -> list[dict[str, Any]]:
    """Per month in [start, end): whole months from sale_month, the partial months at the
    ends from the allocations themselves."""
    inner_lo = _month_ceil(start) if start is not None else None
    inner_hi = _month_floor(end) if end is not None else None
    parts: list[tuple[datetime | None, datetime | None]] = []
    rolled: list[Any] = []
    if inner_lo is None or inner_hi is None or inner_lo < inner_hi:
        q = select(M.c.month, *(M.c[name] for name, _ in SUMS)).where(M.c.user_id == owner)
        if inner_lo is not None:
            q = q.where(M.c.month >= inner_lo.strftime("%Y-%m"))
        if inner_hi is not None:
            q = q.where(M.c.month < inner_hi.strftime("%Y-%m"))
        rolled = list(session.execute(q))
        if start is not None and inner_lo is not None and start < inner_lo:
            parts.append((start, inner_lo))
        if end is not None and inner_hi is not None and inner_hi < end:
            parts.append((inner_hi, end))
    else:  # within one month
        parts.append((start, end))
    for lo, hi in parts:
        q = select(A.c.month, *(expr for _, expr in SUMS)).where(A.c.user_id == owner)
        rolled += list(session.execute(_range(q, lo, hi).group_by(A.c.month)))
    out = []
    for row in sorted(rolled, key=lambda r: r[0]):
        data: dict[str, Any] = {"month": row[0]}
        for (name, _), value in zip(SUMS, row[1:], strict=True):
            data[name] = int(value or 0) if name in _INTS else float(value or 0.0)
        out.append(data)
    return out


def _month_floor(when: datetime) -> datetime:
    return when.astimezone(UTC).replace(day=1, hour=0, minute=0, second=0, microsecond=0)


def _month_ceil(when: datetime) -> datetime:
    floor = _month_floor(when)
    return floor if floor == when else month_bounds(floor.strftime("%Y-%m"))[1]


# ---- what sold -----------------------------------------------------------------------------


def sales_between(
    session: Session,
    user: User,
    start: datetime | None = None,
    end: datetime | None = None,
    *,
    limit: int = MAX_ROWS,
) -> dict[str, Any]:
    """The sales (and refunds) in [start, end), newest first, with their realized profit."""
    owner = _owner(user)
    refresh(session, owner)
    title = func.coalesce(P.c.title, D.c.title)
    q = _range(
        select(
            A.c.at,
            A.c.kind,
            A.c.asin,
            A.c.sku,
            A.c.amazon_order_id,
            A.c.quantity,
            A.c.sale_price,
            A.c.fees,
            A.c.proceeds,
            A.c.profit,
            A.c.days_to_sell,
            A.c.purchase_id,
            title,
        )
        .select_from(A)
        .outerjoin(P, P.c.id == A.c.purchase_id)
        .outerjoin(D, D.c.asin == A.c.asin)
        .where(A.c.user_id == owner, A.c.kind != "adjustment"),
        start,
        end,
    )
    rows = session.execute(q.order_by(A.c.at.desc(), A.c.id.desc()).limit(limit)).all()
    totals = session.execute(
        _range(
            select(func.count(), func.sum(A.c.quantity), func.sum(A.c.profit)).where(
                A.c.user_id == owner, A.c.kind == SALE
            ),
            start,
            end,
        )
    ).one()
    return {
        "start": start.isoformat() if start else None,
        "end": end.isoformat() if end else None,
        "count": int(totals[0] or 0),
        "units": int(totals[1] or 0),
        "profit": _money(totals[2]),
        "items": [
            {
                "at": r[0].isoformat(),
                "kind": r[1],
                "asin": r[2],
                "sku": r[3],
                "order": r[4],
                "quantity": int(r[5]),
                "sale_price": _money(r[6]),
                "fees": _money(r[7]),
                "proceeds": _money(r[8]),
                "profit": None if r[9] is None else _money(r[9]),
                "days_to_sell": None if r[10] is None else round(float(r[10]), 1),
                "purchase_id": r[11],
                "title": r[12],
            }
            for r in rows
        ],
    }


# ---- purchases that lose money -------------------------------------------------------------


def losing_purchases(
    session: Session, user: User, *, limit: int = 20, now: datetime | None = None
) -> dict[str, Any]:
    """Purchases whose sold units lost money, worst first; and purchases still unsold at
    twice their predicted days to sell (their money is tied up, the price may need a cut)."""
    owner = _owner(user)
    refresh(session, owner)
    now = now or seller_now()
    cols = (
        P.c.id,
        P.c.asin,
        P.c.title,
        P.c.quantity,
        P.c.unit_cost,
        P.c.units_sold,
        P.c.realized_profit,
        P.c.profit_pred,
        P.c.days_to_sell_pred,
        P.c.purchased_at,
    )
    losing = session.execute(
        select(*cols)
        .where(P.c.user_id == owner, P.c.units_sold > 0, P.c.realized_profit < 0)
        .order_by(P.c.realized_profit, P.c.id)
        .limit(limit)
    ).all()
    # unsold units two weeks on, oldest first (a bounded read), then held against their
    # predicted days in Python (the date arithmetic differs between SQLite and PostgreSQL)
    aging_q = (
        select(*cols)
        .where(
            P.c.user_id == owner,
            P.c.units_sold < P.c.quantity,
            P.c.days_to_sell_pred.is_not(None),
            P.c.purchased_at <= now - timedelta(days=14),
        )
        .order_by(P.c.purchased_at, P.c.id)
        .limit(AGING_SCAN)
    )
    aging = []
    for r in session.execute(aging_q):
        age = (now - r[9]).total_seconds() / 86400
        if age >= 2 * float(r[8]):
            aging.append((r, age))
        if len(aging) >= limit:
            break

    def view(r: Any, age: float | None = None) -> dict[str, Any]:
        sold = int(r[5])
        return {
            "id": r[0],
            "asin": r[1],
            "title": r[2],
            "quantity": int(r[3]),
            "unit_cost": _money(r[4]),
            "units_sold": sold,
            "realized_profit": _money(r[6]),
            "realized_per_unit": _money(r[6] / sold) if sold else None,
            "predicted_per_unit": None if r[7] is None else _money(r[7]),
            "days_to_sell_pred": None if r[8] is None else round(float(r[8]), 1),
            "days_held": None if age is None else round(age, 1),
        }

    return {
        "losing": [view(r) for r in losing],
        "aging": [view(r, age) for r, age in aging],
    }


# ---- days to sell --------------------------------------------------------------------------


def _matches(text: str | None) -> ColumnElement[bool] | None:
    """Purchases of a kind: "textbook" / "exam prep" are seasonality labels, anything else is
    looked for in the category and the title."""
    if not text:
        return None
    word = text.strip().lower().rstrip("s")
    labels = {"textbook": "textbook", "exam prep": "exam_prep", "holiday": "holiday"}
    if word in labels:
        return P.c.seasonality == labels[word]
    like = f"%{word[:60]}%"
    return or_(func.lower(P.c.category).like(like), func.lower(P.c.title).like(like))


BUCKETS = ((0, 7), (7, 14), (14, 30), (30, 60), (60, 90), (90, 180), (180, None))


def days_to_sell(session: Session, user: User, kind: str | None = None) -> dict[str, Any]:
    """Average days from purchase to sale (per unit sold), for all purchases or those of a kind
    ("textbooks", "nursing"), with a histogram of the purchases' averages for the chart."""
    owner = _owner(user)
    refresh(session, owner)
    where = [P.c.user_id == owner, P.c.units_sold > 0]
    if (match := _matches(kind)) is not None:
        where.append(match)
    per = P.c.avg_days  # a purchase's average days a unit (kept by the matching)
    buckets = [
        func.sum(case((and_(per >= lo, per < hi) if hi else per >= lo, 1), else_=0))
        for lo, hi in BUCKETS
    ]
    row = session.execute(
        select(
            func.count(),
            func.sum(P.c.units_sold),
            func.sum(P.c.days_to_sell_sum),
            func.avg(P.c.days_to_sell_pred),
            *buckets,
        ).where(and_(*where))
    ).one()
    n, units, total = int(row[0] or 0), int(row[1] or 0), float(row[2] or 0.0)
    median = None
    if n:  # the middle purchase's average, by an ordered read of one row
        middle = session.execute(
            select(per).where(and_(*where)).order_by(per).offset((n - 1) // 2).limit(1)
        ).scalar()
        median = round(float(middle), 1) if middle is not None else None
    return {
        "kind": kind,
        "purchases": n,
        "units": units,
        "average_days": round(total / units, 1) if units else None,
        "median_days": median,
        "predicted_average_days": None if row[3] is None else round(float(row[3]), 1),
        "histogram": [
            {"bucket": f"{lo}-{hi}" if hi else f"{lo}+", "purchases": int(c or 0)}
            for (lo, hi), c in zip(BUCKETS, row[4:], strict=True)
        ],
    }


# ---- inventory at Amazon -------------------------------------------------------------------

INBOUND = V.c.inbound_working + V.c.inbound_shipped + V.c.inbound_receiving


def _bought(
    session: Session, owner: int, rows: list[Any]
) -> dict[str, tuple[datetime | None, float | None]]:
    """SKU -> (newest purchase time, its unit cost) for these inventory rows: the purchases
    with the SKU, else those of its ASIN recorded without a SKU."""
    skus = [r.sku for r in rows]
    asins = [r.asin for r in rows if r.asin]
    by_sku: dict[str, tuple[datetime, float]] = {}
    by_asin: dict[str, tuple[datetime, float]] = {}
    base = select(P.c.sku, P.c.asin, P.c.purchased_at, P.c.unit_cost).where(P.c.user_id == owner)
    queries = [base.where(P.c.sku.in_(skus[i : i + 500])) for i in range(0, len(skus), 500)]
    queries += [
        base.where(P.c.asin.in_(asins[i : i + 500]), P.c.sku.is_(None))
        for i in range(0, len(asins), 500)
    ]
    for q in queries:  # two index seeks, never an OR of them (which reads every purchase)
        for sku, asin, at, cost in session.execute(q):
            target, key = (by_sku, sku) if sku else (by_asin, asin)
            if key not in target or at > target[key][0]:
                target[key] = (at, float(cost))
    out: dict[str, tuple[datetime | None, float | None]] = {}
    for r in rows:
        hit = by_sku.get(r.sku) or by_asin.get(r.asin)
        out[r.sku] = hit if hit else (None, None)
    return out


def _stuck(
    session: Session, owner: int, cols: tuple[Any, ...], cutoff: datetime, limit: int
) -> list[tuple[Any, datetime | None, float | None]]:
    """Inbound SKUs whose newest purchase (by SKU, else by ASIN without a SKU; else Amazon's
    last update) is older than `cutoff`, oldest first: one grouped join in the database."""
    by_sku = P.alias("by_sku")
    by_asin = P.alias("by_asin")
    bought = func.coalesce(func.max(by_sku.c.purchased_at), func.max(by_asin.c.purchased_at))
    since = func.coalesce(bought, func.max(V.c.amazon_updated_at))
    cost = func.coalesce(func.max(by_sku.c.unit_cost), func.max(by_asin.c.unit_cost))
    q = (
        select(*cols, bought.label("bought"), cost.label("cost"))
        .select_from(V)
        .outerjoin(by_sku, and_(by_sku.c.user_id == owner, by_sku.c.sku == V.c.sku))
        .outerjoin(
            by_asin,
            and_(by_asin.c.user_id == owner, by_asin.c.sku.is_(None), by_asin.c.asin == V.c.asin),
        )
        .where(V.c.user_id == owner, INBOUND > 0)
        .group_by(V.c.id)
        .having(since < cutoff)
        .order_by(since, V.c.sku)
        .limit(limit)
    )
    return [(r, r.bought, None if r.cost is None else float(r.cost)) for r in session.execute(q)]


def inventory(
    session: Session,
    user: User,
    *,
    stuck_only: bool = False,
    limit: int = 20,
    now: datetime | None = None,
) -> dict[str, Any]:
    """What is at Amazon (the last FBA inventory sync): totals by state and the SKUs with the
    most units, each matched to its purchases by SKU (else ASIN). `stuck_only`: SKUs with
    units inbound whose newest purchase (or, with none on record, Amazon's last update of the
    SKU) is more than STUCK_INBOUND_DAYS old: they should have been received by now."""
    owner = _owner(user)
    now = now or seller_now()
    totals = session.execute(
        select(
            func.count(),
            func.sum(V.c.fulfillable),
            func.sum(V.c.inbound_working),
            func.sum(V.c.inbound_shipped),
            func.sum(V.c.inbound_receiving),
            func.sum(V.c.reserved),
            func.sum(V.c.unfulfillable),
            func.max(V.c.seen_at),
        ).where(V.c.user_id == owner)
    ).one()
    cols = (
        V.c.sku,
        V.c.asin,
        V.c.product_name,
        V.c.condition,
        V.c.fulfillable,
        INBOUND.label("inbound"),
        V.c.reserved,
        V.c.unfulfillable,
        V.c.amazon_updated_at,
    )
    cutoff = now - timedelta(days=STUCK_INBOUND_DAYS)
    if stuck_only:
        rows = _stuck(session, owner, cols, cutoff, limit)
    else:
        q = select(*cols).where(V.c.user_id == owner, V.c.total_quantity > 0)
        top = list(session.execute(q.order_by(V.c.fulfillable.desc(), V.c.sku.desc()).limit(limit)))
        bought = _bought(session, owner, top)
        rows = [(r, *bought[r.sku]) for r in top]
    items = [
        {
            "sku": r.sku,
            "asin": r.asin,
            "title": r.product_name,
            "condition": r.condition,
            "fulfillable": int(r.fulfillable or 0),
            "inbound": int(r.inbound or 0),
            "reserved": int(r.reserved or 0),
            "unfulfillable": int(r.unfulfillable or 0),
            "bought_at": at.isoformat() if at else None,
            "days_since_bought": round((now - at).total_seconds() / 86400, 1) if at else None,
            "unit_cost": None if cost is None else _money(cost),
        }
        for r, at, cost in rows
    ]
    return {
        "skus": int(totals[0] or 0),
        "fulfillable": int(totals[1] or 0),
        "inbound": int((totals[2] or 0) + (totals[3] or 0) + (totals[4] or 0)),
        "inbound_working": int(totals[2] or 0),
        "inbound_shipped": int(totals[3] or 0),
        "inbound_receiving": int(totals[4] or 0),
        "reserved": int(totals[5] or 0),
        "unfulfillable": int(totals[6] or 0),
        "synced_at": totals[7].isoformat() if totals[7] else None,
        "stuck_only": stuck_only,
        "stuck_after_days": STUCK_INBOUND_DAYS,
        "items": items,
    }


# ---- predictions vs what happened ----------------------------------------------------------


def _interval(n: int, total: float, squares: float) -> dict[str, Any]:
    """Mean and its 95 % confidence interval (normal approximation, from the count, sum and
    sum of squares; with fewer than ~30 purchases a t interval would be wider, so n is
    reported with it)."""
    if n == 0:
        return {"n": 0, "mean": None, "low": None, "high": None}
    mean = total / n
    if n < 2:
        return {"n": n, "mean": round(mean, 3), "low": None, "high": None}
    variance = max(0.0, (squares - n * mean * mean) / (n - 1))
    half = Z95 * math.sqrt(variance / n)
    return {
        "n": n,
        "mean": round(mean, 3),
        "low": round(mean - half, 3),
        "high": round(mean + half, 3),
    }


def _moments(value: Any) -> list[Any]:
    """count, sum and sum of squares of `value` (NULL rows left out, as aggregates do)."""
    return [func.count(value), func.sum(value), func.sum(value * value)]


def calibration(
    session: Session, user: User, *, seasonality: str | None = None, last: int | None = None
) -> dict[str, Any]:
    """Predicted (at purchase) vs realized, per purchase with units sold: profit per unit
    (realized - predicted, and realized / predicted) and days to sell (realized / predicted),
    each as a mean with a 95 % confidence interval. `seasonality` / `last`: only purchases of
    that kind, only the most recent N that sold (the track record advice quotes). Summed in
    the database: one indexed pass, whatever the number of purchases."""
    owner = _owner(user)
    refresh(session, owner)
    q = select(
        P.c.realized_profit,
        P.c.units_sold,
        P.c.profit_pred,
        P.c.avg_days,
        P.c.profit_diff,
        P.c.profit_ratio,
        P.c.days_ratio,
    ).where(P.c.user_id == owner, P.c.units_sold > 0)
    if seasonality:
        q = q.where(P.c.seasonality == seasonality)
    if last:
        q = q.order_by(P.c.last_sold_at.desc(), P.c.id.desc()).limit(last)
    # all of them: aggregate the table itself (a subquery would be materialized first)
    sub: Any = q.subquery() if last else P
    has_pred = sub.c.profit_pred.is_not(None)
    totals = select(
        func.count(),
        func.avg(sub.c.avg_days),
        *_moments(sub.c.profit_diff),
        *_moments(sub.c.profit_ratio),
        *_moments(sub.c.days_ratio),
        func.sum(case((has_pred, sub.c.realized_profit), else_=0.0)),
        func.sum(case((has_pred, sub.c.profit_pred * sub.c.units_sold), else_=0.0)),
    )
    if not last:
        totals = totals.where(q.whereclause)  # type: ignore[arg-type]
    row = session.execute(totals).one()

    def moments(i: int) -> dict[str, Any]:
        return _interval(int(row[i] or 0), float(row[i + 1] or 0.0), float(row[i + 2] or 0.0))

    real_total, pred_total = float(row[11] or 0.0), float(row[12] or 0.0)
    return {
        "purchases": int(row[0] or 0),
        "seasonality": seasonality,
        "profit_difference_per_unit": moments(2),
        "profit_ratio": moments(5),
        "profit_vs_predicted_total": (
            round(real_total / pred_total - 1, 3) if pred_total > 0 else None
        ),
        "average_days": None if row[1] is None else round(float(row[1]), 1),
        "days_ratio": moments(8),
    }


def calibration_points(
    session: Session, user: User, *, seasonality: str | None = None, limit: int = 200
) -> list[dict[str, Any]]:
    """Predicted vs realized profit per unit of the most recent purchases that sold (the
    chart's points)."""
    q = select(
        P.c.id, P.c.asin, P.c.title, P.c.profit_pred, P.c.realized_profit, P.c.units_sold
    ).where(P.c.user_id == _owner(user), P.c.units_sold > 0, P.c.profit_pred.is_not(None))
    if seasonality:
        q = q.where(P.c.seasonality == seasonality)
    rows = session.execute(q.order_by(P.c.last_sold_at.desc(), P.c.id.desc()).limit(limit))
    return [
        {
            "id": r[0],
            "asin": r[1],
            "title": r[2],
            "predicted": _money(r[3]),
            "realized": _money(float(r[4]) / int(r[5])),
        }
        for r in rows
    ]


def track_record(
    session: Session, user: User, seasonality: str | None, last: int = 12
) -> dict[str, Any] | None:
    """The seller's last `last` sold purchases of this kind (all kinds when None): what advice
    quotes ("your last 12 textbook buys took 41 days to sell on average and made 18 % less than
    predicted"). None when they have sold none."""
    cal = calibration(session, user, seasonality=seasonality, last=last)
    if not cal["purchases"]:
        return None
    return {
        "purchases": cal["purchases"],
        "seasonality": seasonality,
        "average_days": cal["average_days"],
        "vs_predicted": cal["profit_vs_predicted_total"],
        "days_ratio": cal["days_ratio"]["mean"],
    }
