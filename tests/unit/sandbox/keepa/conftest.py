"""A small seeded market on a simulated clock, and its HTTP app as Keepa's clients see it."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from tools.clock import SimClock
from tools.sandbox.keepa import SandboxMarket, create_app

START = 1_780_000_000.0  # a fixed market "now" so tests are reproducible


@pytest.fixture
def clock() -> SimClock:
    return SimClock(START)


@pytest.fixture
def market(clock: SimClock) -> SandboxMarket:
    return SandboxMarket(n_products=600, seed=7, refill_rate=20, clock=clock)


@pytest.fixture
def http(market: SandboxMarket) -> Iterator[httpx.Client]:
    # the sync ASGI route: an httpx.Client over a WSGI-like shim is not available, so use the
    # async transport through a tiny sync facade
    import asyncio

    loop = asyncio.new_event_loop()
    client = httpx.AsyncClient(
        transport=httpx.ASGITransport(app=create_app(market)), base_url="http://sandbox"
    )

    class Facade:
        def get(self, path: str, **params: Any) -> httpx.Response:
            return loop.run_until_complete(client.get(path, params={"key": "k", **params}))

    yield Facade()  # type: ignore[misc]
    loop.run_until_complete(client.aclose())
    loop.close()
