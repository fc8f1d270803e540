"""The fast search (index walks that stop early, money windows from the stored default money,
capped count) returns exactly what the straightforward query returns: same deals, same order,
and the same total up to the cap, for random deals, random user settings and random queries."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from hypothesis import HealthCheck, given
from hypothesis import settings as hsettings
from hypothesis import strategies as st
from sqlalchemy import func, select
from sqlmodel import Session

from tools.db import get_engine, table_of
from tools.deals import DealSearch, search_deals, upsert_deal
from tools.deals import money as m
from tools.deals.analytics import DealRecord
from tools.deals.search import bounds, planner
from tools.deals.search.filters import D, effective_thresholds, has_fts, order_by, where_terms
from tools.models import User, UserRestriction
from tools.settings import Settings
from tools.user_settings import UserSettings, load_user_settings

NOW = datetime(2025, 8, 15, 12, tzinfo=UTC)
SEASONS = ("textbook", "exam_prep", "holiday", "summer", "year_round")


def reference_page(
    session: Session, query: DealSearch, user: User | None, now: datetime
) -> tuple[list[str], int]:
    """The straightforward search (one ORDER BY over every match, exact count): what the fast
    path must equal."""
    settings = load_user_settings(user)
    money = m.money_sql(settings)
    where = where_terms(
        query,
        effective_thresholds(query, settings),
        money,
        user,
        now,
        settings,
        fts=has_fts(session),
        prefilter=False,
    )
    page = (
        select(D.c.asin)
        .where(*where)
        .order_by(*order_by(query, money))
        .limit(query.limit)
        .offset(query.offset)
    )
    total = session.execute(select(func.count()).select_from(D).where(*where)).scalar_one()
    return list(session.execute(page).scalars()), int(total)


def _fill(s: Session, n: int, rng: random.Random) -> None:
    for i in range(n):
        price = round(rng.choice([rng.uniform(0, 3), rng.uniform(1, 60), rng.uniform(50, 400)]), 2)
        rec = DealRecord(
            asin=f"F{i:09d}",
            price_now=price,
            list_at=None
            if i % 13 == 0
            else round(price * rng.uniform(0.5, 5) + rng.uniform(0, 9), 2),
            referral_pct=rng.choice([8.0, 15.0, 17.0]),
            referral_min=rng.choice([0.0, 0.30]),
            fba_fee=None if i % 29 == 0 else round(rng.uniform(2.5, 9), 2),
            closing_fee=rng.choice([0.0, 1.80]),
            shipping_included=rng.random() < 0.25,
            title=f"Book {rng.choice(['biology', 'anatomy', 'law'])} {i}",
            author=rng.choice([None, "Ann Stewart", "Bo Campbell"]),
            publisher=rng.choice([None, "Pearson Education", "Wiley", "McGraw-Hill"]),
            sales_rank=None if i % 17 == 0 else rng.randint(1, 3_000_000),
            rank_drops_30=None if i % 19 == 0 else rng.randint(0, 8),
            percent_down=None if i % 23 == 0 else round(rng.uniform(0, 60), 1),
            seasonality=rng.choice(SEASONS),
            amazon_offer=rng.random() < 0.2,
            category_path=rng.choice(["Books > Medical Books > Nursing", "Books > Law"]),
            peak_mask=rng.choice([None, 0b1_1000_0001, 0b1100, 0b1100_0000_0000]),
            price_now_source="offers",
        )
        upsert_deal(s, rec, now=NOW - timedelta(hours=rng.uniform(0, 200)))
    s.commit()


@pytest.mark.parametrize("seed", [1, 2])
def test_fast_search_equals_straightforward_query(
    settings: Settings, seed: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    _check_equal(settings, seed, monkeypatch, 60)


@pytest.mark.postgres
def test_fast_search_equals_straightforward_query_on_postgresql(
    pg_settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Same check on PostgreSQL (no FTS, no index hints: ILIKE and the planner's own plans)."""
    from tools.db import migrate

    migrate(pg_settings)
    _check_equal(pg_settings, 3, monkeypatch, 25)


