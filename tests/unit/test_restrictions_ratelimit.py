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
        limiter = RateLimiter(redis, "test:bucket", rate=1, burst=3)
        assert [await limiter.try_acquire() for _ in range(3)] == [0.0] * 3
        # empty: the next token is up to 1 s away, plus the 1 ms of refill the limiter holds back
        assert 0 < await limiter.try_acquire() <= 1.001
        steady = RateLimiter(redis, "test:steady", rate=5, burst=1)
        await steady.acquire()
        start = time.monotonic()
        for _ in range(3):
            await steady.acquire()
        assert 0.5 <= time.monotonic() - start <= 5  # 3 more tokens at 5/s, never faster
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
