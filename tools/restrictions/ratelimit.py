"""An SP-API usage plan (restrictions: 5 requests/s, burst 10; each operation has its own,
tools/spapi/plans.py) as one Redis token bucket shared by every process, so many workers
together never exceed what Amazon allows.

The bucket is refilled and spent in one Lua script using the Redis server's clock: atomic,
and immune to clock skew between machines. A simulation passes its own clock instead (the
sandbox world's), so a bench can run hours of rate-limited calls in simulated time. Waiting
blocks until a token is granted or the deadline passes; it never fails fast into a 429 storm.
A 429 empties the bucket (`penalize`): Amazon's bucket is emptier than ours thought, so every
process waits for a refill instead of trying again at once.
"""

from __future__ import annotations

import asyncio
import random
import time

from redis.asyncio import Redis

from tools import shutdown
from tools.clock import Clock
from tools.metrics import SPAPI_THROTTLES
from tools.restrictions.errors import RateLimitTimeout

# KEYS[1] bucket; ARGV rate/s, burst[, now in µs]. Returns 0 when a token was taken, else ms
# to wait. Without ARGV[3] the Redis server's clock is the time. Refill is credited up to 1 ms
# ago, so rounding never lets us ask a moment before Amazon's own bucket has the token; the
# state is written with every digit (tostring's 14 would round a µs clock to 100 µs).
_TOKEN_BUCKET = """
local rate = tonumber(ARGV[1])
local burst = tonumber(ARGV[2])
local now
if ARGV[3] then
  now = tonumber(ARGV[3])
else
  local t = redis.call('TIME')
  now = tonumber(t[1]) * 1000000 + tonumber(t[2])
end
local data = redis.call('HMGET', KEYS[1], 'tokens', 'ts')
local tokens = tonumber(data[1])
local ts = tonumber(data[2])
if tokens == nil or ts == nil then
  tokens = burst
  ts = now
end
local credited = now - 1000
if credited > ts then
  tokens = math.min(burst, tokens + (credited - ts) * rate / 1000000)
  ts = credited
end
local wait = 0
if tokens >= 1 then
  tokens = tokens - 1
else
  wait = math.ceil((1 - tokens) * 1000 / rate) + 1
end
redis.call('HSET', KEYS[1], 'tokens', string.format('%.17g', tokens),
  'ts', string.format('%.0f', ts))
redis.call('PEXPIRE', KEYS[1], math.ceil(burst * 1000 / rate) + 1000)
return wait
"""

# KEYS[1] bucket; ARGV rate/s, burst[, now in µs]: no tokens left as of now.
_EMPTY = """
local rate = tonumber(ARGV[1])
local burst = tonumber(ARGV[2])
local now
if ARGV[3] then
  now = tonumber(ARGV[3])
else
  local t = redis.call('TIME')
  now = tonumber(t[1]) * 1000000 + tonumber(t[2])
end
redis.call('HSET', KEYS[1], 'tokens', '0', 'ts', string.format('%.0f', now))
redis.call('PEXPIRE', KEYS[1], math.ceil(burst * 1000 / rate) + 1000)
return 0
"""


class RateLimiter:
    """A Redis token bucket; `acquire()` waits for one request's worth of quota."""

    def __init__(
        self,
        redis: Redis,
        key: str,
        rate: float = 5.0,
        burst: int = 10,
        deadline_s: float = 60.0,
        *,
        clock: Clock | None = None,
    ) -> None:
        if rate <= 0 or burst < 1:
            raise ValueError("rate must be > 0 and burst >= 1")
        self.redis = redis
        self.key = key
        self.rate = rate
        self.burst = burst
        self.deadline_s = deadline_s
        self.clock = clock
        self._script = redis.register_script(_TOKEN_BUCKET)
        self._empty = redis.register_script(_EMPTY)

    def _args(self) -> list[float | int]:
        args: list[float | int] = [self.rate, self.burst]
        if self.clock is not None:
            args.append(int(self.clock.now() * 1_000_000))
        return args

    def _now(self) -> float:
        return self.clock.now() if self.clock is not None else time.monotonic()

    async def try_acquire(self) -> float:
        """Take a token if one is there: 0.0, else the seconds until one will be."""
        wait_ms = await self._script(keys=[self.key], args=self._args())
        return int(wait_ms) / 1000

    async def penalize(self) -> None:
        """SP-API answered 429: empty the shared bucket so every process waits for a refill."""
        await self._empty(keys=[self.key], args=self._args())

    async def acquire(self) -> float:
        """Block until a token is granted; returns the seconds waited (on the clock)."""
        start = self._now()
        first = True
        while True:
            wait = await self.try_acquire()
            if wait <= 0:
                return self._now() - start
            if first:  # one throttled call, however many times it polls
                SPAPI_THROTTLES.labels("limiter").inc()
                first = False
            waited = self._now() - start
            if waited + wait > self.deadline_s:
                raise RateLimitTimeout(
                    f"SP-API rate limit: no request slot within {self.deadline_s:.0f}s"
                )
            shutdown.check()  # a stopping worker puts the task back instead of waiting
            # A little jitter so many waiters do not all wake on the same millisecond.
            pause = wait + random.uniform(0, min(0.2, 0.2 / self.rate))
            if self.clock is not None:
                await self.clock.asleep(pause)
            else:
                await asyncio.sleep(pause)
