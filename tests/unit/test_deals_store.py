"""upsert_deal: idempotent by ASIN, default-settings money columns, history for charts."""

from __future__ import annotations

import pytest
from sqlmodel import Session, select

from tests.unit.deal_builders import NOW, km, product, sales_history
from tools.db import get_engine
from tools.deals import analyse_product, deal_row, upsert_deal
from tools.models import Deal, DealHistory, DealStatus
from tools.settings import Settings
from tools.user_settings import UserSettings


def _record(price_cents: int = 1500):  # type: ignore[no-untyped-def]
    sales = [(km(2025, 6, 1), 3000), (km(2025, 7, 1), 5000)]
    return analyse_product(product(**sales_history(sales), current={21: price_cents}), now=NOW)


def test_upsert_is_idempotent_and_updates_in_place(settings: Settings) -> None:
    with Session(get_engine(settings)) as session:
        upsert_deal(session, _record())
        upsert_deal(session, _record())
        session.commit()
        deals = session.exec(select(Deal)).all()
        assert len(deals) == 1
        deal = deals[0]
        assert deal.status == DealStatus.active and deal.price_now == 15.0
        # defaults: cost 15 × 1.05 + 2.75 + 3.99 = 22.49; List at median(30, 50) = 40;
        # fees 6 + 3.50 + 1.80 = 11.30; profit 6.21
        assert deal.all_in_cost_default == pytest.approx(22.49)
        assert deal.profit_default == pytest.approx(6.21)
        assert deal.amz_fees == pytest.approx(11.30)
        deal.priority = 7  # the workers' column: an upsert must not reset it
        session.add(deal)
        session.commit()
        upsert_deal(session, _record(price_cents=1200))
        session.commit()
        session.expire_all()
        deal = session.exec(select(Deal)).one()
        assert deal.price_now == 12.0 and deal.priority == 7
        hist = session.exec(select(DealHistory)).one()
        assert [s["price"] for s in hist.inferred_sales or []] == [30.0, 50.0]
        assert hist.used_price is not None and len(hist.used_price["t"]) == 4


def test_default_money_columns_ignore_the_analysis_settings() -> None:
    rec = analyse_product(
        product(current={21: 1500}),
        now=NOW,
        settings=UserSettings(tax_pct=0, prep_fee=0, inbound_shipping=0),
    )
    assert rec.all_in_cost == pytest.approx(15.0)  # the record is under the given settings
    row = deal_row(rec)
    assert row["all_in_cost_default"] == pytest.approx(22.49)  # the column, under defaults
    assert row["missing"]["list_at"]
