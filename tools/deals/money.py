"""The money of a deal (docs/domain.md "Money"), in dollars, as pure Python and as SQL.

Amazon's fees depend only on the product (stored once per deal); cost, profit, ROI, margin and
Min. Listing depend on the asking user's settings. So the deal table stores the settings-free
inputs (price_now, list_at, referral_pct, referral_min, fba_fee, closing_fee,
shipping_included) and `money_sql` rebuilds the user's numbers inside the query: a settings
change never needs a Keepa re-fetch. `compute_money` (Python) and `money_sql` (SQL) implement
the same formulas term by term; tests/unit/test_money_sql.py checks they agree.

Formulas (docs/domain.md "Money"):
    All-in Cost = Price Now + Price Now × tax % + prep fee + inbound shipping
                  (inbound shipping left out when shipping is already included)
    Total AMZ fees = max(List at × referral %, referral minimum) + FBA fee + closing fee
    Profit = List at − All-in Cost − Total AMZ fees
    Margin = Profit / List at × 100          ROI = Profit / All-in Cost × 100
    Min. Listing Price = (All-in Cost + FBA fee + closing fee) / (1 − markup − referral %)
"""

from __future__ import annotations

import bisect
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Float, case, func, literal
from sqlalchemy.sql.elements import ColumnElement

from tools.user_settings import UserSettings

DEFAULT_REFERRAL_PCT = 15.0  # docs/domain.md "Money": when Keepa has no referralFeePercentage
NON_MEDIA_REFERRAL_MIN = 0.30  # $ per item; Amazon's media categories have no minimum
MEDIA_CLOSING_FEE = 1.80  # $ per media item (books, music, video, DVD)

# Keepa root categories (US) of the media fee group, plus bindings that mark media items
# whose root category is missing or odd (e.g. a textbook listed under another root).
# Not 4991425011: that is Collectibles & Fine Art (coins, memorabilia), not media.
MEDIA_ROOT_CATEGORIES = frozenset({283155, 5174, 2625373011})  # Books, CDs & Vinyl,
# Movies & TV
MEDIA_BINDINGS = frozenset(
    {
        "paperback",
        "hardcover",
        "mass market paperback",
        "library binding",
        "spiral-bound",
        "loose leaf",
        "board book",
        "textbook binding",
        "ring-bound",
        "perfect paperback",
        "audio cd",
        "vinyl",
        "dvd",
        "blu-ray",
        "vhs tape",
        "audio cassette",
        "cd-rom",
        "map",
        "diary",
        "calendar",
        "flexibound",
        "leather bound",
        "plastic comb",
        "unknown binding",
    }
)

GRAMS_PER_OZ = 28.349523125
GRAMS_PER_LB = 453.59237
MM_PER_INCH = 25.4
DIM_DIVISOR = 139  # docs/domain.md "Money": dimensional weight (lb) = L × W × H (in) / 139

# Amazon US FBA fulfillment fees, standard (non-apparel) items priced $10-$50, rate card
# effective 5 Feb 2024 ("2024 US referral and FBA fee changes", Seller Central); Amazon kept
# these standard-size rates for 2025 ("no increase to average US FBA fees in 2025").
# Upper weight bound (inclusive) -> fee. Small standard uses unit weight; large standard and
# bulky use the greater of unit and dimensional weight.
_SMALL_STANDARD_OZ = (
    (2, 3.06),
    (4, 3.15),
    (6, 3.24),
    (8, 3.33),
    (10, 3.43),
    (12, 3.53),
    (14, 3.60),
    (16, 3.65),
)
_LARGE_STANDARD_OZ = (
    (4, 3.68),
    (8, 3.90),
    (12, 4.15),
    (16, 4.55),
    (20, 4.99),
    (24, 5.37),
    (28, 5.52),
    (32, 5.77),
    (36, 5.87),
    (40, 6.05),
    (44, 6.21),
    (48, 6.62),
)
_LARGE_STANDARD_OVER_3LB = (6.92, 0.08)  # base at 3 lb, + per 4 oz (or part) above 3 lb
_LARGE_BULKY = (9.61, 0.38)  # base up to 1 lb, + per lb (or part) above; valid up to 50 lb
_LARGE_BULKY_MAX_LB = 50.0


@dataclass(frozen=True, slots=True)
class FbaEstimate:
    fee: float
    size_tier: str  # small_standard | large_standard | large_bulky
    shipping_weight_lb: float


