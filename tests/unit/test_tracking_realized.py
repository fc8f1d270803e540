"""Realized profit from synced sales: FIFO over purchases, refunds, SKU fallbacks, refresh."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from itertools import count
from typing import Any

import pytest
from sqlmodel import Session, select

from tests.unit.agent_helpers import add_user, make_deal, seed
from tools.db import session_scope
from tools.models import FinancialEvent, Purchase, SaleAllocation, SellerOrderItem, User
from tools.settings import Settings
from tools.tracking.purchases import PurchaseInput, edit_purchase, record_purchase
from tools.tracking.realized import condition_of, refresh
from tools.user_settings import UserSettings, save_user_settings

ASIN = "0131103628"
T0 = datetime(2025, 9, 1, 12, tzinfo=UTC)
_ids = count(1)


def day(n: float) -> datetime:
    return T0 + timedelta(days=n)


def _user(s: Session, name: str) -> User:
    from tools.users import get_user

    user = get_user(s, name)
    assert user is not None
    return user


@pytest.fixture
def sam(settings: Settings) -> Settings:
    seed(settings, make_deal(ASIN))
    with session_scope(settings) as s:
        user = add_user(s, "sam")
        add_user(s, "kim")
        # no tax, prep or inbound: a unit's all-in cost is what was paid
        save_user_settings(s, user, UserSettings(tax_pct=0, prep_fee=0, inbound_shipping=0))
    return settings


def sale(
    s: Session,
    user: User,
    at: datetime,
    qty: int,
    price: float,
    *,
    sku: str | None = "CALC-1",
    fees: float | None = None,
    kind: str = "shipment",
    order: str | None = None,
    asin: str | None = ASIN,
    condition: tuple[str, str] = ("Used", "Good"),
) -> str:
    """A synced order item and its financial event (fees: 20 % of the price by default)."""
    n = next(_ids)
    order = order or f"111-{n:07d}-0000001"
    if kind == "shipment" and asin is not None:
        s.add(
            SellerOrderItem(
                user_id=user.id,  # type: ignore[arg-type]
                amazon_order_id=order,
                order_item_id=f"OI{order}",
                asin=asin,
                sku=sku,
                quantity_ordered=qty,
                quantity_shipped=qty,
                condition_id=condition[0],
                condition_subtype_id=condition[1],
            )
        )
    fee = -round(0.2 * abs(price), 2) if fees is None else fees
    s.add(
        FinancialEvent(
            user_id=user.id,  # type: ignore[arg-type]
            kind=kind,
            amazon_order_id=order,
            item_key=f"K{n}",
            posted_at=at,
            sku=sku,
            order_item_id=f"OI{order}",
            quantity=qty,
            principal=price,
            fees_total=fee,
            net=price + fee,
        )
    )
    s.flush()
    return order


def _buy(s: Session, user: User, qty: int, cost: float, at: datetime, **kw: Any) -> Purchase:
    return record_purchase(s, user, PurchaseInput(ASIN, qty, cost, purchased_at=at, **kw))


def _allocs(s: Session, user: User) -> list[tuple[Any, ...]]:
    rows = s.exec(
        select(SaleAllocation)
        .where(SaleAllocation.user_id == user.id)
        .order_by(SaleAllocation.at, SaleAllocation.id)  # type: ignore[arg-type]
    ).all()
    return [(r.kind, r.purchase_id, r.quantity, r.profit) for r in rows]


def test_partial_sales_across_two_purchases_realize_fifo_profit(sam: Settings) -> None:
    with session_scope(sam) as s:
        user = _user(s, "sam")
        first = _buy(s, user, 3, 10.0, day(0), sku="CALC-1")
        second = _buy(s, user, 2, 12.0, day(5), sku="CALC-1")
        sale(s, user, day(10), 2, 60.0)  # $30 a unit, $24 after fees: 2 of the first
        sale(s, user, day(20), 2, 50.0)  # $20 after fees: 1 of the first, 1 of the second
        sale(s, user, day(30), 1, 40.0)  # $32 after fees: the second's last unit
        refresh(s, user.id or 0)
        assert _allocs(s, user) == [
            ("sale", first.id, 2, pytest.approx(2 * 24 - 2 * 10)),
            ("sale", first.id, 1, pytest.approx(20 - 10)),
            ("sale", second.id, 1, pytest.approx(20 - 12)),
            ("sale", second.id, 1, pytest.approx(32 - 12)),
        ]
        s.refresh(first)
        s.refresh(second)
        assert first.units_sold == 3 and first.realized_profit == pytest.approx(38.0)
        assert first.days_to_sell_sum == pytest.approx(2 * 10 + 20)  # days 10, 10, 20
        assert second.units_sold == 2 and second.realized_profit == pytest.approx(28.0)
        assert second.last_sold_at == day(30)


def test_a_refund_returns_the_unit_and_keeps_amazons_share_as_a_loss(sam: Settings) -> None:
    with session_scope(sam) as s:
        user = _user(s, "sam")
        p = _buy(s, user, 1, 10.0, day(0), sku="CALC-1")
        order = sale(s, user, day(10), 1, 40.0, fees=-8.0)  # +$32 net
        # the refund gives the $40 back, Amazon returns $6.40 of its fees: -$33.60
        sale(s, user, day(12), 1, -40.0, fees=6.4, kind="refund", order=order, asin=None)
        refresh(s, user.id or 0)
        s.refresh(p)
        assert p.units_sold == 0 and p.realized_profit == pytest.approx(32 - 33.6)
        sale(s, user, day(20), 1, 45.0, fees=-9.0)  # the returned unit sells again
        refresh(s, user.id or 0)
        s.refresh(p)
        assert p.units_sold == 1 and p.realized_profit == pytest.approx(-1.6 + 36 - 10)


def test_without_a_matching_sku_a_sale_falls_back_to_asin_and_condition(sam: Settings) -> None:
    with session_scope(sam) as s:
        user = _user(s, "sam")
        good = _buy(s, user, 1, 10.0, day(0), condition="used_good")
        acceptable = _buy(s, user, 1, 4.0, day(-5), condition="used_acceptable")
        other_sku = _buy(s, user, 1, 1.0, day(-9), sku="SOLD-AS-X")
        sale(s, user, day(1), 1, 1.0, sku="SOLD-AS-X")  # Amazon knows SOLD-AS-X: kept for it
        sale(s, user, day(10), 1, 30.0, sku="LISTED-LATER", condition=("Used", "Good"))
        refresh(s, user.id or 0)
        kinds = {pid: q for _, pid, q, _ in _allocs(s, user)}
        assert kinds == {other_sku.id: 1, good.id: 1}  # not the older acceptable copy
        s.refresh(acceptable)
        assert acceptable.units_sold == 0


def test_a_sale_nobody_recorded_a_purchase_for_stays_unmatched(sam: Settings) -> None:
    with session_scope(sam) as s:
        user = _user(s, "sam")
        sale(s, user, day(3), 1, 25.0, sku="NO-SUCH", asin=None)
        refresh(s, user.id or 0)
        assert _allocs(s, user) == [("sale", None, 1, None)]


def test_editing_a_purchase_rematches_its_sales(sam: Settings) -> None:
    with session_scope(sam) as s:
        user = _user(s, "sam")
        p = _buy(s, user, 1, 10.0, day(0), sku="CALC-1")
        sale(s, user, day(4), 1, 30.0)
        refresh(s, user.id or 0)
        s.refresh(p)
        assert p.realized_profit == pytest.approx(14.0)
        p = edit_purchase(s, user, p.id or 0, {"unit_cost": 4})
        assert p.realized_profit == pytest.approx(20.0)


def test_refresh_picks_up_only_what_is_new_and_is_free_otherwise(sam: Settings) -> None:
    with session_scope(sam) as s:
        user = _user(s, "sam")
        _buy(s, user, 5, 10.0, day(0), sku="CALC-1")
        sale(s, user, day(1), 1, 30.0)
        assert refresh(s, user.id or 0).events == 1
        assert refresh(s, user.id or 0).events == 0
        sale(s, user, day(2), 2, 60.0)
        r = refresh(s, user.id or 0)
        assert (r.events, r.asins) == (1, 1)
        assert [q for _, _, q, _ in _allocs(s, user)] == [1, 2]


def test_one_sellers_sales_never_match_anothers_purchases(sam: Settings) -> None:
    with session_scope(sam) as s:
        sam_user, kim = _user(s, "sam"), _user(s, "kim")
        _buy(s, sam_user, 5, 10.0, day(0), sku="CALC-1")
        sale(s, kim, day(1), 1, 30.0)
        refresh(s, kim.id or 0)
        refresh(s, sam_user.id or 0)
        assert _allocs(s, kim) == [("sale", None, 1, None)]
        assert _allocs(s, sam_user) == []


@pytest.mark.parametrize(
    ("names", "expected"),
    [
        (("Used", "Good"), "used_good"),
        (("Used", "VeryGood"), "used_very_good"),
        (("UsedLikeNew",), "used_like_new"),
        (("NewItem",), "new_new"),
        (("Used", "Mint"), "used_like_new"),
        ((None,), None),
    ],
)
def test_sp_api_condition_names(names: tuple[str | None, ...], expected: str | None) -> None:
    assert condition_of(*names) == expected


def test_costs_imported_from_a_csv_are_matched_to_sales_already_synced(sam: Settings) -> None:
    from tools.tracking.csv_io import import_costs

    with session_scope(sam) as s:
        user = _user(s, "sam")
        sale(s, user, day(10), 2, 60.0)  # sold before the seller recorded what it cost
        refresh(s, user.id or 0)
        assert _allocs(s, user) == [("sale", None, 2, None)]
        report = import_costs(
            s, user, f"asin,sku,quantity,cost,date\n{ASIN},CALC-1,2,9.50,2025-09-01\n".encode()
        )
        assert report.added == 1
        [(kind, pid, qty, profit)] = _allocs(s, user)
        assert (kind, qty) == ("sale", 2) and pid is not None
        assert profit == pytest.approx(48.0 - 19.0)
