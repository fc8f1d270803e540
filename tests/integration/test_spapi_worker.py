"""Seller syncs through a REAL Celery worker on the `spapi` queue, with the worker's own
embedded SP-API sandbox over its Keepa sandbox market (the default with no SPAPI_* set).

Beat's fan-out task queues one sync per seller; each seller's purchases are the units their
sandbox seller sent in, so the worker's world sells them when its market does. The status
screen shows every seller's streams.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pytest

from tests.integration.test_workers_celery import celery_worker, sender, wait_for, worker_env
from tools.clock import SystemClock
from tools.db import dispose_engines, session_scope
from tools.keepa.conventions import to_keepa_minutes
from tools.models import Purchase, SpapiSync
from tools.sandbox.keepa import SandboxMarket
from tools.sandbox.keepa.series import USED
from tools.settings import Settings, get_settings
from tools.spapi import store
from tools.users import add_user
from workers.status import gather

pytestmark = pytest.mark.integration
DAY = 86400.0


def _sales(market: SandboxMarket, asin: str, since: float, until: float) -> list[float]:
    """Landed prices of the market's sales of `asin` in (since, until]."""
    i = market.index_of(asin)
    assert i is not None
    hist = market.history(i, to_keepa_minutes(until))
    t = hist.sale_t[
        (hist.sale_t > to_keepa_minutes(since)) & (hist.sale_t <= to_keepa_minutes(until))
    ]
    used = hist.series[USED]
    k = np.searchsorted(used.t, t, side="right") - 1
    return [(int(used.v[j]) + hist.used_ship) / 100 for j in k]


def test_beat_fan_out_syncs_every_seller_in_the_worker(
    settings: Settings, redis_url: str, tmp_path: Path
) -> None:
    now = time.time()
    bought = now - 25 * DAY
    # the same market the worker builds (SANDBOX_PRODUCTS=300, SANDBOX_SEED=7, wall time)
    market = SandboxMarket(n_products=300, seed=7, clock=SystemClock())
    asin = max(
        market.asins()[:40], key=lambda a: len(_sales(market, a, bought + 8 * DAY, now - DAY))
    )
    assert len(_sales(market, asin, bought + 8 * DAY, now - DAY)) >= 1
    price = round(min(_sales(market, asin, bought, now)) - 1.0, 2)
    with session_scope() as session:
        ann = add_user(session, "ann", "password123").id
        bob = add_user(session, "bob", "password123").id
        assert ann is not None and bob is not None
        session.add(
            Purchase(
                user_id=ann,
                asin=asin,
                quantity=1,
                unit_cost=3.0,
                condition="used_good",
                purchased_at=datetime.fromtimestamp(bought, UTC),
                tax_pct=0.0,
                prep_fee=0.0,
                inbound_shipping=0.0,
                markup_pct=0.0,
                list_at_pred=price,
            )
        )
    env = worker_env(settings, redis_url, SPAPI_HISTORY_DAYS="60")
    with celery_worker(env, tmp_path / "worker.log", queues="spapi", pool="threads"):
        app = sender(redis_url)
        fanned = app.send_task("workers.spapi.sync_sales_for_all", queue="spapi").get(timeout=60)
        assert sorted(fanned) == sorted([ann, bob])
        app.send_task("workers.spapi.sync_inventory_for_all", queue="spapi").get(timeout=60)

        def synced() -> bool:
            dispose_engines()
            with session_scope() as session:
                rows = [
                    session.get(SpapiSync, (uid, stream))
                    for uid in (ann, bob)
                    for stream in ("inventory", "orders", "finances")
                ]
            return all(r is not None and r.last_success_at for r in rows)

        wait_for(synced, 90, "every seller's three streams to sync")
    dispose_engines()
    with session_scope() as session:
        orders = store.orders(session, ann)
        sold = store.sold_items(session, ann)
        (row,) = store.inventory(session, ann)
        assert not store.orders(session, bob) and not store.inventory(session, bob)
    assert len(orders) == 1 and orders[0].status == "Shipped"
    assert [(s.asin, s.principal) for s in sold] == [(asin, price)]
    assert row.asin == asin and row.total_quantity == 0
    status = {(r["user"], r["stream"]): r for r in gather(get_settings())["seller_sync"]}
    assert set(status) == {
        (u, s) for u in ("ann", "bob") for s in ("inventory", "orders", "finances")
    }
    assert all(r["state"] == "caught up" and not r["last_error"] for r in status.values())
