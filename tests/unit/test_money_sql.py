"""The SQL money expressions agree with the Python formulas, row by row, for many settings."""

from __future__ import annotations

import random

import pytest
from sqlalchemy import select
from sqlmodel import Session

from tools.db import get_engine, table_of
from tools.deals import money as m
from tools.deals.analytics import DealRecord
from tools.deals.store import upsert_deal
from tools.models import Deal
from tools.settings import Settings
from tools.user_settings import UserSettings


def _records(n: int, rng: random.Random) -> list[DealRecord]:
    out = []
    for i in range(n):
        media = rng.random() < 0.6
        out.append(
            DealRecord(
                asin=f"X{i:09d}",
                price_now=round(rng.uniform(0.5, 400), 2),
                list_at=None if i % 17 == 0 else round(rng.uniform(1, 1500), 2),
                referral_pct=rng.choice([8.0, 12.0, 15.0, 15.01, 17.0]),
                referral_min=0.0 if media else 0.30,
                fba_fee=None if i % 23 == 0 else round(rng.uniform(2.5, 20), 2),
                closing_fee=1.80 if media else 0.0,
                shipping_included=rng.random() < 0.2,
            )
        )
    return out


def test_sql_money_matches_python_money(settings: Settings) -> None:
    rng = random.Random(4)
    records = _records(120, rng)
    engine = get_engine(settings)
    with Session(engine) as session:
        for rec in records:
            upsert_deal(session, rec)
        session.commit()
        cases = [
            UserSettings(),
            UserSettings(tax_pct=0, prep_fee=0, inbound_shipping=0, markup_pct=0),
        ]
        cases += [
            UserSettings(
                tax_pct=rng.uniform(0, 30),
                prep_fee=rng.uniform(0, 50),
                inbound_shipping=rng.uniform(0, 100),
                markup_pct=rng.uniform(0, 80),
            )
            for _ in range(8)
        ]
        by_asin = {r.asin: r for r in records}
        for us in cases:
            e = m.money_sql(us)
            t = table_of(Deal)
            rows = session.execute(
                select(
                    t.c.asin,
                    e.all_in_cost,
                    e.amz_fees,
                    e.profit,
                    e.margin,
                    e.roi,
                    e.min_listing_price,
                )
            ).all()
            assert len(rows) == len(records)
            for asin, cost, fees, profit, margin, roi, mlp in rows:
                py = m.compute_money(by_asin[asin].money_inputs(), us)
                for got, want in (
                    (cost, py.all_in_cost),
                    (fees, py.amz_fees),
                    (profit, py.profit),
                    (margin, py.margin),
                    (roi, py.roi),
                    (mlp, py.min_listing_price),
                ):
                    if want is None:
                        assert got is None, (asin, us)
                    else:
                        assert got == pytest.approx(want, rel=1e-9, abs=1e-9), (asin, us)