def estimate_fba_fee(
    length_mm: float | None, width_mm: float | None, height_mm: float | None, weight_g: float | None
) -> FbaEstimate | None:
    """FBA pick-and-pack estimate from package size and weight; None when an input is missing.

    Size tiers follow docs/domain.md "Money" (small standard ≤ 15×12×0.75 in and ≤ 16 oz; large
    standard ≤ 18×14×8 in and ≤ 20 lb; anything larger is priced as large bulky up to 50 lb,
    beyond which we do not guess). Dimensions are sorted so the longest side is compared with
    15/18.
    """
    dims = [length_mm, width_mm, height_mm]
    if any(d is None or d <= 0 for d in dims) or weight_g is None or weight_g <= 0:
        return None
    longest, median, shortest = sorted((float(d) / MM_PER_INCH for d in dims), reverse=True)  # type: ignore[arg-type]
    unit_oz = float(weight_g) / GRAMS_PER_OZ
    unit_lb = float(weight_g) / GRAMS_PER_LB
    dim_lb = longest * median * shortest / DIM_DIVISOR
    if longest <= 15 and median <= 12 and shortest <= 0.75 and unit_oz <= 16:
        fee = _SMALL_STANDARD_OZ[bisect.bisect_left([b for b, _ in _SMALL_STANDARD_OZ], unit_oz)][1]
        return FbaEstimate(fee, "small_standard", unit_lb)
    ship_lb = max(unit_lb, dim_lb)
    if longest <= 18 and median <= 14 and shortest <= 8 and unit_lb <= 20:
        ship_oz = ship_lb * 16
        bounds = [b for b, _ in _LARGE_STANDARD_OZ]
        if ship_oz <= bounds[-1]:
            fee = _LARGE_STANDARD_OZ[bisect.bisect_left(bounds, ship_oz)][1]
        else:
            base, step = _LARGE_STANDARD_OVER_3LB
            quarters = -(-(ship_oz - 48) // 4)  # each started 4 oz above 3 lb
            fee = round(base + step * quarters, 2)
        return FbaEstimate(fee, "large_standard", ship_lb)
    if ship_lb > _LARGE_BULKY_MAX_LB:
        return None
    base, per_lb = _LARGE_BULKY
    fee = round(base + per_lb * max(0.0, -(-(ship_lb - 1) // 1)), 2)
    return FbaEstimate(fee, "large_bulky", ship_lb)


def is_media(root_category: int | None, binding: str | None) -> bool:
    """Books, music, video and DVD: no referral minimum, and the $1.80 closing fee applies."""
    if root_category in MEDIA_ROOT_CATEGORIES:
        return True
    return bool(binding) and binding.strip().lower() in MEDIA_BINDINGS  # type: ignore[union-attr]


def referral_fee(list_at: float, referral_pct: float, referral_min: float = 0.0) -> float:
    return max(list_at * referral_pct / 100.0, referral_min)


def amz_fees(
    list_at: float, referral_pct: float, referral_min: float, fba_fee: float, closing_fee: float
) -> float:
    """Total AMZ fees = referral (with its minimum) + FBA pick-and-pack + closing fee."""
    return referral_fee(list_at, referral_pct, referral_min) + fba_fee + closing_fee


def all_in_cost(price_now: float, settings: UserSettings, shipping_included: bool = False) -> float:
    """Price Now + tax + prep fee + inbound shipping (Amazon fees are not part of the cost)."""
    shipping = 0.0 if shipping_included else settings.inbound_shipping
    # price × (1 + tax) is Price Now + Price Now × tax %, written as money_sql computes it
    return price_now * (1.0 + settings.tax_pct / 100.0) + (settings.prep_fee + shipping)


def profit(list_at: float, cost: float, fees: float) -> float:
    return list_at - cost - fees


def margin(profit_: float, list_at: float) -> float | None:
    return profit_ * 100.0 / list_at if list_at > 0 else None


def roi(profit_: float, cost: float) -> float | None:
    return profit_ * 100.0 / cost if cost > 0 else None


def min_listing_price(
    cost: float, fba_fee: float, referral_pct: float, markup_pct: float, closing_fee: float = 0.0
) -> float | None:
    """(All-in + FBA fee + media closing fee) / (1 − markup − referral %): the lowest price that
    pays them all plus the markup; None when markup + referral ≥ 100 %."""
    denom = 1.0 - markup_pct / 100.0 - referral_pct / 100.0
    return (cost + fba_fee + closing_fee) / denom if denom > 0 else None


@dataclass(frozen=True, slots=True)
class MoneyInputs:
    """The settings-independent inputs stored on each deal row."""

    price_now: float | None
    list_at: float | None
    referral_pct: float | None
    referral_min: float | None
    fba_fee: float | None
    closing_fee: float | None
    shipping_included: bool = False


@dataclass(frozen=True, slots=True)
class Money:
    all_in_cost: float | None = None
    amz_fees: float | None = None
    profit: float | None = None
    margin: float | None = None
    roi: float | None = None
    min_listing_price: float | None = None
    missing: dict[str, str] = field(default_factory=dict)


def compute_money(inputs: MoneyInputs, settings: UserSettings) -> Money:
    """All money fields under `settings`; a field is None (with a reason) when an input is."""
    missing: dict[str, str] = {}
    cost = fees = prof = None
    pct = DEFAULT_REFERRAL_PCT if inputs.referral_pct is None else inputs.referral_pct
    ref_min = 0.0 if inputs.referral_min is None else inputs.referral_min
    closing = 0.0 if inputs.closing_fee is None else inputs.closing_fee
    if inputs.price_now is None:
        missing["all_in_cost"] = "no Price Now"
    else:
        cost = all_in_cost(inputs.price_now, settings, inputs.shipping_included)
    if inputs.list_at is None:
        missing["amz_fees"] = "no List at (fees depend on the sale price)"
    elif inputs.fba_fee is None:
        missing["amz_fees"] = "no FBA fee: Keepa has none and size/weight are unknown"
    else:
        fees = amz_fees(inputs.list_at, pct, ref_min, inputs.fba_fee, closing)
    if cost is None or fees is None or inputs.list_at is None:
        reason = "; ".join(missing.values())
        for name in ("profit", "margin", "roi"):
            missing[name] = reason
    else:
        prof = profit(inputs.list_at, cost, fees)
    mlp = None
    if cost is not None and inputs.fba_fee is not None:
        mlp = min_listing_price(cost, inputs.fba_fee, pct, settings.markup_pct, closing)
        if mlp is None:
            missing["min_listing_price"] = "markup + referral fee reach 100 %"
    else:
        missing["min_listing_price"] = "needs Price Now and an FBA fee"
    return Money(
        all_in_cost=cost,
        amz_fees=fees,
        profit=prof,
        margin=margin(prof, inputs.list_at) if prof is not None and inputs.list_at else None,
        roi=roi(prof, cost) if prof is not None and cost else None,
        min_listing_price=mlp,
        missing=missing,
    )


@dataclass(frozen=True, slots=True)
class MoneySQL:
    """SQLAlchemy column expressions of the user's money, for WHERE and ORDER BY."""

    all_in_cost: ColumnElement[Any]
    amz_fees: ColumnElement[Any]
    net: ColumnElement[Any]  # List at − Total AMZ fees: what a sale leaves before cost
    profit: ColumnElement[Any]
    margin: ColumnElement[Any]
    roi: ColumnElement[Any]
    min_listing_price: ColumnElement[Any]


def money_sql(settings: UserSettings, table: Any = None) -> MoneySQL:
    """The same formulas as `compute_money`, over the deal table's stored inputs.

    Total AMZ fees do not depend on user settings, so the query reads the stored `amz_fees`
    (written by `compute_money` from referral %/minimum, FBA and closing fee) instead of
    re-deriving it per row: the per-row arithmetic is what bounds search latency. Settings
    enter as bound parameters (never string-formatted). NULL inputs propagate to NULL results
    exactly like the Python None. Plain arithmetic and CASE: SQLite and PostgreSQL alike.
    """
    if table is None:
        from tools.db import table_of
        from tools.models import Deal

        table = table_of(Deal)
    c = table.c

    def num(x: float) -> ColumnElement[Any]:
        return literal(float(x), Float)

    price, list_at = c.price_now, c.list_at
    fixed = case(
        (c.shipping_included, num(settings.prep_fee)),
        else_=num(settings.prep_fee + settings.inbound_shipping),
    )
    cost = price * num(1.0 + settings.tax_pct / 100.0) + fixed
    pct = func.coalesce(c.referral_pct, num(DEFAULT_REFERRAL_PCT))
    fees = c.amz_fees
    prof = list_at - cost - fees
    net = list_at - fees
    margin_e = case((list_at > 0, prof * num(100.0) / list_at), else_=None)
    roi_e = case((cost > 0, prof * num(100.0) / cost), else_=None)
    denom = num(1.0) - num(settings.markup_pct / 100.0) - pct / num(100.0)
    closing = func.coalesce(c.closing_fee, num(0.0))
    mlp = case((denom > 0, (cost + c.fba_fee + closing) / denom), else_=None)
    return MoneySQL(
        all_in_cost=cost,
        amz_fees=fees,
        net=net,
        profit=prof,
        margin=margin_e,
        roi=roi_e,
        min_listing_price=mlp,
    )
