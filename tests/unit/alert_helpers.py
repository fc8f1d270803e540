"""Deals and sellers for alert tests: deal rows written as the processor writes them."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlmodel import Session

from tools.db import upsert
from tools.deals import money as m
from tools.models import Deal, User
from tools.user_settings import UserSettings

NOW = datetime(2026, 9, 15, 12, tzinfo=UTC)


def deal_values(asin: str, price: float, list_at: float = 60.0, **extra: Any) -> dict[str, Any]:
    """A visible deal row; money columns consistent with the stored inputs."""
    inputs = m.MoneyInputs(price, list_at, 15.0, 0.0, 3.5, 1.80)
    money = m.compute_money(inputs, UserSettings())
    row: dict[str, Any] = {
        "asin": asin,
        "title": extra.pop("title", f"Nursing Fundamentals {asin}"),
        "category_path": "Books > Medical Books > Nursing",
        "status": "active",
        "price_now": price,
        "list_at": list_at,
        "referral_pct": 15.0,
        "referral_min": 0.0,
        "fba_fee": 3.5,
        "closing_fee": 1.80,
        "amz_fees": money.amz_fees,
        "shipping_included": False,
        "all_in_cost_default": money.all_in_cost,
        "profit_default": money.profit,
        "roi_default": money.roi,
        "margin_default": money.margin,
        "min_listing_price_default": money.min_listing_price,
        "sales_rank": 50_000,
        "rank_drops_90": 12,
        "offers_used": 4,
        "deal_trust": 80.0,
        "updated_at": NOW,
        "fetched_at": NOW,
    }
    row.update(extra)
    return row


def put_deal(session: Session, asin: str, price: float, **extra: Any) -> None:
    upsert(session, Deal, deal_values(asin, price, **extra))


def seller(session: Session, name: str = "nina", **settings: Any) -> User:
    user = User(name=name, password_hash="x", settings=settings or None)
    session.add(user)
    session.flush()
    return user
