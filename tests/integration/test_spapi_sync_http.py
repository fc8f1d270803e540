"""Seller syncs over real HTTP against the SP-API sandbox served by uvicorn (wall time, the
documented usage plans enforced by the sandbox and kept by the shared Redis limiter).

What a seller would notice: the inventory they see is Amazon's, every sale and refund is
there exactly once even after the sync was killed mid-walk, and nobody sees another seller's
records.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from sqlmodel import select

from tests.helpers.live_server import serve_asgi
from tools.db import session_scope
from tools.models import FbaInventory, FinancialEvent, SellerOrder, SellerOrderItem, SpapiSync
from tools.restrictions.lwa import clear_token_cache
from tools.sandbox.spapi import HistorySpec, SandboxConfig, make_restrictions_sandbox_app
from tools.sandbox.spapi.state import SandboxState
from tools.settings import Settings, get_settings, reset_settings_cache
from tools.spapi import store
from tools.spapi.factory import sandbox_seller_id
from tools.spapi.service import sync_seller_sync
from tools.users import add_user

pytestmark = pytest.mark.integration
REPO = Path(__file__).resolve().parents[2]
DAY = 86400.0


@dataclass
class Sandbox:
    state: SandboxState
    url: str


@pytest.fixture
def sandbox(redis_url: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[Sandbox]:
    app = make_restrictions_sandbox_app(SandboxConfig())
    clear_token_cache()
    with serve_asgi(app) as url:
        for k, v in {
            "SPAPI_ENDPOINT": url,
            "SPAPI_RETRY_BASE_S": "0.05",
            "SPAPI_RETRY_MAX_S": "0.5",
        }.items():
            monkeypatch.setenv(k, v)
        reset_settings_cache()
        yield Sandbox(app.state.sandbox, url)
    clear_token_cache()


def _user(name: str) -> int:
    with session_scope() as session:
        user = add_user(session, name, "password123")
        assert user.id is not None
        return user.id


def _seed(sandbox: Sandbox, user_id: int, **spec: float) -> str:
    seller = sandbox_seller_id(user_id)
    base = {"end": time.time() - 8 * DAY, "days": 60.0, "future_days": 0.0}
    sandbox.state.world.seed(seller, HistorySpec(**{**base, **spec}))  # type: ignore[arg-type]
    return seller


def _truth_events(sandbox: Sandbox, seller: str) -> set[tuple[str, str, str]]:
    out: set[tuple[str, str, str]] = set()
    now = time.time()
    for ledger in sandbox.state.world.ledgers(seller):
        for e in ledger.events:
            if e.posted < now - 130 and e.released <= now:
                out.update((e.kind, e.order_id, it.key) for it in e.items)
    return out


def _stored_events(user_id: int) -> list[tuple[str, str, str]]:
    with session_scope() as session:
        rows = store.financial_events(session, user_id)
    return [(r.kind, r.amazon_order_id, r.item_key) for r in rows]


def test_a_three_page_inventory_sync_stores_amazons_quantities(
    sandbox: Sandbox, settings: Settings
) -> None:
    uid = _user("ann")
    seller = _seed(sandbox, uid, n_skus=120, n_orders=10)
    run = sync_seller_sync(None, uid, ("inventory",))
    result = run.results["inventory"]
    assert (result.pages, result.done, result.calls) == (3, True, {"getInventorySummaries": 3})
    truth = {v.sku: v for v in sandbox.state.world.skus(seller, time.time())}
    with session_scope() as session:
        rows = {r.sku: r for r in store.inventory(session, uid)}
        cp = session.get(SpapiSync, (uid, "inventory"))
    assert set(rows) == set(truth) and len(rows) == 120
    for sku, v in truth.items():
        r = rows[sku]
        got = (r.asin, r.fulfillable, r.inbound_shipped, r.reserved, r.unfulfillable)
        assert got == (v.asin, v.fulfillable, v.inbound_shipped, v.reserved, v.unfulfillable)
        assert r.total_quantity == v.total
    assert cp is not None and cp.watermark is not None and cp.next_token is None
    # a SKU Amazon no longer reports holds nothing after the next complete walk
    with session_scope() as session:
        session.add(
            FbaInventory(
                user_id=uid, sku="GONE-1", asin="0000000000", fulfillable=3, total_quantity=3
            )
        )
    sync_seller_sync(None, uid, ("inventory",))
    with session_scope() as session:
        gone = session.exec(select(FbaInventory).where(FbaInventory.sku == "GONE-1")).one()
    assert gone.total_quantity == gone.fulfillable == 0


def test_orders_with_refunds_land_once_with_their_money(
    sandbox: Sandbox, settings: Settings
) -> None:
    uid = _user("ann")
    seller = _seed(sandbox, uid, n_skus=40, n_orders=400, refund_rate=0.25, end=time.time() - 3600)
    run = sync_seller_sync(None, uid, ("orders", "finances"))
    assert not run.errors and all(r.done for r in run.results.values())
    truth_orders = {o.order_id for lg in sandbox.state.world.ledgers(seller) for o in lg.orders}
    with session_scope() as session:
        orders = {o.amazon_order_id: o for o in store.orders(session, uid, limit=10_000)}
        items = session.exec(select(SellerOrderItem).where(SellerOrderItem.user_id == uid)).all()
    assert set(orders) == truth_orders
    # items were read for the last week's orders only, with their ASINs and prices
    recent = {
        oid for oid, o in orders.items() if o.purchase_date.timestamp() > time.time() - 7 * DAY
    }
    assert {i.amazon_order_id for i in items} == {
        oid for oid in recent if orders[oid].status != "Canceled"
    }
    assert all(
        i.asin and i.item_price for i in items if orders[i.amazon_order_id].status != "Pending"
    )
    events = _stored_events(uid)
    assert len(events) == len(set(events)) == len(_truth_events(sandbox, seller))
    refunds = [e for e in events if e[0] == "refund"]
    assert len(refunds) > 20
    with session_scope() as session:
        sold = store.sold_items(session, uid)
    refunded = [s for s in sold if s.refunded_quantity]
    assert len(refunded) == len(refunds)
    one = refunded[0]
    assert one.refunded_net < 0 and abs(one.refunded_net) < one.principal  # fees partly back
    assert one.purchase_date is not None and one.purchase_date < one.posted_at
    assert one.fees_total < 0 and set(one.fees) >= {"Commission", "FBAPerUnitFulfillmentFee"}
    # running again changes nothing: same rows, no duplicates
    again = sync_seller_sync(None, uid, ("orders", "finances"))
    assert again.results["finances"].rows == 0
    assert sorted(_stored_events(uid)) == sorted(events)


def test_a_sync_killed_mid_walk_resumes_without_duplicates_or_gaps(
    sandbox: Sandbox, settings: Settings, redis_url: str
) -> None:
    uid = _user("ann")
    seller = _seed(sandbox, uid, n_skus=60, n_orders=1800, refund_rate=0.1)
    sandbox.state.config.latency_s = 0.25  # so there is a walk to interrupt
    env = {**os.environ, "PYTHONPATH": str(REPO), "SPAPI_SYNC_LOCK_TTL_S": "2"}
    child = subprocess.Popen(
        [sys.executable, "-m", "chat_ui.cli", "seller", "sync", "ann", "--stream", "finances"],
        cwd=REPO,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    try:
        deadline = time.monotonic() + 60
        pages = 0
        while time.monotonic() < deadline and child.poll() is None:
            with session_scope() as session:
                cp = session.get(SpapiSync, (uid, "finances"))
                pages = cp.pages if cp is not None else 0
            if pages >= 4:
                break
            time.sleep(0.05)
        assert child.poll() is None, "the sync finished before it could be interrupted"
        os.killpg(child.pid, signal.SIGKILL)
        child.wait(timeout=10)
    finally:
        if child.poll() is None:
            os.killpg(child.pid, signal.SIGKILL)
    stored_before = len(_stored_events(uid))
    with session_scope() as session:
        cp = session.get(SpapiSync, (uid, "finances"))
        assert cp is not None and cp.next_token  # killed mid-window
        committed = cp.pages
    assert 0 < stored_before < len(_truth_events(sandbox, seller))

    sandbox.state.config.latency_s = 0.0
    time.sleep(2.1)  # the killed run's lock expires (it was never released)
    run = sync_seller_sync(None, uid, ("finances",))
    result = run.results["finances"]
    total_pages = committed + result.pages
    events = _stored_events(uid)
    assert len(events) == len(set(events)), "no event stored twice"
    assert set(events) == _truth_events(sandbox, seller), "no event skipped"
    # it continued from the checkpoint: the pages stored before the kill were not asked again
    assert result.pages <= total_pages - committed + 1 and result.restarts == 0
    assert result.calls["listFinancialEvents"] == result.pages


def test_another_sellers_records_are_never_visible(sandbox: Sandbox, settings: Settings) -> None:
    ann, bob = _user("ann"), _user("bob")
    ann_seller = _seed(sandbox, ann, n_skus=30, n_orders=120, refund_rate=0.2)
    bob_seller = _seed(sandbox, bob, n_skus=9, n_orders=50, refund_rate=0.2, seed=3)
    for uid in (ann, bob):
        run = sync_seller_sync(None, uid)
        assert not run.errors
    truth = {
        uid: {o.order_id for lg in sandbox.state.world.ledgers(s) for o in lg.orders}
        for uid, s in ((ann, ann_seller), (bob, bob_seller))
    }
    with session_scope() as session:
        for uid, other in ((ann, bob), (bob, ann)):
            orders = {o.amazon_order_id for o in store.orders(session, uid, limit=10_000)}
            events = {e.amazon_order_id for e in store.financial_events(session, uid)}
            sold = {s.amazon_order_id for s in store.sold_items(session, uid)}
            skus = {r.sku for r in store.inventory(session, uid)}
            assert orders == truth[uid]
            assert not (orders | events | sold) & truth[other]
            assert len(skus) == (30 if uid == ann else 9)
        # every stored row carries its owner: the tables hold both sellers, each under its own
        for model in (SellerOrder, FinancialEvent, FbaInventory):
            owners = set(session.exec(select(model.user_id)).all())
            assert owners == {ann, bob}


def test_429s_are_retried_with_backoff_and_change_nothing(
    sandbox: Sandbox, settings: Settings
) -> None:
    uid = _user("ann")
    seller = _seed(sandbox, uid, n_skus=10, n_orders=300)
    sandbox.state.inject("listFinancialEvents", 429, 429)
    run = sync_seller_sync(get_settings(), uid, ("finances",))
    result = run.results["finances"]
    assert result.throttled == {"listFinancialEvents": 2} and result.done
    assert result.calls["listFinancialEvents"] == result.pages + 2
    events = _stored_events(uid)
    assert len(events) == len(set(events)) and set(events) == _truth_events(sandbox, seller)
