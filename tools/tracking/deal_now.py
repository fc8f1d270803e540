"""A deal's numbers today under one seller's settings, for many ASINs in one query.

The buy list and the purchase form both need the same few fields of the deals table (price,
List at, fees, profit, velocity), with money under the seller's own settings
(tools/deals/money.py), without the chart series a full deal detail reads.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import select
from sqlmodel import Session

from tools.db import table_of
from tools.deals import money as m
from tools.models import Deal
from tools.user_settings import UserSettings

D = table_of(Deal)
_COLUMNS = (
    "asin",
    "title",
    "category",
    "seasonality",
    "price_now",
    "list_at",
    "referral_pct",
    "referral_min",
    "fba_fee",
    "closing_fee",
    "shipping_included",
    "rank_drops_30",
    "rank_drops_90",
    "rank_drops_365",
)


@dataclass(frozen=True, slots=True)
class DealNow:
    asin: str
    title: str | None
    category: str | None
    seasonality: str | None
    price_now: float | None
    list_at: float | None
    referral_pct: float | None
    referral_min: float | None
    fba_fee: float | None
    closing_fee: float | None
    shipping_included: bool
    rank_drops_30: int | None
    rank_drops_90: int | None
    rank_drops_365: int | None
    money: m.Money

    @property
    def sales_per_year(self) -> float | None:
        """Keepa's rank drops (its proxy for sales), the longest window that has any."""
        windows = ((self.rank_drops_365, 1), (self.rank_drops_90, 4), (self.rank_drops_30, 12))
        for drops, scale in windows:
            if drops:
                return float(drops * scale)
        return None

    def inputs(self, unit_cost: float) -> m.MoneyInputs:
        """The deal's money inputs with a purchase's unit cost as the buy price: a unit in
        hand always pays the seller's prep and inbound shipping to Amazon."""
        return m.MoneyInputs(
            unit_cost,
            self.list_at,
            self.referral_pct,
            self.referral_min,
            self.fba_fee,
            self.closing_fee,
            False,
        )


def deals_now(session: Session, asins: Iterable[str], settings: UserSettings) -> dict[str, DealNow]:
    """ASIN -> its numbers today (ASINs not in the deals table are left out)."""
    wanted = sorted(set(asins))
    if not wanted:
        return {}
    rows = session.execute(
        select(*(D.c[name] for name in _COLUMNS)).where(D.c.asin.in_(wanted))
    ).mappings()
    out = {}
    for r in rows:
        inputs = m.MoneyInputs(
            r["price_now"],
            r["list_at"],
            r["referral_pct"],
            r["referral_min"],
            r["fba_fee"],
            r["closing_fee"],
            bool(r["shipping_included"]),
        )
        out[r["asin"]] = DealNow(
            **{k: r[k] for k in _COLUMNS},
            money=m.compute_money(inputs, settings),
        )
    return out
