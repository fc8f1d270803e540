"""One simulated world, end to end through the real sync: a seller's recorded purchase is sent
to Amazon (the embedded SP-API sandbox reads the app's purchases), shows inbound, arrives,
and sells when the Keepa sandbox market sells a copy at or above the predicted List at; the
sync stores the inventory, the orders and the sale's money for that seller only."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

import numpy as np
import pytest

from tools.clock import SimClock
from tools.db import session_scope
from tools.keepa.conventions import keepa_minutes_to_unix, to_keepa_minutes
from tools.models import Purchase
from tools.restrictions.lwa import clear_token_cache
from tools.sandbox.keepa import SandboxMarket
from tools.sandbox.keepa.series import USED
from tools.settings import Settings, get_settings
from tools.spapi import factory, store
from tools.spapi.service import SellerSync
from tools.spapi.sync import SyncOptions
from tools.users import add_user

pytestmark = pytest.mark.integration
T0 = 1_780_000_000.0
DAY = 86400.0


def _landed_sales(market: SandboxMarket, asin: str, days: float) -> list[tuple[float, float]]:
    i = market.index_of(asin)
    assert i is not None
    hist = market.history(i, to_keepa_minutes(T0 + days * DAY))
    t = hist.sale_t[(hist.sale_t > to_keepa_minutes(T0))]
    used = hist.series[USED]
    k = np.searchsorted(used.t, t, side="right") - 1
    return [
        (keepa_minutes_to_unix(int(s)), (int(used.v[j]) + hist.used_ship) / 100)
        for s, j in zip(t, k, strict=True)
    ]


def _purchase(user_id: int, asin: str, quantity: int, list_at: float) -> int:
    with session_scope() as session:
        p = Purchase(
            user_id=user_id,
            asin=asin,
            quantity=quantity,
            unit_cost=4.0,
            condition="used_good",
            purchased_at=datetime.fromtimestamp(T0, UTC),
            tax_pct=0.0,
            prep_fee=0.5,
            inbound_shipping=0.5,
            markup_pct=0.0,
            list_at_pred=list_at,
        )
        session.add(p)
        session.flush()
        assert p.id is not None
        return p.id


def test_a_recorded_purchase_arrives_then_sells_with_the_market(
    settings: Settings, redis_url: str
) -> None:
    settings = get_settings()  # with REDIS_URL
    clock = SimClock(T0)
    market = SandboxMarket(n_products=300, seed=7, clock=clock)
    asin = max(market.asins()[:60], key=lambda a: len(_landed_sales(market, a, 40)))
    sales = _landed_sales(market, asin, 40)
    price = round(min(p for _, p in sales) - 1.0, 2)
    with session_scope() as session:
        ann = add_user(session, "ann", "password123").id
        bob = add_user(session, "bob", "password123").id
    assert ann is not None and bob is not None
    pid = _purchase(ann, asin, 2, price)
    _purchase(bob, market.asins()[61], 1, 9.99)
    app = factory.embedded_app(settings, market)
    options = SyncOptions(history_days=30, max_seconds=None)
    clear_token_cache()

    async def sync(user_id: int) -> None:
        async with SellerSync(settings, sandbox_app=app, clock=clock) as s:
            run = await s.run(user_id, options=options)
            assert not run.errors, run.errors

    clock.set(T0 + 3600)
    asyncio.run(sync(ann))
    with session_scope() as session:
        (row,) = store.inventory(session, ann)
    sku = f"AA-{pid}-{asin}"
    assert (row.sku, row.asin, row.inbound_working, row.fulfillable) == (sku, asin, 2, 0)

    clock.set(T0 + 30 * DAY)
    asyncio.run(sync(ann))
    asyncio.run(sync(bob))
    with session_scope() as session:
        (row,) = store.inventory(session, ann)
        orders = store.orders(session, ann)
        sold = store.sold_items(session, ann)
        bob_sold = store.sold_items(session, bob)
    assert row.total_quantity == 0, "both units sold and shipped"
    assert len(orders) == 2 and {o.status for o in orders} == {"Shipped"}
    market_times = {t for t, _ in sales}
    assert all(o.purchase_date.timestamp() in market_times for o in orders)
    assert [(s.sku, s.asin, s.quantity, s.principal) for s in sold] == [(sku, asin, 1, price)] * 2
    assert all(s.fees["Commission"] == -round(price * 0.15, 2) for s in sold)
    assert all(s.purchase_date is not None and s.purchase_date < s.posted_at for s in sold)
    assert not {s.amazon_order_id for s in bob_sold} & {o.amazon_order_id for o in orders}


def test_late_released_financial_events_are_caught_by_the_overlap(
    settings: Settings, redis_url: str
) -> None:
    """Amazon shows a deferred event only once released, under its old PostedDate, so each
    finances sync reads the last SPAPI_FINANCES_OVERLAP_H again: every event arrives, once.
    Without the overlap the same ticks miss some."""
    from tools.sandbox.spapi import HistorySpec, SandboxConfig, make_restrictions_sandbox_app
    from tools.spapi.factory import sandbox_seller_id

    settings = get_settings()
    clock = SimClock(T0)
    with session_scope() as session:
        ann = add_user(session, "ann", "password123").id
        bob = add_user(session, "bob", "password123").id
    assert ann is not None and bob is not None
    spec = HistorySpec(n_skus=20, n_orders=300, end=T0, days=30, deferred_rate=0.3)
    app = make_restrictions_sandbox_app(
        SandboxConfig(
            clock=clock, histories={sandbox_seller_id(ann): spec, sandbox_seller_id(bob): spec}
        )
    )
    clear_token_cache()

    async def ticks() -> None:
        def options(overlap_s: float) -> SyncOptions:
            return SyncOptions(history_days=40, max_seconds=None, finances_overlap_s=overlap_s)

        async with SellerSync(settings, sandbox_app=app, clock=clock) as s:
            for _ in range(4 * 30):  # 30 hours of 15-minute ticks
                for user_id, overlap_s in ((ann, 48 * 3600.0), (bob, 0.0)):
                    run = await s.run(user_id, ("finances",), options=options(overlap_s))
                    assert not run.errors, run.errors
                clock.advance(900)

    asyncio.run(ticks())
    now = clock.now()

    def stored(user_id: int) -> list[tuple[str, str, str]]:
        with session_scope() as session:
            rows = store.financial_events(session, user_id)
        return [(r.kind, r.amazon_order_id, r.item_key) for r in rows]

    def truth(seller: str) -> set[tuple[str, str, str]]:
        (ledger,) = app.state.sandbox.world.ledgers(seller)
        return {
            (e.kind, e.order_id, it.key)
            for e in ledger.events
            if e.posted < now - 900 and e.released <= now - 900
            for it in e.items
        }

    got = stored(ann)
    assert len(got) == len(set(got)), "the re-read overlap stored nothing twice"
    assert truth(sandbox_seller_id(ann)) <= set(got)
    missed = truth(sandbox_seller_id(bob)) - set(stored(bob))
    assert missed, "without the overlap, events released after their window passed are lost"
