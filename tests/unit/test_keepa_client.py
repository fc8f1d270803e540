"""KeepaClient: error mapping, retries, 429 handling, per-product errors, one code path."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import httpx
import pytest

from tools.clock import SimClock
from tools.keepa.budget import TokenBudget
from tools.keepa.client import KeepaClient, SyncKeepaClient
from tools.keepa.errors import (
    KeepaNotFound,
    KeepaPaymentRequired,
    KeepaRequestRejected,
    KeepaServerError,
    KeepaTokensExhausted,
    KeepaTransportError,
)
from tools.keepa.factory import make_keepa_client
from tools.sandbox.keepa import SandboxMarket, create_app
from tools.settings import load_settings

ENV = {
    "tokensLeft": 100,
    "refillIn": 30_000,
    "refillRate": 20,
    "timestamp": 1,
    "tokensConsumed": 0,
    "tokenFlowReduction": 0.0,
    "processingTimeInMs": 1,
}


def _mock(handler: Any, clock: SimClock | None = None, **kw: Any) -> KeepaClient:
    return KeepaClient(
        api_key="k",
        base_url="http://keepa.test",
        transport=httpx.MockTransport(handler),
        clock=clock or SimClock(0),
        **kw,
    )


@pytest.mark.parametrize(
    ("status", "exc"),
    [(400, KeepaRequestRejected), (402, KeepaPaymentRequired), (404, KeepaNotFound)],
)
async def test_client_errors_are_typed_and_not_retried(status: int, exc: type) -> None:
    calls = []

    def handler(request: httpx.Request) -> httpx.Response:
        calls.append(request)
        return httpx.Response(status, json={**ENV, "error": {"message": "nope"}})

    client = _mock(handler)
    with pytest.raises(exc, match="nope"):
        await client.products(["B000000001"])
    assert len(calls) == 1


async def test_5xx_and_timeouts_are_retried_with_backoff() -> None:
    clock = SimClock(0)
    answers: list[Any] = [httpx.ReadTimeout("slow"), 500, 503]

    def handler(request: httpx.Request) -> httpx.Response:
        nxt = answers.pop(0) if answers else 200
        if isinstance(nxt, Exception):
            raise nxt
        if nxt != 200:
            return httpx.Response(nxt, json=ENV)
        return httpx.Response(200, json={**ENV, "asinList": ["A"], "totalResults": 1})

    client = _mock(handler, clock)
    result = await client.query({"perPage": 50})
    assert result.body["asinList"] == ["A"]
    assert clock.now() > 0  # backed off (in simulated time)


async def test_persistent_5xx_raises_server_error() -> None:
    client = _mock(lambda r: httpx.Response(500, json=ENV), max_attempts=3)
    with pytest.raises(KeepaServerError):
        await client.deals({"page": 0})


async def test_unreachable_raises_transport_error() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("refused")

    with pytest.raises(KeepaTransportError):
        await _mock(handler, max_attempts=2).token_status()


async def test_batch_with_a_malformed_product_returns_results_and_errors(
    keepa_fixtures: Path,
) -> None:
    good = json.loads((keepa_fixtures / "product_B0F7XPYCSJ.json").read_text())["products"][0]
    bad = {**good, "asin": "B0BADBADBA", "csv": "not a list"}

    def handler(request: httpx.Request) -> httpx.Response:
        assert request.url.params["asin"] == "B0F7XPYCSJ,B0BADBADBA,B0MISSING1"
        return httpx.Response(200, json={**ENV, "tokensConsumed": 2, "products": [good, bad]})

    result = await _mock(handler).products(["B0F7XPYCSJ", "B0BADBADBA", "b0missing1"])
    assert [p["asin"] for p in result.products] == ["B0F7XPYCSJ"]
    assert [(e.asin, e.field) for e in result.errors] == [("B0BADBADBA", "csv")]
    assert result.missing == ["B0MISSING1"]
    assert result.tokens_consumed == 2


async def test_429_without_budget_waits_for_refill_not_busy() -> None:
    clock = SimClock(0)
    calls = []

    def handler(request: httpx.Request) -> httpx.Response:
        calls.append(clock.now())
        if len(calls) == 1:
            return httpx.Response(429, json={**ENV, "tokensLeft": -5, "refillIn": 40_000})
        return httpx.Response(200, json={**ENV, "products": []})

    await _mock(handler, clock).products(["B000000001"])
    assert len(calls) == 2 and calls[1] - calls[0] >= 40


async def test_429_forever_gives_tokens_exhausted() -> None:
    client = _mock(lambda r: httpx.Response(429, json={**ENV, "tokensLeft": 0}), max_429=2)
    with pytest.raises(KeepaTokensExhausted):
        await client.products(["B000000001"])


async def test_forced_429_is_waited_out_through_the_budget(redis_url: str) -> None:
    clock = SimClock(1_780_000_000.0)
    market = SandboxMarket(n_products=100, seed=2, refill_rate=20, clock=clock)
    budget = TokenBudget.from_url(redis_url, clock=clock)
    client = KeepaClient(
        api_key="k",
        base_url="http://sandbox",
        budget=budget,
        transport=httpx.ASGITransport(app=create_app(market)),
        clock=clock,
    )
    await client.token_status()
    # someone else (another key user) drains Keepa's bucket behind the budget's back
    market.tokens.set_balance(0)
    result = await client.products(market.asins()[:3], stats=30, purpose="scout")
    assert len(result.products) == 3
    assert market.tokens.rejected == 1  # exactly one 429, then a wait, no retry storm
    snap = budget.snapshot()
    assert snap["waits"]["scout"]["count"] == 1
    assert snap["waits"]["scout"]["seconds"] >= 60  # resume mark 55 needs 3 refills of 20
    assert budget.spend_by_purpose() == {"scout": 3}
    await client.aclose()


def test_factory_uses_sandbox_without_key_and_sync_wrapper_works() -> None:
    settings = load_settings(sandbox_products=50)
    client = make_keepa_client(settings, budget=None)
    assert client.base_url == "http://keepa-sandbox"
    with SyncKeepaClient(client) as sync:
        env = sync.token_status()
        assert env.refill_rate == settings.sandbox_refill_rate
        market = client._http._transport.app.state.market  # type: ignore[attr-defined]
        res = sync.products(market.asins()[:2], stats=90)
        assert len(res.products) == 2 and res.tokens_consumed == 2


def test_a_faster_sandbox_refills_the_budget_as_fast(redis_url: str) -> None:
    """SANDBOX_SPEED=60 runs an hour a minute: the budget must expect its refills as often."""
    settings = load_settings(sandbox_products=50, sandbox_speed=60.0)
    client = make_keepa_client(settings)
    assert client.budget is not None and client.budget.clock is client.clock
    market = client._http._transport.app.state.market  # type: ignore[attr-defined]
    assert client.clock is market.clock


def test_factory_uses_live_keepa_with_key() -> None:
    settings = load_settings(keepa_api_key="secret", keepa_api_url="http://127.0.0.1:9")
    client = make_keepa_client(settings, budget=None)
    assert client.base_url == "http://127.0.0.1:9" and client.api_key == "secret"


def test_products_rejects_bad_arguments_before_spending() -> None:
    client = _mock(lambda r: pytest.fail("no request expected"))
    sync = SyncKeepaClient(client)
    with pytest.raises(ValueError, match="at most 100"):
        sync.products([f"B{i:09d}" for i in range(101)])
    with pytest.raises(ValueError, match="offers"):
        sync.products(["B000000001"], offers=5)
    sync.close()


async def test_a_cancelled_call_gives_its_reserved_tokens_back(redis_url: str) -> None:
    """A chat turn stopped mid-lookup (or a task's time limit) must not leak its reservation
    into the shared budget, where it would block every other caller."""
    import asyncio

    clock = SimClock(0)
    budget = TokenBudget.from_url(redis_url, clock=clock)

    async def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/token/":
            return httpx.Response(200, json={**ENV, "tokensLeft": 500})
        await asyncio.sleep(3600)  # Keepa hangs
        raise AssertionError("unreachable")

    client = _mock(handler, clock, budget=budget)
    call = asyncio.create_task(client.products([f"B00000000{i}" for i in range(5)]))
    for _ in range(100):
        await asyncio.sleep(0.01)
        if budget.snapshot().get("inflight"):
            break
    assert budget.snapshot()["inflight"] == 5
    call.cancel()
    with pytest.raises(asyncio.CancelledError):
        await call
    snap = budget.snapshot()
    assert snap["inflight"] == 0 and snap["balance"] == 500


async def test_a_bare_429_through_the_budget_backs_off_instead_of_looping(redis_url: str) -> None:
    """A 429 without Keepa's envelope (a proxy's) tells the budget nothing: wait anyway."""
    clock = SimClock(0)
    budget = TokenBudget.from_url(redis_url, clock=clock)
    calls: list[float] = []

    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/token/":
            return httpx.Response(200, json={**ENV, "tokensLeft": 500})
        calls.append(clock.now())
        if len(calls) <= 2:
            return httpx.Response(429, text="Too Many Requests")
        return httpx.Response(200, json={**ENV, "products": []})

    await _mock(handler, clock, budget=budget).products(["B000000001"])
    assert len(calls) == 3
    assert calls[1] - calls[0] >= 5 and calls[2] - calls[1] >= 10


async def test_a_call_cancelled_while_its_grant_is_under_way_gives_the_tokens_back(
    redis_url: str,
) -> None:
    """The grant runs in a thread that cannot be cancelled: a cancel that lands meanwhile
    (a stopped chat turn, a stopping worker) must not leave its reservation behind."""
    import asyncio
    import threading

    clock = SimClock(0)
    budget = TokenBudget.from_url(redis_url, clock=clock)
    granting = threading.Event()
    real_try = budget._try

    def slow_try(cost: int, res_id: str) -> tuple[bool, float, float, bool]:
        granted = real_try(cost, res_id)  # Redis has granted: the tokens are reserved
        granting.set()
        threading.Event().wait(0.3)  # ...and the answer is still on its way back
        return granted

    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/token/":
            return httpx.Response(200, json={**ENV, "tokensLeft": 500})
        raise AssertionError("the call was cancelled before sending")

    client = _mock(handler, clock, budget=budget)
    await client.token_status()
    budget._try = slow_try  # type: ignore[method-assign]
    call = asyncio.create_task(client.products([f"B00000000{i}" for i in range(5)]))
    await asyncio.to_thread(granting.wait, 5)
    assert budget.snapshot()["inflight"] == 5
    call.cancel()
    with pytest.raises(asyncio.CancelledError):
        await call
    snap = budget.snapshot()
    assert snap["inflight"] == 0 and snap["balance"] == 500
    await client.aclose()


def test_a_stop_request_interrupts_a_call_waiting_for_tokens(redis_url: str) -> None:
    """A stopping worker must not wait out the budget (up to 15 min): the wait ends at once,
    the caller hears Stopped, and no reservation or waiter record stays behind."""
    import threading
    import time

    from tools import shutdown
    from tools.clock import SystemClock

    budget = TokenBudget.from_url(redis_url, clock=SystemClock())

    def handler(request: httpx.Request) -> httpx.Response:
        # Keepa says: 40 tokens left, 20 a minute, next refill in a minute
        return httpx.Response(200, json={**ENV, "tokensLeft": 40, "refillIn": 60_000})

    sync = SyncKeepaClient(_mock(handler, SystemClock(), budget=budget))  # type: ignore[arg-type]
    outcome: list[object] = []

    def call() -> None:
        try:
            sync.products(["B000000001"], purpose="scout")
        except shutdown.Stopped as err:
            outcome.append(err)

    worker = threading.Thread(target=call)
    try:
        worker.start()
        for _ in range(100):
            if budget.waiting_now():
                break
            time.sleep(0.05)
        assert [w["purpose"] for w in budget.waiting_now()] == ["scout"]
        asked = time.monotonic()
        shutdown.request()
        worker.join(5)
        assert not worker.is_alive() and time.monotonic() - asked < 1.0
    finally:
        shutdown.clear()
    assert len(outcome) == 1 and isinstance(outcome[0], shutdown.Stopped)
    snap = budget.snapshot()
    assert snap["waiting"] == [] and snap["inflight"] == 0 and snap["balance"] == 40
    with pytest.raises(shutdown.Stopped):  # a stopping process starts no new call either
        shutdown.request()
        try:
            sync.products(["B000000001"])
        finally:
            shutdown.clear()
    sync.close()


def test_processes_given_one_sandbox_clock_agree_on_market_time(redis_url: str) -> None:
    """SANDBOX_CLOCK: a served sandbox, the workers' clients and a task that has not fetched
    yet (refresher, janitor) all read the same market time, not each their own wall time."""
    import time

    from tools.keepa.factory import configured_clock
    from workers.tasks import clock_of

    start = 1772409600.0  # 2026-03-02 00:00 UTC
    spec = f"60,{start},{time.time()}"
    settings = load_settings(keepa_sandbox_url="http://127.0.0.1:9", sandbox_clock=spec)
    client = make_keepa_client(settings)
    assert client.budget is not None
    for clock in (client.clock, client.budget.clock, configured_clock(settings)):
        assert clock is not None and abs(clock.now() - start) < 600  # minutes, not months
    from tools.settings import reset_settings_cache

    os.environ["SANDBOX_CLOCK"] = spec
    try:
        reset_settings_cache()
        assert abs(clock_of(None).now() - start) < 600
    finally:
        del os.environ["SANDBOX_CLOCK"]
        reset_settings_cache()
    # a live key never runs on a simulated clock
    live = load_settings(keepa_api_key="secret", sandbox_clock=spec)
    assert configured_clock(live) is None


@pytest.mark.parametrize("bad", ["60,1", "fast,1,2", "0,1,2", "60,nan,2"])
def test_a_malformed_sandbox_clock_is_refused(bad: str) -> None:
    from tools.settings import SettingsError

    with pytest.raises(SettingsError, match="SANDBOX_CLOCK"):
        load_settings(sandbox_clock=bad)
