"""What every SP-API sandbox endpoint shares: its configuration, the faults it injects, the
requests it saw, the access tokens it signs and checks, and SP-API's error body.

Access tokens are HMAC-signed with an expiry, so any sandbox instance (every worker process
has its own in-process one) accepts a token another instance issued. Token expiry runs on the
sandbox's clock (the simulated world's one; wall time by default).
"""

from __future__ import annotations

import hashlib
import hmac
import random
import secrets
import threading
import time
from dataclasses import dataclass, field

from starlette.responses import JSONResponse

from tools.clock import Clock, SystemClock

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
    clock: Clock = field(default_factory=SystemClock)  # access-token expiry


@dataclass
class RecordedRequest:
    at: float  # time.monotonic() when the request arrived
    asin: str | None
    status: int


class SandboxState:
    """Mutable server state: the fault plan being consumed and what was asked (for tests)."""

    def __init__(self, config: SandboxConfig) -> None:
        self.config = config
        self.requests: list[RecordedRequest] = []
        self.token_requests = 0
        self._lock = threading.Lock()
        self._rng = random.Random(config.seed)
        self._plan = {asin: list(codes) for asin, codes in config.fault_plan.items()}

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

    def record(self, asin: str | None, status: int) -> None:
        with self._lock:
            self.requests.append(RecordedRequest(time.monotonic(), asin, status))

    # ---- tokens ---------------------------------------------------------------------------

    def _sign(self, payload: str) -> str:
        key = self.config.signing_key.encode()
        return hmac.new(key, payload.encode(), hashlib.sha256).hexdigest()[:40]

    def issue_token(self) -> str:
        expires = int(self.config.clock.now()) + self.config.token_ttl_s
        payload = f"{expires}.{secrets.token_hex(8)}"
        return f"{_TOKEN_PREFIX}{payload}.{self._sign(payload)}"

    def token_problem(self, token: str | None) -> str | None:
        """None when the token is valid, else SP-API's `details` text for the 403."""
        if not token or not token.startswith(_TOKEN_PREFIX):
            return "The access token you provided is invalid."
        payload, _, sig = token[len(_TOKEN_PREFIX) :].rpartition(".")
        if not hmac.compare_digest(sig, self._sign(payload)):
            return "The access token you provided is invalid."
        try:
            expires = int(payload.split(".", 1)[0])
        except ValueError:
            return "The access token you provided is invalid."
        if expires <= self.config.clock.now():
            return "The access token you provided has expired."
        return None


def error_response(
    status: int, code: str, message: str, details: str = "", headers: dict[str, str] | None = None
) -> JSONResponse:
    """SP-API's error body: {"errors": [{code, message, details}]}."""
    return JSONResponse(
        {"errors": [{"code": code, "message": message, "details": details}]},
        status_code=status,
        headers=headers,
    )
