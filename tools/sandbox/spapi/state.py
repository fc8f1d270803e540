"""What every SP-API sandbox endpoint shares: its configuration, the faults it injects, the
requests it saw, the access tokens it signs and checks, each operation's usage plan, the
sellers' world, and SP-API's error body.

Access tokens are HMAC-signed with an expiry and the seller they were issued for, so any
sandbox instance (every worker process has its own in-process one) accepts a token another
instance issued and knows whose data it may show. Token expiry and usage plans run on the
sandbox's clock (the simulated world's one; wall time by default).
"""

from __future__ import annotations

import hashlib
import hmac
import random
import secrets
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from starlette.responses import JSONResponse

from tools.clock import Clock, SystemClock
from tools.sandbox.spapi.fulfilment import Shipment
from tools.sandbox.spapi.history import HistorySpec
from tools.sandbox.spapi.world import SellerWorld
from tools.spapi.plans import USAGE_PLANS, UsagePlan

BAD_REFRESH_TOKEN = "Atzr|revoked-refresh-token"
_TOKEN_PREFIX = "Atza|sbx."


@dataclass
class SandboxConfig:
    """How the sandbox behaves; every field has the embedded default's value."""

    seed: int = 0
    token_ttl_s: int = 3600
    signing_key: str = "agent-arbitrage-restrictions-sandbox"
    bad_refresh_tokens: frozenset[str] = frozenset({BAD_REFRESH_TOKEN})
    # asin -> HTTP statuses answered on that ASIN's next calls, before the normal answer.
    fault_plan: dict[str, list[int]] = field(default_factory=dict)
    rate_429: float = 0.0
    rate_500: float = 0.0
    retry_after_s: float | None = None  # sent with 429s when set
    latency_s: float = 0.0
    clock: Clock = field(default_factory=SystemClock)  # token expiry, usage plans, the world
    # operation -> usage plan enforced per seller (429 QuotaExceeded past it); None: not enforced
    usage_plans: dict[str, UsagePlan] | None = field(default_factory=lambda: dict(USAGE_PLANS))
    # operation -> seconds a nextToken stays valid (getInventorySummaries: 30 s, documented)
    next_token_ttl_s: dict[str, float] = field(
        default_factory=lambda: {"getInventorySummaries": 30.0}
    )
    # the Keepa SandboxMarket whose sales sell the units sellers send in (None: they never sell)
    market: Any = None
    # seller id -> the seeded history it starts with
    histories: dict[str, HistorySpec] = field(default_factory=dict)
    # seller id -> the units that seller sent in (e.g. read from the app's purchases)
    shipments: Callable[[str], Sequence[Shipment]] | None = None


@dataclass
class RecordedRequest:
    at: float  # time.monotonic() when the request arrived
    asin: str | None
    status: int
    operation: str = "getListingsRestrictions"


class SandboxState:
    """Mutable server state: the fault plan being consumed and what was asked (for tests)."""

    def __init__(self, config: SandboxConfig) -> None:
        self.config = config
        self.requests: list[RecordedRequest] = []
        self.token_requests = 0
        self._lock = threading.Lock()
        self._rng = random.Random(config.seed)
        self._plan = {asin: list(codes) for asin, codes in config.fault_plan.items()}
        self._buckets: dict[tuple[str, str], tuple[float, float]] = {}
        self.world = SellerWorld(
            config.clock, config.market, dict(config.histories), config.shipments
        )

    def inject(self, asin: str, *statuses: int) -> None:
        with self._lock:
            self._plan.setdefault(asin, []).extend(statuses)

    def next_fault(self, asin: str) -> int | None:
        with self._lock:
            planned = self._plan.get(asin)
            if planned:
                return planned.pop(0)
            roll = self._rng.random()
        if roll < self.config.rate_429:
            return 429
        if roll < self.config.rate_429 + self.config.rate_500:
            return 500
        return None

    def record(
        self, asin: str | None, status: int, operation: str = "getListingsRestrictions"
    ) -> None:
        with self._lock:
            self.requests.append(RecordedRequest(time.monotonic(), asin, status, operation))

    def calls_with(self, status: int) -> dict[str, int]:
        """Requests answered with `status`, per operation."""
        out: dict[str, int] = {}
        with self._lock:
            for r in self.requests:
                if r.status == status:
                    out[r.operation] = out.get(r.operation, 0) + 1
        return out

    def calls(self, operation: str, status: int | None = None) -> int:
        """How many requests for `operation` (with `status`) the sandbox answered."""
        with self._lock:
            return sum(
                1
                for r in self.requests
                if r.operation == operation and (status is None or r.status == status)
            )

    def within_plan(self, seller_id: str, operation: str) -> bool:
        """Take one request from the seller's bucket for this operation (rate + burst on the
        sandbox's clock, as SP-API's usage plans work); False: SP-API would answer 429."""
        plans = self.config.usage_plans
        plan = plans.get(operation) if plans is not None else None
        if plan is None:
            return True
        now = self.config.clock.now()
        with self._lock:
            tokens, at = self._buckets.get((seller_id, operation), (float(plan.burst), now))
            tokens = min(float(plan.burst), tokens + max(0.0, now - at) * plan.rate)
            ok = tokens >= 1.0
            self._buckets[(seller_id, operation)] = (tokens - 1.0 if ok else tokens, now)
        return ok

    # ---- tokens ---------------------------------------------------------------------------

    def sign(self, payload: str) -> str:
        key = self.config.signing_key.encode()
        return hmac.new(key, payload.encode(), hashlib.sha256).hexdigest()[:40]

    def issue_token(self, seller_id: str = "") -> str:
        """An access token for one seller (the one whose refresh token was presented)."""
        expires = int(self.config.clock.now()) + self.config.token_ttl_s
        payload = f"{expires}.{secrets.token_hex(8)}.{seller_id}"
        return f"{_TOKEN_PREFIX}{payload}.{self.sign(payload)}"

    def _payload(self, token: str | None) -> str | None:
        if not token or not token.startswith(_TOKEN_PREFIX):
            return None
        payload, _, sig = token[len(_TOKEN_PREFIX) :].rpartition(".")
        return payload if hmac.compare_digest(sig, self.sign(payload)) else None

    def token_problem(self, token: str | None) -> str | None:
        """None when the token is valid, else SP-API's `details` text for the 403."""
        payload = self._payload(token)
        if payload is None:
            return "The access token you provided is invalid."
        try:
            expires = int(payload.split(".", 1)[0])
        except ValueError:
            return "The access token you provided is invalid."
        if expires <= self.config.clock.now():
            return "The access token you provided has expired."
        return None

    def token_seller(self, token: str | None) -> str:
        """The seller a valid token was issued for ("" for tokens that name none)."""
        payload = self._payload(token) or ""
        parts = payload.split(".")
        return parts[2] if len(parts) > 2 else ""


def error_response(
    status: int, code: str, message: str, details: str = "", headers: dict[str, str] | None = None
) -> JSONResponse:
    """SP-API's error body: {"errors": [{code, message, details}]}."""
    return JSONResponse(
        {"errors": [{"code": code, "message": message, "details": details}]},
        status_code=status,
        headers=headers,
    )
