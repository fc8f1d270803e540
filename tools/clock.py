"""Time as one injected dependency: the Keepa token budget, the workers' pipeline and the
simulated world (tools/sandbox) all read the same `Clock`.

Injecting the clock lets simulations run a market week in seconds and lets tests wait out a
429 without sleeping in wall time. Times are seconds since the Unix epoch (floats).
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Callable
from typing import Protocol


class Clock(Protocol):
    def now(self) -> float:
        """Current time in seconds since the epoch (market time for scaled/simulated clocks)."""
        ...

    def sleep(self, seconds: float) -> None:
        """Block for `seconds` of this clock's time."""
        ...

    async def asleep(self, seconds: float) -> None:
        """Async variant of sleep."""
        ...


class SystemClock:
    """Wall time: production."""

    def now(self) -> float:
        return time.time()

    def sleep(self, seconds: float) -> None:
        time.sleep(max(0.0, seconds))

    async def asleep(self, seconds: float) -> None:
        await asyncio.sleep(max(0.0, seconds))


class ScaledClock:
    """Market time running `speed` times faster than wall time from an anchor.

    Separate processes given the same (anchor_wall, anchor_market, speed) agree on market time,
    which is how a sped-up sandbox and budgets in worker processes stay in step.
    """

    def __init__(
        self,
        speed: float = 1.0,
        anchor_market: float | None = None,
        anchor_wall: float | None = None,
    ) -> None:
        if speed <= 0:
            raise ValueError("speed must be positive")
        self.speed = speed
        self.anchor_wall = time.time() if anchor_wall is None else anchor_wall
        self.anchor_market = self.anchor_wall if anchor_market is None else anchor_market

    def now(self) -> float:
        return self.anchor_market + (time.time() - self.anchor_wall) * self.speed

    def sleep(self, seconds: float) -> None:
        time.sleep(max(0.0, seconds) / self.speed)

    async def asleep(self, seconds: float) -> None:
        await asyncio.sleep(max(0.0, seconds) / self.speed)

    def spec(self) -> tuple[float, float, float]:
        """(speed, anchor_market, anchor_wall): enough to rebuild this clock in another process."""
        return (self.speed, self.anchor_market, self.anchor_wall)


class SimClock:
    """Simulation time that only moves when told to; sleeping advances it instantly.

    One SimClock shared by a sandbox market and the budgets of a simulated worker fleet runs a
    week of token accounting in simulation time.
    """

    def __init__(self, start: float | None = None) -> None:
        self._t = time.time() if start is None else float(start)
        self._lock = threading.Lock()

    def now(self) -> float:
        return self._t

    def advance(self, seconds: float) -> None:
        with self._lock:
            self._t += max(0.0, seconds)

    def set(self, t: float) -> None:
        with self._lock:
            self._t = max(self._t, t)

    def sleep(self, seconds: float) -> None:
        self.advance(seconds)

    async def asleep(self, seconds: float) -> None:
        self.advance(seconds)
        await asyncio.sleep(0)


class ShiftedClock:
    """Another clock moved forward by a shift read when asked (the sandbox's hand-made jumps,
    tools/sandbox/time_shift.py); sleeping is the base clock's."""

    def __init__(self, base: Clock, shift: Callable[[], float]) -> None:
        self.base = base
        self.shift = shift

    def now(self) -> float:
        return self.base.now() + self.shift()

    def sleep(self, seconds: float) -> None:
        self.base.sleep(seconds)

    async def asleep(self, seconds: float) -> None:
        await self.base.asleep(seconds)
