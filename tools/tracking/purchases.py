"""Purchases: what a seller bought, and what the app predicted for it when they bought it.

A purchase keeps the seller's money settings and the deal's fee inputs as they were at
purchase; the prediction (Amazon fees at List at, break-even price, minimum list price,
profit per unit, days to sell) is derived from them by `predict`, so editing the cost or the
quantity later re-derives it from the same inputs, and realized profit (the FIFO matching of
sales) is compared with what was predicted then, not with today's market.

Days to sell (the prediction): Keepa's rank drops are its proxy for sales, so one copy sells
every 365 / drops-per-year days; a purchase of q units waits, on average, (q + 1) / 2 of those
intervals per unit (the units sell one after another). It is deliberately simple: the
calibration report (predicted vs realized) is there to tell how far off it runs.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from sqlmodel import Session, col, select

from tools.deals import money as m
from tools.models import Purchase, User, utcnow
from tools.restrictions.conditions import UnknownCondition, to_condition_type
from tools.tracking import TrackingError
from tools.tracking.clock import seller_now
from tools.tracking.costs import settings_of, unit_all_in
from tools.tracking.deal_now import deals_now
from tools.user_settings import load_user_settings

MAX_QUANTITY = 10_000
MAX_UNIT_COST = 10_000.0
MAX_NOTE = 500
EARLIEST = datetime(2000, 1, 1, tzinfo=UTC)
_SKU = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._/-]{0,39}$")  # Seller Central: up to 40 characters
_ORDER = re.compile(r"^[A-Za-z0-9][A-Za-z0-9 ._#/-]{0,63}$")
_ASIN = re.compile(r"^[A-Z0-9]{10}$")
EDITABLE = (
    "quantity",
    "unit_cost",
    "condition",
    "purchased_at",
    "sku",
    "order_number",
    "note",
)


@dataclass
class PurchaseInput:
    """One purchase as the seller describes it; only asin, quantity and unit_cost are needed."""

    asin: str
    quantity: int
    unit_cost: float
    condition: str | None = None
    purchased_at: datetime | date | str | None = None
    sku: str | None = None
    order_number: str | None = None
    note: str | None = None


def _owner(user: User) -> int:
    if user.id is None:
        raise TrackingError("purchases belong to a signed-in seller")
    return user.id


def clean_asin(value: str) -> str:
    asin = (value or "").strip().upper().replace("-", "")
    if not _ASIN.match(asin):
        raise TrackingError(f"'{value}' is not an ASIN or ISBN-10 (10 letters/digits)")
    return asin


def clean_quantity(value: Any) -> int:
    try:
        f = float(str(value).strip()) if not isinstance(value, bool) else float("nan")
    except ValueError:
        f = float("nan")
    if not f.is_integer():
        raise TrackingError(f"quantity must be a whole number, not {value!r}")
    q = int(f)
    if not 1 <= q <= MAX_QUANTITY:
        raise TrackingError(f"quantity must be 1 to {MAX_QUANTITY:,}")
    return q


def clean_cost(value: Any) -> float:
    try:
        cost = float(str(value).replace("$", "").replace(",", "").strip())
    except ValueError:
        raise TrackingError(f"unit cost must be an amount in dollars, not {value!r}") from None
    if not 0 <= cost <= MAX_UNIT_COST:  # also refuses nan
        raise TrackingError(f"unit cost must be $0 to ${MAX_UNIT_COST:,.0f}")
    return round(cost, 2)


def clean_condition(value: str | None) -> str:
    try:
        return to_condition_type(value)
    except UnknownCondition as err:
        raise TrackingError(str(err)) from None


def clean_when(value: datetime | date | str | None, now: datetime | None = None) -> datetime:
    """A purchase time: a datetime, a date (noon UTC, so any time zone keeps the day) or an
    ISO string; never before 2000 nor more than a day ahead."""
    now = now or seller_now()
    if value is None or value == "":
        return now
    if isinstance(value, str):
        try:
            value = (
                date.fromisoformat(value.strip())
                if len(value.strip()) == 10
                else datetime.fromisoformat(value.strip())
            )
        except ValueError:
            raise TrackingError(f"date must look like 2025-11-03, not {value!r}") from None
    if not isinstance(value, datetime):
        value = datetime.combine(value, time(12), tzinfo=UTC)
    elif value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    if not EARLIEST <= value <= now + timedelta(days=1):
        raise TrackingError(f"purchase date {value:%Y-%m-%d} is not between 2000 and today")
    return value


def clean_text(value: str | None, pattern: re.Pattern[str], what: str) -> str | None:
    text = (value or "").strip()
    if not text:
        return None
    if not pattern.match(text):
        raise TrackingError(
            f"{what} {text[:50]!r} is not valid (letters, digits and - . _ /, "
            f"at most {40 if what == 'SKU' else 64} characters)"
        )
    return text


def predict(p: Purchase) -> None:
    """Derive the purchase's prediction from its stored inputs (see the module docstring)."""
    settings = settings_of(p)
    inputs = m.MoneyInputs(
        p.unit_cost,
        p.list_at_pred,
        p.referral_pct_pred,
        p.referral_min_pred,
        p.fba_fee_pred,
        p.closing_fee_pred,
        False,
    )
    money = m.compute_money(inputs, settings)
    p.amz_fees_pred = money.amz_fees
    p.profit_pred = money.profit
    p.min_list_price = money.min_listing_price
    p.break_even_price = None
    if money.all_in_cost is not None and p.fba_fee_pred is not None:
        pct = m.DEFAULT_REFERRAL_PCT if p.referral_pct_pred is None else p.referral_pct_pred
        p.break_even_price = m.min_listing_price(
            money.all_in_cost, p.fba_fee_pred, pct, 0.0, p.closing_fee_pred or 0.0
        )
    spy = p.sales_per_year_pred
    p.days_to_sell_pred = 365.0 / spy * (p.quantity + 1) / 2 if spy else None


