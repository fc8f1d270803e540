"""Eight worker processes share one Redis budget against a sandbox served over real HTTP.

Keepa's bucket must never be overdrawn past floor minus the largest single call, and the
budget must keep every process out of 429s.
"""

from __future__ import annotations

import asyncio
import multiprocessing as mp

import pytest

from tools.clock import ScaledClock
from tools.keepa.budget import PURPOSES, KeepaPurpose, TokenBudget
from tools.keepa.client import KeepaClient  # imported before the fork: workers start at once
from tools.sandbox.keepa import SandboxMarket
from tools.sandbox.keepa.serve import serve_in_thread

pytestmark = pytest.mark.integration

PROCS = 8
CALLS = 4
BATCH = 10  # ASINs per call = tokens per call
FLOOR, RESUME = 50, 55


def _worker(
    url: str,
    redis_url: str,
    spec: tuple[float, float, float],
    asins: list[str],
    purpose: KeepaPurpose,
) -> tuple[int, int]:
    clock = ScaledClock(*spec)
    budget = TokenBudget.from_url(
        redis_url, name="concurrency", clock=clock, floor=FLOOR, resume=RESUME, deadline_s=600
    )

    async def run() -> tuple[int, int]:
        async with KeepaClient(
            api_key="k", base_url=url, budget=budget, clock=clock, purpose=purpose
        ) as client:
            got = spent = 0
            for k in range(CALLS):
                chunk = asins[k * BATCH : (k + 1) * BATCH]
                res = await client.products(chunk, stats=30)
                got += len(res.products)
                spent += res.tokens_consumed
            return got, spent

    return asyncio.run(run())


def test_eight_processes_share_the_budget_without_429(redis_url: str) -> None:
    clock = ScaledClock(speed=60.0)  # one market minute per wall second
    market = SandboxMarket(
        n_products=PROCS * CALLS * BATCH,
        seed=5,
        refill_rate=30,
        clock=clock,
        initial_tokens=FLOOR + BATCH,
    )  # contention from the start
    asins = market.asins()
    per = CALLS * BATCH
    # fork the workers before the server thread starts (fast start, no inherited threads)
    with mp.get_context("fork").Pool(PROCS) as pool, serve_in_thread(market) as url:
        jobs = [
            pool.apply_async(
                _worker,
                (
                    url,
                    redis_url,
                    clock.spec(),
                    asins[p * per : (p + 1) * per],
                    PURPOSES[p % len(PURPOSES)],
                ),
            )
            for p in range(PROCS)
        ]
        results = [job.get(timeout=120) for job in jobs]
    assert results == [(per, per)] * PROCS
    assert market.tokens.rejected == 0
    assert market.tokens.min_seen >= FLOOR - BATCH
    waits = TokenBudget.from_url(redis_url, name="concurrency").waits()
    assert sum(w.get("count", 0) for w in waits.values()) > 0  # the processes really queued
    assert market.tokens.consumed == PROCS * per
