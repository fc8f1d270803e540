"""Seed an e2e database: users and a few hundred deals with consistent money and history.

The money columns come from tools.deals.money.compute_money under the policy defaults, so what
the chat shows can be checked against the same formulas; histories are short price / rank
series with inferred sales, so deal detail answers have something to chart.
"""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

from sqlmodel import Session

from tools.db import migrate, session_scope
from tools.deals.money import MoneyInputs, compute_money
from tools.models import Deal, DealHistory, DealStatus, RestrictionStatus, Role, UserRestriction
from tools.sandbox.keepa.catalog import ordinal
from tools.settings import Settings
from tools.user_settings import UserSettings
from tools.users import add_user

KNOWN_ASIN = "0131103628"
USERS = {"admin": ("admin-password-1", Role.admin), "seller": ("seller-password-1", Role.user)}


def _isbn10(rng: random.Random) -> str:
    digits = [rng.randrange(10) for _ in range(9)]
    check = (11 - sum((10 - i) * d for i, d in enumerate(digits)) % 11) % 11
    return "".join(map(str, digits)) + ("X" if check == 10 else str(check))


def _deal(
    asin: str, title: str, rng: random.Random, now: datetime, category: str
) -> tuple[Deal, DealHistory]:
    price = round(rng.uniform(4, 80), 2)
    list_at = round(price * rng.uniform(1.1, 3.5) + rng.uniform(5, 25), 2)
    fba = round(rng.uniform(3.0, 5.5), 2)
    inputs = MoneyInputs(
        price_now=price,
        list_at=list_at,
        referral_pct=15.0,
        referral_min=0.0,
        fba_fee=fba,
        closing_fee=1.80,
    )
    money = compute_money(inputs, UserSettings())
    rank = rng.randint(2_000, 1_500_000)
    drops = rng.randint(0, 40)
    avg = round(list_at * rng.uniform(0.8, 1.2), 2)
    deal = Deal(
        asin=asin,
        title=title,
        author="B. Kernighan" if asin == KNOWN_ASIN else "A. Author",
        binding="Paperback",
        category=category,
        root_category_id=283155,
        category_path=f"Books > {category}",
        condition="used_very_good",
        price_now=price,
        price_now_source="offers",
        sales_rank=rank,
        rank_drops_30=drops // 3,
        rank_drops_90=drops,
        rank_drops_180=drops * 2,
        rank_drops_365=drops * 4,
        offers_used=rng.randint(3, 60),
        amazon_offer=rng.random() < 0.2,
        avg_1yr=avg,
        percent_down=max(0.0, round((avg - price) / avg * 100, 1)),
        inferred_sales_count=drops,
        offer_drops_count=drops + rng.randint(0, 5),
        deal_trust=round(rng.uniform(40, 100), 1),
        seller_quality=round(rng.uniform(5, 10), 1),
        trend=rng.choice(["up", "down", "flat"]),
        peak_months="8,9,1",
        trough_months="10",
        seasonality="textbook" if category == "Textbooks" else "year_round",
        list_at=list_at,
        referral_pct=15.0,
        referral_min=0.0,
        fba_fee=fba,
        closing_fee=1.80,
        amz_fees=money.amz_fees,
        all_in_cost_default=money.all_in_cost,
        profit_default=money.profit,
        margin_default=money.margin,
        roi_default=money.roi,
        min_listing_price_default=money.min_listing_price,
        status=DealStatus.active,
        last_seen_utc=now,
        fetched_at=now,
        updated_at=now,
    )
    start = now - timedelta(days=365)
    times = [int((start + timedelta(days=d)).timestamp() * 1000) for d in range(0, 366, 5)]
    prices = [round(max(2.0, list_at * rng.uniform(0.5, 1.3)), 2) for _ in times]
    prices[-1] = price
    ranks = [rng.randint(max(1, rank // 3), rank * 2) for _ in times]
    ranks[-1] = rank
    sales = [
        {"t": t, "price": p} for t, p in zip(times, prices, strict=True) if rng.random() < 0.15
    ]
    history = DealHistory(
        asin=asin,
        used_price={"t": times, "v": prices},
        sales_rank={"t": times, "v": ranks},
        inferred_sales=sales,
    )
    return deal, history


def seed_deals(session: Session, n: int = 300, seed: int = 7) -> list[str]:
    rng = random.Random(seed)
    now = datetime.now(UTC)
    asins = [KNOWN_ASIN]
    while len(asins) < n:
        a = _isbn10(rng)
        if a not in asins:
            asins.append(a)
    for i, asin in enumerate(asins):
        if asin == KNOWN_ASIN:
            title, category = "The C Programming Language, 2nd Edition", "Computer Science"
        elif i % 3 == 0:
            title = f"Organic Chemistry Principles, {ordinal(i % 12 + 2)} Edition"
            category = "Textbooks"
        else:
            title, category = f"Applied Statistics Handbook Volume {i}", "Textbooks"
        deal, history = _deal(asin, title, rng, now, category)
        session.add(deal)
        session.add(history)
    return asins


def seed_all(settings: Settings, n_deals: int = 300) -> None:
    """Migrate the data dir's database, add the e2e users and the deals."""
    migrate(settings)
    with session_scope(settings) as session:
        users = [
            add_user(session, name, password, role) for name, (password, role) in USERS.items()
        ]
        asins = seed_deals(session, n_deals)
        session.flush()
        rng = random.Random(11)
        for user in users:  # what the restriction worker would have found: ~1 in 10 gated
            assert user.id is not None  # flushed above
            for asin in asins:
                gated = rng.random() < 0.1 and asin != KNOWN_ASIN
                session.add(
                    UserRestriction(
                        user_id=user.id,
                        asin=asin,
                        status=RestrictionStatus.restricted
                        if gated
                        else RestrictionStatus.not_restricted,
                        reason_code="APPROVAL_REQUIRED" if gated else None,
                    )
                )
