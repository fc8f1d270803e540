"""The alert matcher answers exactly what the deal search answers, search by search."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import select
from sqlmodel import Session

from tools.alerts.matching import (
    DEAL_COLUMNS,
    HANDLED_FIELDS,
    DealBatch,
    UnsupportedFilter,
    compile_search,
    evaluate,
    gating_masks,
)
from tools.db import get_engine, table_of
from tools.deals import money as m
from tools.deals.search import DealSearch, search_deals
from tools.models import Deal, DealStatus, RestrictionStatus, User, UserRestriction
from tools.settings import Settings
from tools.user_settings import UserSettings, save_user_settings

NOW = datetime(2026, 9, 15, 12, tzinfo=UTC)
TITLES = [
    "Campbell Biology, 12th Edition",
    "Microbiology: An Introduction",
    "Calculus: Early Transcendentals",
    "Café Society and Its Discontents",
    "Nursing Fundamentals (Pearson)",
    "The C Programming Language",
    "Organic Chemistry Study Guide",
]
AUTHORS = ["Lisa Urry", "Gerard Tortora", "James Stewart", "Ana Núñez", None]
PATHS = ["Books > Textbooks > Science", "Books > Medical Books > Nursing", "Books > Computers"]


def _deal(rng: random.Random, i: int) -> Deal:
    price = None if rng.random() < 0.05 else round(rng.uniform(3, 90), 2)
    list_at = None if rng.random() < 0.05 else round(rng.uniform(10, 160), 2)
    fba = round(rng.uniform(3, 6), 2)
    inputs = m.MoneyInputs(price, list_at, 15.0, 0.0, fba, 1.80, rng.random() < 0.2)
    money = m.compute_money(inputs, UserSettings())
    mask = rng.choice([None, 0, 1 << 7, (1 << 7) | (1 << 8), 1 << 0])
    return Deal(
        asin=f"A{i:09d}",
        title=rng.choice(TITLES),
        author=rng.choice(AUTHORS),
        publisher=rng.choice(["Pearson Education", "McGraw-Hill", "Wiley", None]),
        category=rng.choice(["Textbooks", "Medical Books", None]),
        category_path=rng.choice(PATHS),
        condition=rng.choice(["like_new", "very_good", "good", None]),
        status=rng.choice([DealStatus.active] * 3 + [DealStatus.stale, DealStatus.pending]),
        price_now=price,
        list_at=list_at,
        referral_pct=15.0,
        referral_min=0.0,
        fba_fee=fba,
        closing_fee=1.80,
        amz_fees=money.amz_fees,
        shipping_included=inputs.shipping_included,
        all_in_cost_default=money.all_in_cost,
        profit_default=money.profit,
        roi_default=money.roi,
        margin_default=money.margin,
        min_listing_price_default=money.min_listing_price,
        sales_rank=None if rng.random() < 0.1 else rng.randint(1_000, 3_000_000),
        rank_drops_30=rng.randint(0, 20),
        rank_drops_90=rng.randint(0, 60),
        rank_drops_365=rng.randint(0, 200),
        seasonality=rng.choice(["textbook", "year_round", None]),
        peak_mask=mask,
        percent_down=rng.choice([None, round(rng.uniform(0, 80), 1)]),
        amazon_offer=rng.choice([True, False, None]),
        updated_at=NOW - timedelta(hours=rng.uniform(0, 96)),
    )


def _search(rng: random.Random) -> dict[str, Any]:
    """A random search over the fields sellers use (each picked with some probability)."""
    pick: dict[str, Any] = {}
    options: list[tuple[str, Any]] = [
        ("text", lambda: rng.choice(["bio", "biology", "calc early", "cafe", "núñez", "c", "+"])),
        ("category", lambda: rng.choice(["nursing", "textbooks", "medical books", "comp"])),
        ("author", lambda: rng.choice(["stewart", "urry lisa", "nun"])),
        ("publisher", lambda: rng.choice(["pearson", "mcgraw hill", "wil"])),
        ("min_rank", lambda: rng.choice([5_000, 400_000])),
        ("min_price", lambda: rng.choice([5, 10.5, 20])),
        ("max_price", lambda: rng.choice([30, 45.99, 80])),
        ("min_roi", lambda: rng.choice([-50, 0, 30, 100])),
        ("max_roi", lambda: rng.choice([150, 400])),
        ("min_profit", lambda: rng.choice([0, 5, 15.5])),
        ("max_profit", lambda: rng.choice([60, 100])),
        ("min_margin", lambda: rng.choice([10, 25])),
        ("max_margin", lambda: rng.choice([60, 90])),
        ("max_rank", lambda: rng.choice([100_000, 500_000, 2_000_000])),
        ("min_drops_30", lambda: rng.choice([2, 8])),
        ("min_drops_90", lambda: rng.choice([5, 30])),
        ("min_drops_365", lambda: rng.choice([20, 100])),
        ("seasonality", lambda: rng.choice(["textbook", "year_round"])),
        ("in_peak_now", lambda: True),
        ("peak_month", lambda: rng.choice([1, 8, 9])),
        ("min_percent_down", lambda: rng.choice([10, 40])),
        ("gated", lambda: rng.choice(["exclude", "only_ungated", "include"])),
        ("amazon_offer", lambda: rng.choice([True, False])),
        ("condition", lambda: rng.choice(["like_new", "good"])),
        ("updated_within_hours", lambda: rng.choice([6, 48])),
        ("include_unprofitable", lambda: True),
    ]
    for name, value in rng.sample(options, rng.randint(0, 5)):
        pick[name] = value()
    for lo, hi in (("min_price", "max_price"), ("min_roi", "max_roi")):
        if lo in pick and hi in pick and pick[lo] > pick[hi]:
            pick.pop(hi)
    return pick


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_matcher_agrees_with_the_deal_search(settings: Settings, seed: int) -> None:
    rng = random.Random(seed)
    deals = [_deal(rng, i) for i in range(60)]
    owners_settings = [
        UserSettings(),
        UserSettings(tax_pct=0, prep_fee=1.0, inbound_shipping=0.5, min_roi=25),
        UserSettings(min_profit=8, hide_gated=True),
    ]
    with Session(get_engine(settings)) as session:
        session.add_all(deals)
        users = []
        for n, us in enumerate(owners_settings):
            user = User(name=f"seller{seed}{n}", password_hash="x")
            session.add(user)
            session.flush()
            save_user_settings(session, user, us)
            users.append(user)
        for user in users:
            for d in rng.sample(deals, 25):
                status = rng.choice(list(RestrictionStatus))
                session.add(UserRestriction(user_id=user.id or 0, asin=d.asin, status=int(status)))
        session.commit()
        cols = [table_of(Deal).c[name] for name in DEAL_COLUMNS]
        rows = session.execute(select(*cols)).mappings().all()
        batch = DealBatch.from_rows(rows)
        R = table_of(UserRestriction)
        checked = 0
        for _ in range(150):
            user = rng.choice(users)
            query = DealSearch.model_validate({**_search(rng), "limit": 100})
            expected = {d.asin for d in search_deals(session, query, user, now=NOW).items}
            compiled = compile_search(1, user.id or 0, query, owners_settings[users.index(user)])
            statuses = session.execute(
                select(R.c.asin, R.c.status).where(R.c.user_id == user.id)
            ).all()
            got = evaluate(compiled, batch, NOW, gating_masks(batch.asins, statuses))
            assert {a for a, hit in zip(batch.asins, got, strict=True) if hit} == expected, (
                query.filters()
            )
            checked += len(expected)
        assert checked > 100  # the searches did match deals, not only agree on nothing


def test_every_search_filter_is_handled_by_the_matcher() -> None:
    """A filter added to DealSearch must be taught to alerts too, or alerts would ignore it."""
    assert set(DealSearch.model_fields) <= HANDLED_FIELDS


def test_an_unknown_filter_is_refused_not_ignored(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("tools.alerts.matching.HANDLED_FIELDS", HANDLED_FIELDS - {"max_rank"})
    with pytest.raises(UnsupportedFilter, match="max_rank"):
        compile_search(1, 1, {"max_rank": 5}, UserSettings())