def record_purchase(
    session: Session,
    user: User,
    data: PurchaseInput,
    *,
    now: datetime | None = None,
    match: bool = True,
) -> Purchase:
    """Store a purchase with the prediction at purchase under the seller's settings now;
    `match=False` leaves matching its ASIN's sales to the caller (a bulk import does it once)."""
    owner = _owner(user)
    asin = clean_asin(data.asin)
    settings = load_user_settings(user)
    deal = deals_now(session, [asin], settings).get(asin)
    p = Purchase(
        user_id=owner,
        asin=asin,
        title=deal.title if deal else None,
        category=deal.category if deal else None,
        seasonality=deal.seasonality if deal else None,
        quantity=clean_quantity(data.quantity),
        unit_cost=clean_cost(data.unit_cost),
        condition=clean_condition(data.condition),
        purchased_at=clean_when(data.purchased_at, now),
        sku=clean_text(data.sku, _SKU, "SKU"),
        order_number=clean_text(data.order_number, _ORDER, "order number"),
        note=(data.note or "").strip()[:MAX_NOTE] or None,
        tax_pct=settings.tax_pct,
        prep_fee=settings.prep_fee,
        inbound_shipping=settings.inbound_shipping,
        markup_pct=settings.markup_pct,
        list_at_pred=deal.list_at if deal else None,
        referral_pct_pred=deal.referral_pct if deal else None,
        referral_min_pred=deal.referral_min if deal else None,
        fba_fee_pred=deal.fba_fee if deal else None,
        closing_fee_pred=deal.closing_fee if deal else None,
        sales_per_year_pred=deal.sales_per_year if deal else None,
    )
    predict(p)
    session.add(p)
    session.flush()
    if match:
        _rematch(session, p)
        session.refresh(p)
    return p


def _rematch(session: Session, p: Purchase) -> None:
    """Sales of this ASIN are matched to purchases again: FIFO depends on every purchase."""
    from tools.tracking.realized import rematch

    rematch(session, p.user_id, [p.asin])


def get_purchase(session: Session, user: User, purchase_id: int) -> Purchase:
    """The seller's purchase with this id; another seller's id reads as not found."""
    p = session.get(Purchase, purchase_id)
    if p is None or p.user_id != _owner(user):
        raise TrackingError(f"you have no purchase #{purchase_id}")
    return p


def edit_purchase(
    session: Session,
    user: User,
    purchase_id: int,
    changes: dict[str, Any],
    *,
    match: bool = True,
) -> Purchase:
    """Change what the seller typed (cost, quantity, condition, date, SKU, order, note); the
    prediction is re-derived from the inputs stored at purchase (`match`: see
    record_purchase)."""
    p = get_purchase(session, user, purchase_id)
    unknown = set(changes) - set(EDITABLE)
    if unknown:
        raise TrackingError(
            f"cannot change {', '.join(sorted(unknown))}; editable: {', '.join(EDITABLE)}"
        )
    cleaners: dict[str, Any] = {
        "quantity": clean_quantity,
        "unit_cost": clean_cost,
        "condition": clean_condition,
        "purchased_at": clean_when,
        "sku": lambda v: clean_text(v, _SKU, "SKU"),
        "order_number": lambda v: clean_text(v, _ORDER, "order number"),
        "note": lambda v: (v or "").strip()[:MAX_NOTE] or None,
    }
    for key, value in changes.items():
        setattr(p, key, cleaners[key](value))
    predict(p)
    p.updated_at = utcnow()
    session.add(p)
    session.flush()
    if match:
        _rematch(session, p)
        session.refresh(p)
    return p


def delete_purchase(session: Session, user: User, purchase_id: int) -> Purchase:
    p = get_purchase(session, user, purchase_id)
    session.delete(p)
    session.flush()
    _rematch(session, p)
    return p


def list_purchases(
    session: Session,
    user: User,
    *,
    asin: str | None = None,
    limit: int | None = 50,
) -> list[Purchase]:
    """The seller's purchases, newest first (optionally of one ASIN)."""
    stmt = select(Purchase).where(Purchase.user_id == _owner(user))
    if asin:
        stmt = stmt.where(Purchase.asin == clean_asin(asin))
    stmt = stmt.order_by(col(Purchase.purchased_at).desc(), col(Purchase.id).desc())
    if limit is not None:
        stmt = stmt.limit(limit)
    return list(session.exec(stmt).all())


VIEW_FIELDS = tuple(
    f
    for f in Purchase.model_fields
    if f not in ("user_id", "referral_min_pred", "fba_fee_pred", "closing_fee_pred")
)


def purchase_view(p: Purchase) -> dict[str, Any]:
    """What a seller sees of a purchase: what they typed, the prediction, what it realized."""
    data: dict[str, Any] = {}
    for name in VIEW_FIELDS:
        value = getattr(p, name)
        data[name] = value.isoformat() if isinstance(value, datetime) else value
    data["unit_all_in"] = round(unit_all_in(p), 2)
    data["total_cost"] = round(unit_all_in(p) * p.quantity, 2)
    data["units_left"] = max(0, p.quantity - p.units_sold)
    return data
