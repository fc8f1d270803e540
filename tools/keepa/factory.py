"""Build Keepa clients from settings: api.keepa.com with KEEPA_API_KEY, else the sandbox.

Both go through the same KeepaClient; only the transport differs (HTTPS, HTTP to a served
sandbox at KEEPA_SANDBOX_URL, or the in-process sandbox app through httpx.ASGITransport).
"""

from __future__ import annotations

import logging
import threading
from typing import Any, Literal

import httpx

from tools.clock import Clock, ScaledClock, ShiftedClock, SystemClock
from tools.keepa.budget import KeepaPurpose, TokenBudget

# budget_name and make_token_budget live in budget.py; still importable from here
from tools.keepa.budget import budget_name as budget_name
from tools.keepa.budget import make_token_budget as make_token_budget
from tools.keepa.client import KeepaClient, SyncKeepaClient
from tools.settings import Settings, get_settings

log = logging.getLogger(__name__)

SANDBOX_KEY = "sandbox"
SANDBOX_BASE = "http://keepa-sandbox"
_markets: dict[tuple[Any, ...], Any] = {}
_lock = threading.Lock()


def configured_clock(settings: Settings) -> Clock | None:
    """The shared accelerated market clock (SANDBOX_CLOCK) of a sandbox run, if any."""
    spec = settings.sandbox_clock_spec
    if spec is None or settings.keepa_api_key:
        return None
    return ScaledClock(*spec)


def get_sandbox_market(settings: Settings | None = None, clock: Clock | None = None) -> Any:
    """The process-wide in-process SandboxMarket for these settings (created on first use)."""
    from tools.sandbox.keepa import SandboxMarket

    settings = settings or get_settings()
    key = (
        settings.sandbox_products,
        settings.sandbox_seed,
        settings.sandbox_refill_rate,
        settings.sandbox_speed,
        settings.sandbox_cache_products,
        id(clock) if clock else None,
    )
    with _lock:
        market = _markets.get(key)
        if market is None:
            clock = clock or configured_clock(settings)
            if clock is None:
                from tools.sandbox import time_shift

                base: Clock = (
                    ScaledClock(settings.sandbox_speed)
                    if settings.sandbox_speed != 1.0
                    else SystemClock()
                )
                # the world's time, moved on by `arbitrage sandbox advance` (every process
                # of the deployment reads its DATA_DIR's shift: tools/sandbox/time_shift.py)
                clock = ShiftedClock(base, lambda: time_shift.shift_s(get_settings().data_dir))
            market = SandboxMarket(
                n_products=settings.sandbox_products,
                seed=settings.sandbox_seed,
                refill_rate=settings.sandbox_refill_rate,
                clock=clock,
                cache_size=settings.sandbox_cache_products,
            )
            _markets[key] = market
        return market


def make_keepa_client(
    settings: Settings | None = None,
    *,
    purpose: KeepaPurpose = "processor",
    budget: TokenBudget | Literal["auto"] | None = "auto",
    market: Any = None,
    clock: Clock | None = None,
    transport: httpx.AsyncBaseTransport | None = None,
    **kwargs: Any,
) -> KeepaClient:
    """A KeepaClient for the configured Keepa (live or sandbox).

    budget="auto" uses the shared Redis budget when Redis is reachable and runs unbudgeted
    (429s are then waited out from Keepa's refillIn) when it is not.
    """
    from tools.redis_embedded import RedisUnavailable

    settings = settings or get_settings()
    if settings.keepa_api_key:
        base, key = settings.keepa_api_url, settings.keepa_api_key
    elif settings.keepa_sandbox_url:
        base, key = settings.keepa_sandbox_url, SANDBOX_KEY
        clock = clock or configured_clock(settings)  # the served market's time
    else:
        if transport is None:
            from tools.sandbox.keepa import create_app

            market = market or get_sandbox_market(settings, clock)
            transport = httpx.ASGITransport(app=create_app(market))
            clock = clock or market.clock
        base, key = SANDBOX_BASE, SANDBOX_KEY
    if budget == "auto":  # on the market's clock too: a faster sandbox refills faster
        try:
            budget = make_token_budget(settings, clock=clock)
        except RedisUnavailable as err:
            log.warning("Keepa token budget disabled (no Redis: %s)", err)
            budget = None
    return KeepaClient(
        api_key=key,
        base_url=base,
        domain_id=settings.keepa_domain_id,
        budget=budget,
        purpose=purpose,
        transport=transport,
        clock=clock,
        wait_deadline_s=settings.keepa_wait_deadline_s,
        **kwargs,
    )


def make_sync_keepa_client(settings: Settings | None = None, **kwargs: Any) -> SyncKeepaClient:
    """make_keepa_client wrapped for blocking callers (Celery tasks, CLI)."""
    return SyncKeepaClient(make_keepa_client(settings, **kwargs))
