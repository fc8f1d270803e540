"""Keepa's token bucket as the sandbox enforces it (docs/domain.md "Token bucket", to the token).

Refill happens on whole market minutes at `rate`; the bucket holds at most 60 x rate (older
tokens expire); a request is served while the balance is positive, even if its cost takes the
balance negative; at <= 0 the answer is HTTP 429 NOT_ENOUGH_TOKEN.
"""

from __future__ import annotations

import math
import threading
from typing import Any

from tools.clock import Clock


class TokenBucket:
    def __init__(
        self, rate: int, clock: Clock, initial: int | None = None, cap_minutes: int = 60
    ) -> None:
        self.rate = rate
        self.clock = clock
        self.cap = rate * cap_minutes
        self.tokens = self.cap if initial is None else initial
        self._minute = math.floor(clock.now() / 60)
        self._lock = threading.Lock()
        self.min_seen = self.tokens
        self.rejected = 0  # 429s answered
        self.consumed = 0
        self.requests = 0

    def _refill(self) -> None:
        minute = math.floor(self.clock.now() / 60)
        if minute > self._minute:
            if self.tokens < self.cap:
                self.tokens = min(self.cap, self.tokens + (minute - self._minute) * self.rate)
            self._minute = minute

    def balance(self) -> int:
        with self._lock:
            self._refill()
            return self.tokens

    def try_start(self) -> bool:
        """True if a request may be served now (balance positive)."""
        with self._lock:
            self._refill()
            self.requests += 1
            if self.tokens <= 0:
                self.rejected += 1
                return False
            return True

    def charge(self, cost: int) -> None:
        with self._lock:
            self._refill()
            self.tokens -= cost
            self.consumed += cost
            self.min_seen = min(self.min_seen, self.tokens)

    def set_balance(self, tokens: int) -> None:
        """Test hook: force the balance (e.g. to provoke a 429)."""
        with self._lock:
            self._refill()
            self.tokens = tokens
            self.min_seen = min(self.min_seen, tokens)

    def envelope(self, consumed: int, processing_ms: int = 0) -> dict[str, Any]:
        with self._lock:
            self._refill()
            now = self.clock.now()
            refill_in = int(((self._minute + 1) * 60 - now) * 1000)
            return {
                "timestamp": int(now * 1000),
                "tokensLeft": int(self.tokens),
                "refillIn": max(0, refill_in),
                "refillRate": self.rate,
                "tokenFlowReduction": 0.0,
                "tokensConsumed": consumed,
                "processingTimeInMs": processing_ms,
            }
