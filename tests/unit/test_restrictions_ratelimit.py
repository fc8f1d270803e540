"""The Redis token bucket: a burst, then the steady rate, and a deadline instead of forever."""

from __future__ import annotations

import time

import pytest
from redis.asyncio import Redis

from tools.restrictions.errors import RateLimitTimeout
from tools.restrictions.ratelimit import RateLimiter


async def test_burst_then_rate(redis_url: str) -> None:
    redis = Redis.from_url(redis_url)
    try:
        limiter = RateLimiter(redis, "test:bucket", rate=5, burst=10)
        assert [await limiter.try_acquire() for _ in range(10)] == [0.0] * 10
        wait = await limiter.try_acquire()
        assert 0.15 <= wait <= 0.2
        start = time.monotonic()
        for _ in range(3):
            await limiter.acquire()
        assert 0.5 <= time.monotonic() - start <= 1.2  # 3 tokens at 5/s (first one partly due)
    finally:
        await redis.aclose()


async def test_deadline_raises_instead_of_waiting_forever(redis_url: str) -> None:
    redis = Redis.from_url(redis_url)
    try:
        limiter = RateLimiter(redis, "test:slow", rate=0.1, burst=1, deadline_s=0.5)
        await limiter.acquire()
        with pytest.raises(RateLimitTimeout):
            await limiter.acquire()
    finally:
        await redis.aclose()
