"""FIFO matching of sold units to purchased units, by hand-made cases."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from tools.tracking.fifo import Lot, Refund, Sale, match

T0 = datetime(2025, 9, 1, 12, tzinfo=UTC)


def day(n: float) -> datetime:
    return T0 + timedelta(days=n)


def _pairs(result):  # type: ignore[no-untyped-def]
    return [(a.key, a.lot, a.quantity) for a in result.allocations]


def test_partial_sales_across_two_purchases_take_the_oldest_units_first() -> None:
    lots = [Lot(2, day(5), 2), Lot(1, day(0), 3)]  # purchase 1 is older, though listed second
    sales = [
        Sale("s1", day(10), 2, (1, 2)),
        Sale("s2", day(12), 2, (1, 2)),  # one unit left of 1, then one of 2
        Sale("s3", day(20), 2, (1, 2)),  # one unit left of 2, then nothing on record
    ]
    result = match(lots, sales)
    assert _pairs(result) == [
        ("s1", 1, 2),
        ("s2", 1, 1),
        ("s2", 2, 1),
        ("s3", 2, 1),
        ("s3", None, 1),
    ]
    assert {i: lot.remaining for i, lot in result.lots.items()} == {1: 0, 2: 0}
    assert lots[1].remaining == 3  # the caller's lots are not changed


def test_a_sale_never_takes_units_bought_after_it_nor_from_ineligible_lots() -> None:
    lots = [Lot(1, day(0), 1), Lot(2, day(30), 5), Lot(3, day(0), 5)]
    result = match(lots, [Sale("s", day(10), 3, (1, 2))])  # lot 3 is another SKU's
    assert _pairs(result) == [("s", 1, 1), ("s", None, 2)]


def test_a_purchase_dated_the_same_day_counts_despite_its_noon_time() -> None:
    result = match([Lot(1, day(0), 1)], [Sale("s", day(-0.4), 1, (1,))])
    assert _pairs(result) == [("s", 1, 1)]


def test_a_refund_puts_units_back_on_the_lot_they_came_from_and_they_sell_again() -> None:
    lots = [Lot(1, day(0), 1), Lot(2, day(1), 1)]
    events: list[Sale | Refund] = [
        Sale("s1", day(10), 2, (1, 2)),
        Refund("r1", day(15), 1, "s1"),  # the unit taken last (from lot 2) comes back
        Sale("s2", day(20), 1, (1, 2)),
    ]
    result = match(lots, events)
    assert _pairs(result) == [("s1", 1, 1), ("s1", 2, 1), ("r1", 2, -1), ("s2", 2, 1)]
    back = result.allocations[2]
    assert back.sold_at == day(10)  # so days-to-sell of the returned unit can be taken back


def test_a_refund_of_a_sale_not_on_record_is_kept_unmatched() -> None:
    result = match([Lot(1, day(0), 1)], [Refund("r", day(3), 1, "older-sale")])
    assert _pairs(result) == [("r", None, -1)]
    assert result.lots[1].remaining == 1


def test_events_are_taken_in_time_order_whatever_order_they_arrive_in() -> None:
    lots = [Lot(1, day(0), 1), Lot(2, day(0), 1)]
    late, early = Sale("late", day(9), 1, (1, 2)), Sale("early", day(3), 1, (1, 2))
    assert _pairs(match(lots, [late, early])) == [("early", 1, 1), ("late", 2, 1)]