def _check_equal(
    settings: Settings, seed: int, monkeypatch: pytest.MonkeyPatch, examples: int
) -> None:
    monkeypatch.setattr(planner, "TOTAL_CAP", 40)  # small enough to exercise the cap
    rng = random.Random(seed)
    with Session(get_engine(settings)) as s:
        _fill(s, 220, rng)
        user = User(name="u", password_hash="x")
        s.add(user)
        s.commit()
        s.refresh(user)
        assert user.id is not None
        for i in range(0, 220, 4):
            s.add(
                UserRestriction(
                    user_id=user.id,
                    asin=f"F{i:09d}",  # type: ignore[arg-type]
                    status=1 if i % 3 == 0 else 0,
                )
            )
        s.commit()

        @hsettings(
            max_examples=examples,
            deadline=None,
            suppress_health_check=[HealthCheck.function_scoped_fixture],
        )
        @given(
            tax=st.sampled_from([0.0, 5.0, 8.0, 30.0]),
            prep=st.sampled_from([0.0, 1.5, 2.75, 9]),
            ship=st.sampled_from([0.0, 2.5, 3.99, 20]),
            min_roi=st.none() | st.floats(-50, 300),
            drive_max=st.sampled_from([0, 25, 2000]),
            q=st.fixed_dictionaries(
                {},
                optional={
                    "sort": st.sampled_from(
                        [
                            "roi",
                            "profit",
                            "margin",
                            "rank",
                            "drops",
                            "newest",
                            "percent_down",
                            "price",
                        ]
                    ),
                    "min_profit": st.floats(-20, 80),
                    "max_price": st.floats(1, 300),
                    "min_margin": st.floats(-50, 80),
                    "include_unprofitable": st.booleans(),
                    "gated": st.sampled_from(["include", "exclude", "only_ungated"]),
                    "text": st.sampled_from(["biology", "law", "anatomy law", "book"]),
                    "category": st.sampled_from(["Nursing", "Books"]),
                    "author": st.sampled_from(["stewart", "campbell bo"]),
                    "publisher": st.sampled_from(["pearson", "wiley", "mcgraw-hill"]),
                    "min_rank": st.integers(1000, 1_000_000),
                    "seasonality": st.sampled_from(SEASONS),
                    "peak_month": st.integers(1, 12),
                    "in_peak_now": st.booleans(),
                    "max_rank": st.integers(1000, 3_000_000),
                    "limit": st.integers(1, 30),
                    "offset": st.integers(0, 60),
                },
            ),
        )
        def check(
            tax: float,
            prep: float,
            ship: float,
            min_roi: float | None,
            drive_max: int,
            q: dict[str, object],
        ) -> None:
            # both plans of a text/category search: sort the word matches, or walk an index
            monkeypatch.setattr(planner, "FTS_DRIVE_MAX", drive_max)
            user.settings = {
                "tax_pct": tax,
                "prep_fee": prep,
                "inbound_shipping": ship,
                "min_roi": min_roi,
            }
            if "min_rank" in q and "max_rank" in q:  # an ordered range (reversed is refused)
                lo, hi = sorted((q["min_rank"], q["max_rank"]))  # type: ignore[type-var]
                q = {**q, "min_rank": lo, "max_rank": hi}
            query = DealSearch(**q)  # type: ignore[arg-type]
            got = search_deals(s, query, user, now=NOW)
            want, total = reference_page(s, query, user, NOW)
            assert [d.asin for d in got.items] == want, (q, load_user_settings(user))
            cap = max(40, query.offset + query.limit)
            if total > cap:
                assert got.total_capped and got.total == cap
            else:
                assert not got.total_capped and got.total == total

        check()


def test_bounds_are_necessary_for_random_rows() -> None:
    """Direct check of the three bounds: a row whose user value reaches the floor always has
    a stored default value at or above the bound."""
    rng = random.Random(5)
    d = UserSettings()
    for _ in range(3000):
        us = UserSettings(
            tax_pct=rng.uniform(0, 30),
            prep_fee=rng.choice([0, rng.uniform(0, 50)]),
            inbound_shipping=rng.choice([0, rng.uniform(0, 100)]),
        )
        price = rng.choice([0.0, rng.uniform(0, 5), rng.uniform(0, 500)])
        inputs = m.MoneyInputs(
            price, rng.uniform(0.5, 1500), 15.0, 0.0, rng.uniform(0, 10), 1.8, rng.random() < 0.3
        )
        mu, md = m.compute_money(inputs, us), m.compute_money(inputs, d)
        if mu.roi is not None and mu.roi >= 0:
            b = bounds.default_roi_floor(us, mu.roi)
            assert b is None or md.roi >= b  # type: ignore[operator]
        if mu.profit is not None:
            b = bounds.default_profit_floor(us, mu.profit, 500.0)
            assert b is None or md.profit >= b  # type: ignore[operator]
        if mu.margin is not None:
            b = bounds.default_margin_floor(us, mu.margin)
            assert b is None or md.margin >= b  # type: ignore[operator]


def test_roi_level_bound_is_necessary_for_random_rows() -> None:
    """A row whose user ROI value (net / cost) reaches the floor always has its level key (the
    expression index's value, computed like SQL does) at or above the level bound."""
    rng = random.Random(11)
    from tools.models import ROI_LEVELS

    checked = 0
    for _ in range(4000):
        us = UserSettings(
            tax_pct=rng.uniform(0, 30),
            prep_fee=rng.uniform(0.01, 20),
            inbound_shipping=rng.choice([0, rng.uniform(0, 30)]),
        )
        choice = bounds.roi_level_choice(us)
        assert choice is not None
        level, r_min, r_max = choice
        assert level in ROI_LEVELS
        incl = rng.random() < 0.3
        price = rng.choice([0.0, rng.uniform(0, 5), rng.uniform(0, 500)])
        inputs = m.MoneyInputs(
            price, rng.uniform(0.5, 1500), 15.0, 0.0, rng.uniform(0, 10), 1.8, incl
        )
        mu = m.compute_money(inputs, us)
        assert mu.all_in_cost is not None and mu.amz_fees is not None
        net = inputs.list_at - mu.amz_fees  # type: ignore[operator]
        value = net / mu.all_in_cost
        key = net / (price + level[1 if incl else 0])
        for floor in (value, value - abs(value) * rng.random(), -rng.random()):
            if value >= floor:
                assert key >= bounds.roi_level_floor(us, r_min, r_max, floor)
                checked += 1
    assert checked > 4000


def test_roi_sort_walks_the_level_index(settings: Settings) -> None:
    """The ROI key in queries is the indexed expression (migration 0006), so SQLite reads it
    in order instead of sorting every row."""
    from sqlalchemy import ColumnClause, literal_column, select

    from tools.models import ROI_LEVELS, Deal, roi_level_sql

    with Session(get_engine(settings)) as s:
        for level in ROI_LEVELS:
            key: ColumnClause[Any] = literal_column(roi_level_sql(level))
            stmt = select(table_of(Deal).c.asin).order_by(key.desc()).limit(5)
            sql = str(stmt.compile(s.get_bind(), compile_kwargs={"literal_binds": True}))
            plan = " ".join(
                str(r[-1]) for r in s.connection().exec_driver_sql("EXPLAIN QUERY PLAN " + sql)
            )
            assert "USING INDEX ix_deal_roi_k" in plan and "TEMP B-TREE" not in plan, plan
