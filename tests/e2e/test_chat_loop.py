"""The seller's whole loop on a real chat server, with no keys: a deal added to the buy list
from the table's button, a purchase recorded in words, the sandbox clock moved on (the
recorded units go to Amazon in the SP-API sandbox, arrive, and sell when the Keepa sandbox
market sells a copy at or above their price), the workers' sync, then "how much did I make?"
answered with the realized figure and the chart."""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from tests.e2e.harness import ChatClient, ChatServer, login
from tests.e2e.seed import USERS, seed_all
from tools.clock import SystemClock
from tools.db import dispose_engines, session_scope
from tools.deals.money import MoneyInputs, compute_money
from tools.keepa.conventions import to_keepa_minutes
from tools.models import Deal, DealStatus
from tools.sandbox import time_shift
from tools.sandbox.keepa import SandboxMarket
from tools.sandbox.keepa.series import USED
from tools.settings import Settings, reset_settings_cache
from tools.user_settings import UserSettings

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(300)]
PRODUCTS = 400  # the server's and this test's sandbox market: the same seeded world
DAY = 86400.0
ADVANCE_DAYS = 30
TITLE = "Loop Lane Organic Chemistry"


def _landed_sales(market: SandboxMarket, asin: str, lo: float, hi: float) -> list[float]:
    """Prices of the market's sales of `asin` in [lo, hi] (epoch seconds), shipping included."""
    i = market.index_of(asin)
    assert i is not None
    hist = market.history(i, to_keepa_minutes(hi))
    t = hist.sale_t[(hist.sale_t > to_keepa_minutes(lo))]
    used = hist.series[USED]
    k = np.searchsorted(used.t, t, side="right") - 1
    return [(int(used.v[j]) + hist.used_ship) / 100 for j in k if used.v[j] > 0]


def _pick(now: float) -> tuple[str, float]:
    """A product that sells often, for $20 or more, between a week and a month from now, and
    the price that every one of those sales clears."""
    market = SandboxMarket(n_products=PRODUCTS, seed=42, clock=SystemClock())
    best: tuple[int, str, float] | None = None
    for asin in market.asins()[:150]:
        prices = _landed_sales(market, asin, now + 8 * DAY, now + (ADVANCE_DAYS - 1) * DAY)
        if len(prices) >= 2 and min(prices) >= 20 and (best is None or len(prices) > best[0]):
            best = (len(prices), asin, round(min(prices) - 1.0, 2))
    assert best is not None, "no product of the sandbox market sells often enough"
    return best[1], best[2]


def _deal(asin: str, list_at: float) -> Deal:
    """The product as the workers would store it, priced so the List at is `list_at`."""
    inputs = MoneyInputs(0.5, list_at, 15.0, 0.0, 1.0, 1.8)
    money = compute_money(inputs, UserSettings())
    return Deal(
        asin=asin,
        title=TITLE,
        category="Chemistry",
        category_path="Books > Textbooks > Chemistry",
        status=DealStatus.active,
        condition="used_good",
        price_now=0.5,
        price_now_source="offers",
        list_at=list_at,
        referral_pct=15.0,
        referral_min=0.0,
        fba_fee=1.0,
        closing_fee=1.8,
        amz_fees=money.amz_fees,
        profit_default=money.profit,
        roi_default=money.roi,
        margin_default=money.margin,
        all_in_cost_default=money.all_in_cost,
        min_listing_price_default=money.min_listing_price,
        sales_rank=5_000,
        rank_drops_30=20,
        rank_drops_90=60,
        rank_drops_365=240,
        seasonality="textbook",
        deal_trust=90.0,
        amazon_offer=False,
    )


@pytest.fixture
def loop_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[ChatServer, str]]:
    import time

    data = tmp_path_factory.mktemp("chat-loop")
    settings = Settings(data_dir=data, sandbox_products=PRODUCTS)
    seed_all(settings)
    asin, price = _pick(time.time())
    with session_scope(settings) as session:
        session.add(_deal(asin, price))
    dispose_engines()
    server = ChatServer(data_dir=data, extra_env={"SANDBOX_PRODUCTS": str(PRODUCTS)}).start()
    try:
        yield server, asin
    finally:
        server.stop()


def _worker_sync(data: Path, redis_url: str, monkeypatch: pytest.MonkeyPatch) -> dict[str, Any]:
    """What the workers' sync does, in this process, on the server's DATA_DIR (the same
    database, the same sandbox world and clock shift)."""
    from tools.spapi.service import sync_seller_sync
    from tools.users import get_user

    monkeypatch.setenv("DATA_DIR", str(data))
    monkeypatch.setenv("REDIS_URL", redis_url)
    monkeypatch.setenv("SANDBOX_PRODUCTS", str(PRODUCTS))
    monkeypatch.setenv("SECRET_KEY", "loop-test-secret-key-0123456789abcdef")
    reset_settings_cache()
    dispose_engines()
    from tools.settings import get_settings

    settings = get_settings()
    with session_scope(settings) as session:
        seller = get_user(session, "seller")
        assert seller is not None and seller.id is not None
        uid = seller.id
    run = sync_seller_sync(settings, uid, max_seconds=None)
    assert not run.errors, run.errors
    dispose_engines()
    return run.as_dict()


@pytest.mark.xfail(
    strict=False,
    reason="known flaky in a full run (finances rows 0 after the clock advance; passes alone): "
    "the sale after the advance depends on timing, to be made deterministic",
)
def test_buy_list_purchase_clock_sync_and_realized_profit(
    loop_server: tuple[ChatServer, str], redis_server_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    server, asin = loop_server
    token = login(server.url, "seller", USERS["seller"][0])

    async def before() -> None:
        client = ChatClient(server.url, token)
        await client.connect()
        turn = await client.send("organic chemistry deals")
        [table] = [e for e in turn.elements if e.get("name") == "DealTable"]
        assert asin in [r["asin"] for r in table["props"]["rows"]]
        _, turn = await client.click(
            "buy_list_add", {"asin": asin}, until=lambda t: "to your buy list" in t.answer
        )
        turn = await client.send(f"I bought 2 of {asin} at $0.50, used good")
        assert "Recorded purchase" in turn.answer and "2 × " in turn.answer
        await client.close()

    asyncio.run(before())
    time_shift.advance(server.data_dir, ADVANCE_DAYS * DAY)  # "advance the sandbox clock"
    run = _worker_sync(server.data_dir, redis_server_url, monkeypatch)
    assert run["results"]["finances"]["rows"] >= 1

    async def after() -> Any:
        client = ChatClient(server.url, token)
        await client.connect()
        turn = await client.send("how much did I make?")
        await client.close()
        return turn

    turn = asyncio.run(after())
    db = sqlite3.connect(server.data_dir / "arbitrage.db")
    units, profit = db.execute(
        "SELECT sum(quantity), sum(profit) FROM sale_allocation a JOIN user u ON u.id = a.user_id"
        " WHERE u.name = 'seller' AND a.purchase_id IS NOT NULL"
    ).fetchone()
    assert units >= 1 and profit > 0
    assert f"You made **${profit:,.2f}** realized profit so far: {units} unit" in turn.answer
    charts = [e for e in turn.elements if e.get("type") == "plotly"]
    assert [c["name"] for c in charts] == ["profit-by-month"]
