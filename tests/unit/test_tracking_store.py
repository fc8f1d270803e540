"""The buy list and purchases as a seller sees them: numbers, states, edits, and isolation."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from sqlmodel import Session

from tests.unit.agent_helpers import add_user, make_deal, seed
from tools.db import get_engine, session_scope
from tools.models import Deal, RestrictionStatus, UserRestriction
from tools.settings import Settings
from tools.tracking import TrackingError
from tools.tracking.buylist import add_item, clear_gone, list_items, remove_items
from tools.tracking.purchases import (
    PurchaseInput,
    delete_purchase,
    edit_purchase,
    list_purchases,
    purchase_view,
    record_purchase,
)
from tools.user_settings import UserSettings, save_user_settings

ASIN = "0131103628"
OTHER = "0134685997"


@pytest.fixture
def seeded(settings: Settings) -> Settings:
    seed(settings, make_deal(ASIN), make_deal(OTHER, price_now=30.0))
    with session_scope(settings) as s:
        add_user(s, "sam")
        add_user(s, "kim")
    return settings


def _user(s: Session, name: str):  # type: ignore[no-untyped-def]
    from tools.users import get_user

    user = get_user(s, name)
    assert user is not None
    return user


def test_schema_of_the_new_tables_matches_the_models(settings: Settings) -> None:
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext
    from sqlmodel import SQLModel

    with get_engine(settings).connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), SQLModel.metadata)
    mine = [d for d in diff if "buy_list_item" in str(d) or "purchase" in str(d)]
    assert mine == []


def test_buy_list_shows_todays_numbers_and_flags_a_deal_that_got_worse(seeded: Settings) -> None:
    with session_scope(seeded) as s:
        row, created = add_item(s, _user(s, "sam"), ASIN)
        assert created and row.state == "ok"
        assert row.profit_at_add == pytest.approx(34.96)  # 80 - 27.74 - 17.30
        _, again = add_item(s, _user(s, "sam"), ASIN.lower())
        assert not again
    with session_scope(seeded) as s:  # the market moved: Price Now $20 -> $26
        deal = s.get(Deal, ASIN)
        assert deal is not None
        deal.price_now = 26.0
    with session_scope(seeded) as s:
        [row] = list_items(s, _user(s, "sam"))
    assert row.state == "worse"
    assert row.profit == pytest.approx(34.96 - 6 * 1.05)
    assert "34.96 -> $28.66" in (row.why or "")


def test_gated_and_gone_deals_are_flagged_and_only_gone_ones_cleared(seeded: Settings) -> None:
    with session_scope(seeded) as s:
        sam = _user(s, "sam")
        for asin in (ASIN, OTHER, "B000000001"):
            add_item(s, sam, asin)
        s.add(
            UserRestriction(
                user_id=sam.id, asin=OTHER, status=RestrictionStatus.restricted, reason_code="X"
            )
        )
    with session_scope(seeded) as s:
        deal = s.get(Deal, ASIN)
        assert deal is not None
        deal.price_now = 70.0  # no profit left
    with session_scope(seeded) as s:
        states = {r.asin: (r.state, r.why) for r in list_items(s, _user(s, "sam"))}
    assert states[ASIN][0] == "gone" and "no profit left" in str(states[ASIN][1])
    assert states[OTHER] == ("worse", "you are gated on it now")
    assert states["B000000001"] == ("unknown", "not in the deals database yet")
    with session_scope(seeded) as s:
        cleared = clear_gone(s, _user(s, "sam"))
        assert [r.asin for r in cleared] == [ASIN]
        assert sorted(r.asin for r in list_items(s, _user(s, "sam"))) == [OTHER, "B000000001"]
        assert remove_items(s, _user(s, "sam"), [OTHER, ASIN]) == [OTHER]


def test_a_sellers_buy_list_is_their_own(seeded: Settings) -> None:
    with session_scope(seeded) as s:
        add_item(s, _user(s, "sam"), ASIN)
    with session_scope(seeded) as s:
        kim = _user(s, "kim")
        assert list_items(s, kim) == []
        assert remove_items(s, kim, [ASIN]) == []
        assert clear_gone(s, kim) == []
    with session_scope(seeded) as s:
        assert [r.asin for r in list_items(s, _user(s, "sam"))] == [ASIN]


def test_a_purchase_carries_the_prediction_at_the_sellers_settings(seeded: Settings) -> None:
    with session_scope(seeded) as s:
        p = record_purchase(
            s,
            _user(s, "sam"),
            PurchaseInput(
                ASIN, 3, 12.40, "good", date(2025, 11, 3), sku="CALC-1", order_number="112-1"
            ),
        )
        view = purchase_view(p)
    assert view["condition"] == "used_good"
    assert view["purchased_at"].startswith("2025-11-03")
    assert view["unit_all_in"] == pytest.approx(19.76)  # 12.40 * 1.05 + 2.75 + 3.99
    assert view["list_at_pred"] == 80.0
    assert view["amz_fees_pred"] == pytest.approx(17.30)
    assert view["profit_pred"] == pytest.approx(42.94)
    assert view["break_even_price"] == pytest.approx(25.06 / 0.85)
    assert view["min_list_price"] == pytest.approx(25.06 / 0.75)  # with the 10 % markup
    assert view["days_to_sell_pred"] == pytest.approx(365 / 60 * 2)  # 3 units: 2 intervals


def test_settings_at_purchase_stay_with_it_and_edits_re_derive(seeded: Settings) -> None:
    with session_scope(seeded) as s:
        sam = _user(s, "sam")
        save_user_settings(s, sam, UserSettings(tax_pct=0, prep_fee=1.0, inbound_shipping=1.0))
        pid = record_purchase(s, sam, PurchaseInput(ASIN, 1, 10)).id
        assert pid is not None
    with session_scope(seeded) as s:
        sam = _user(s, "sam")
        save_user_settings(s, sam, UserSettings())  # later settings do not rewrite it
        p = edit_purchase(s, sam, pid, {"unit_cost": "$14.00", "quantity": "2"})
        assert (p.unit_cost, p.quantity) == (14.0, 2)
        assert p.profit_pred == pytest.approx(80 - 16.0 - 17.30)
        assert p.days_to_sell_pred == pytest.approx(365 / 60 * 1.5)
        with pytest.raises(TrackingError, match="cannot change asin"):
            edit_purchase(s, sam, pid, {"asin": OTHER})


def test_a_purchase_of_an_unknown_asin_has_no_prediction(seeded: Settings) -> None:
    with session_scope(seeded) as s:
        p = record_purchase(s, _user(s, "sam"), PurchaseInput("B000000001", 1, 5))
    assert p.list_at_pred is None and p.profit_pred is None and p.min_list_price is None


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (PurchaseInput(ASIN, 0, 5), "quantity must be 1"),
        (PurchaseInput(ASIN, 1.5, 5), "whole number"),  # type: ignore[arg-type]
        (PurchaseInput(ASIN, 1, -1), "unit cost"),
        (PurchaseInput(ASIN, 1, "nan"), "unit cost"),  # type: ignore[arg-type]
        (PurchaseInput(ASIN, 1, 5, "shiny"), "unknown condition"),
        (PurchaseInput(ASIN, 1, 5, purchased_at="2099-01-01"), "not between 2000 and today"),
        (PurchaseInput(ASIN, 1, 5, sku="a b;DROP"), "SKU"),
        (PurchaseInput("123", 1, 5), "not an ASIN"),
    ],
)
def test_bad_purchase_input_is_refused_with_what_to_fix(
    seeded: Settings, data: PurchaseInput, message: str
) -> None:
    with session_scope(seeded) as s, pytest.raises(TrackingError, match=message):
        record_purchase(s, _user(s, "sam"), data)


def test_another_sellers_purchase_cannot_be_read_edited_or_deleted(seeded: Settings) -> None:
    with session_scope(seeded) as s:
        pid = record_purchase(s, _user(s, "sam"), PurchaseInput(ASIN, 1, 5)).id
        assert pid is not None
    with session_scope(seeded) as s:
        kim = _user(s, "kim")
        assert list_purchases(s, kim) == []
        for action in (
            lambda: edit_purchase(s, kim, pid, {"unit_cost": 1}),
            lambda: delete_purchase(s, kim, pid),
        ):
            with pytest.raises(TrackingError, match=f"no purchase #{pid}"):
                action()
    with session_scope(seeded) as s:
        sam = _user(s, "sam")
        [p] = list_purchases(s, sam)
        assert p.unit_cost == 5
        delete_purchase(s, sam, pid)
        assert list_purchases(s, sam) == []


def test_purchases_list_newest_first(seeded: Settings) -> None:
    with session_scope(seeded) as s:
        sam = _user(s, "sam")
        for day in (3, 1, 2):
            record_purchase(
                s, sam, PurchaseInput(ASIN, 1, day, purchased_at=datetime(2025, 5, day, tzinfo=UTC))
            )
        assert [p.unit_cost for p in list_purchases(s, sam)] == [3, 2, 1]
