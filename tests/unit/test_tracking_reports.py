"""The seller's questions over realized sales: profit by period, what sold, losers, days to
sell, inventory, calibration; and the answers and charts they get in words."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from langgraph.checkpoint.memory import InMemorySaver
from sqlmodel import Session

from agent.context import AgentContext
from agent.graph import build_graph
from agent.runner import run_turn
from chat_ui.tracking_render import days_figure, profit_figure
from tests.unit.agent_helpers import add_user, make_deal, seed
from tests.unit.test_tracking_realized import sale
from tools.db import session_scope
from tools.models import FbaInventory, User
from tools.settings import Settings
from tools.tracking.purchases import PurchaseInput, record_purchase
from tools.tracking.reports import (
    calibration,
    days_to_sell,
    inventory,
    losing_purchases,
    profit_summary,
    sales_between,
)
from tools.user_settings import UserSettings, save_user_settings
from tools.users import get_user

ASIN = "0131103628"
NURSING = "0134685997"
NOV = datetime(2025, 11, 1, tzinfo=UTC)
DEC = datetime(2025, 12, 1, tzinfo=UTC)


def _sam(s: Session) -> User:
    user = get_user(s, "sam")
    assert user is not None
    return user


@pytest.fixture
def history(settings: Settings) -> Settings:
    """Two purchases: 4 textbooks bought Oct 1 at $10 (predicted $42.30 a unit, 12 days to
    sell 4), 2 nursing books Oct 20 at $30; sales in October and November, one at a loss."""
    seed(
        settings,
        make_deal(ASIN),
        make_deal(NURSING, title="Nursing Fundamentals", seasonality="year_round"),
    )
    with session_scope(settings) as s:
        user = add_user(s, "sam")
        add_user(s, "kim")
        save_user_settings(s, user, UserSettings(tax_pct=0, prep_fee=0, inbound_shipping=0))
        oct1 = datetime(2025, 10, 1, 12, tzinfo=UTC)
        record_purchase(s, user, PurchaseInput(ASIN, 4, 10.0, "good", oct1, sku="CALC"))
        record_purchase(
            s, user, PurchaseInput(NURSING, 2, 30.0, "good", oct1 + timedelta(days=19), sku="NRS")
        )
        sale(s, user, datetime(2025, 10, 11, tzinfo=UTC), 1, 50.0, sku="CALC")  # +30 in 10 d
        sale(s, user, datetime(2025, 11, 10, tzinfo=UTC), 2, 80.0, sku="CALC")  # +44 in 40 d
        sale(s, user, datetime(2025, 11, 20, tzinfo=UTC), 1, 25.0, sku="NRS", asin=NURSING)
        sale(s, user, datetime(2025, 11, 25, tzinfo=UTC), 1, 9.0, sku="LOST-RECEIPT", asin=None)
        s.add(
            FbaInventory(
                user_id=user.id,  # type: ignore[arg-type]
                sku="CALC",
                asin=ASIN,
                fulfillable=1,
                total_quantity=1,
            )
        )
        s.add(
            FbaInventory(
                user_id=user.id,  # type: ignore[arg-type]
                sku="NRS",
                asin=NURSING,
                inbound_shipped=1,
                total_quantity=1,
            )
        )
    return settings


def test_profit_for_a_month_and_by_month(history: Settings) -> None:
    with session_scope(history) as s:
        nov = profit_summary(s, _sam(s), NOV, DEC)
        ever = profit_summary(s, _sam(s), None, DEC)
    # November: 2 textbooks ($64 after fees - $20) + 1 nursing book ($20 - $30) = $34
    assert (nov.units_sold, nov.sales) == (4, 114.0) and nov.profit == pytest.approx(34.0)
    assert nov.unmatched_units == 1 and nov.unmatched_proceeds == pytest.approx(7.2)
    assert ever.profit == pytest.approx(64.0)
    months = {m["month"]: m["profit"] for m in ever.by_month}
    assert months == {"2025-10": pytest.approx(30.0), "2025-11": pytest.approx(34.0)}


def test_what_sold_and_what_loses(history: Settings) -> None:
    with session_scope(history) as s:
        sold = sales_between(s, _sam(s), NOV, DEC)
        losing = losing_purchases(s, _sam(s), now=datetime(2025, 12, 1, tzinfo=UTC))
    assert sold["count"] == 3 and [i["sku"] for i in sold["items"]] == [
        "LOST-RECEIPT",
        "NRS",
        "CALC",
    ]
    assert (
        sold["items"][1]["title"] == "Nursing Fundamentals" and sold["items"][0]["profit"] is None
    )
    [loser] = losing["losing"]
    assert (loser["asin"], loser["realized_per_unit"]) == (NURSING, -10.0)
    # unsold units at twice their predicted days: the last textbook (61 days, 15 predicted)
    # and the second nursing book (42 days, 9 predicted)
    assert [p["asin"] for p in losing["aging"]] == [ASIN, NURSING]


def test_days_to_sell_for_a_kind(history: Settings) -> None:
    with session_scope(history) as s:
        textbooks = days_to_sell(s, _sam(s), "textbooks")
        everything = days_to_sell(s, _sam(s))
    # sold 9.5, 39.5 and 39.5 days after the noon purchase: 29.5 a unit
    assert (textbooks["units"], textbooks["average_days"]) == (3, 29.5)
    assert everything["purchases"] == 2 and everything["units"] == 4
    assert sum(b["purchases"] for b in textbooks["histogram"]) == 1


def test_inventory_and_what_is_stuck_inbound(history: Settings) -> None:
    with session_scope(history) as s:
        at_amazon = inventory(s, _sam(s))
        stuck = inventory(s, _sam(s), stuck_only=True, now=datetime(2025, 11, 15, tzinfo=UTC))
        early = inventory(s, _sam(s), stuck_only=True, now=datetime(2025, 10, 25, tzinfo=UTC))
    assert (at_amazon["fulfillable"], at_amazon["inbound"], at_amazon["skus"]) == (1, 1, 2)
    assert at_amazon["items"][0]["unit_cost"] == 10.0
    assert [i["sku"] for i in stuck["items"]] == ["NRS"]
    assert early["items"] == []


def test_calibration_has_a_confidence_interval(history: Settings) -> None:
    with session_scope(history) as s:
        cal = calibration(s, _sam(s))
    # textbooks: realized $24.67 a unit vs $52.70 predicted; nursing: -$10 vs $32.70 predicted
    diff = cal["profit_difference_per_unit"]
    assert cal["purchases"] == 2 and diff["n"] == 2
    assert diff["low"] < diff["mean"] < diff["high"]
    assert cal["days_ratio"]["mean"] > 1  # slower than predicted


def test_another_seller_sees_none_of_it(history: Settings) -> None:
    with session_scope(history) as s:
        kim = get_user(s, "kim")
        assert kim is not None
        assert profit_summary(s, kim).units_sold == 0
        assert sales_between(s, kim)["items"] == []
        assert inventory(s, kim)["skus"] == 0
        assert calibration(s, kim)["purchases"] == 0


def _no_knowledge(ctx: AgentContext, q: str) -> list[dict[str, Any]]:
    return []


async def test_the_questions_in_words_with_the_chart(history: Settings) -> None:
    with session_scope(history) as s:
        ctx = AgentContext.for_user(_sam(s), settings=history, persona=None)
    graph = build_graph(InMemorySaver(), retrieve=_no_knowledge)
    r = await run_turn(graph, "how much did I make in November 2025?", thread_id="t", user=ctx)
    assert r.tool_calls == [
        {"name": "profit_report", "args": {"start": "2025-11-01", "end": "2025-11-30"}}
    ]
    assert "You made **$34.00** realized profit from 2025-11-01 to 2025-11-30" in r.answer
    assert "no purchase is on record" in r.answer
    r = await run_turn(graph, "average days to sell for my textbooks", thread_id="t", user=ctx)
    assert "Your textbooks took **29.5 days** to sell on average" in r.answer
    r = await run_turn(graph, "which purchases are losing money?", thread_id="t", user=ctx)
    assert "1 purchase lost money" in r.answer and "Nursing Fundamentals" in r.answer
    r = await run_turn(graph, "what's stuck inbound?", thread_id="t", user=ctx)
    assert "NRS" in r.answer
    r = await run_turn(graph, "Errol, how accurate are your predictions?", thread_id="t", user=ctx)
    assert "Calibration of my predictions" in r.answer and "95 % CI" in r.answer
    assert "- Recommendation:" in r.answer


def test_profit_and_days_charts_are_drawn(history: Settings) -> None:
    with session_scope(history) as s:
        summary = profit_summary(s, _sam(s), None, DEC).as_dict()
        days = days_to_sell(s, _sam(s))
    bars = profit_figure(summary["by_month"])["data"][0]
    assert bars["x"] == ["2025-10", "2025-11"] and bars["y"] == [30.0, 34.0]
    hist = days_figure(days["histogram"], days["average_days"])
    assert sum(hist["data"][0]["y"]) == 2


async def test_a_verdict_quotes_the_sellers_own_record(history: Settings) -> None:
    with session_scope(history) as s:
        ctx = AgentContext.for_user(_sam(s), settings=history)
    graph = build_graph(InMemorySaver(), retrieve=_no_knowledge)
    r = await run_turn(graph, f"should I buy {ASIN}?", thread_id="t", user=ctx)
    # 3 textbooks sold for $74 against 3 x $52.70 predicted: 53 % less
    assert "Your last 1 textbook buy took 30 days to sell on average and made 53 % less" in (
        r.answer
    )
    r = await run_turn(graph, f"Olyvia, would you buy {ASIN}?", thread_id="t", user=ctx)
    assert "Your last 1 textbook buy" in r.answer


def test_a_long_poor_record_turns_a_buy_into_a_watch() -> None:
    from agent.advice import ava_advice

    deal = {
        "asin": ASIN,
        "title": "Calculus",
        "list_at": 80.0,
        "profit": 20.0,
        "roi": 60.0,
        "all_in_cost": 33.0,
        "rank_drops_30": 5,
        "deal_trust": 90.0,
        "seasonality": "textbook",
    }
    assert ava_advice(deal).verdict == "buy"
    poor = {"purchases": 12, "seasonality": "textbook", "average_days": 41, "vs_predicted": -0.6}
    advice = ava_advice(deal, record=poor)
    assert advice.verdict == "watch" and "about $8.00" in advice.reasons[0]
    assert "Your last 12 textbook buys took 41 days to sell on average and made 60 % less" in (
        advice.text
    )
    few = {**poor, "purchases": 3}  # too few sold buys to overrule the numbers
    assert ava_advice(deal, record=few).verdict == "buy"


def test_a_period_across_partial_months_adds_up_from_rollups_and_rows(history: Settings) -> None:
    """Whole months come from the monthly sums, the partial ends from the sales themselves:
    any split of a period adds up to the same profit."""
    with session_scope(history) as s:
        user = _sam(s)
        whole = profit_summary(s, user, datetime(2025, 10, 5, tzinfo=UTC), NOV + timedelta(15))
        first = profit_summary(s, user, datetime(2025, 10, 5, tzinfo=UTC), NOV)
        second = profit_summary(s, user, NOV, NOV + timedelta(15))
    assert whole.profit == pytest.approx(first.profit + second.profit) == pytest.approx(74.0)
    assert [m["month"] for m in whole.by_month] == ["2025-10", "2025-11"]


def test_returns_take_their_sale_and_cost_back(sam_with_a_return: Settings) -> None:
    with session_scope(sam_with_a_return) as s:
        summary = profit_summary(s, _sam(s))
    assert (summary.units_sold, summary.units_returned) == (0, 1)
    assert summary.sales == 0.0 and summary.profit == pytest.approx(-1.6)


@pytest.fixture
def sam_with_a_return(settings: Settings) -> Settings:
    seed(settings, make_deal(ASIN))
    with session_scope(settings) as s:
        user = add_user(s, "sam")
        save_user_settings(s, user, UserSettings(tax_pct=0, prep_fee=0, inbound_shipping=0))
        at = datetime(2025, 10, 1, 12, tzinfo=UTC)
        record_purchase(s, user, PurchaseInput(ASIN, 1, 10.0, "good", at, sku="CALC"))
        order = sale(s, user, at + timedelta(days=3), 1, 40.0, sku="CALC", fees=-8.0)
        sale(s, user, at + timedelta(days=5), 1, -40.0, sku="CALC", fees=6.4, kind="refund",
             order=order, asin=None)  # fmt: skip
    return settings
