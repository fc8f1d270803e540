"""One SP-API GET, done right: a slot from the operation's shared usage-plan bucket, an LWA
access token, retries with backoff, and SP-API's errors turned into ours.

Each operation has its own Redis bucket per seller (`spapi:ratelimit:{seller}:{operation}`,
rate and burst from plans.py), shared by every process. A 429 empties that bucket (Amazon's
is emptier than ours thought) and is retried after exponential backoff with jitter, as SP-API's
usage-plan guide advises; 5xx and transport errors are retried the same way; Retry-After is
honoured when sent. A 403 for an expired or revoked token gets one fresh token and one more
try. A 400 is `SpApiInputError` (a caller may restart a walk whose nextToken expired); other
4xx are final. The waits run on an injected clock, so a bench can simulate hours of them.
"""

from __future__ import annotations

import logging
from typing import Any

import httpx
from redis.asyncio import Redis
from tenacity import (
    AsyncRetrying,
    RetryCallState,
    retry_if_exception_type,
    stop_after_attempt,
    wait_exponential_jitter,
)

from tools.clock import Clock, SystemClock
from tools.metrics import SPAPI_THROTTLES
from tools.restrictions.client import SellerCredentials
from tools.restrictions.errors import SpApiError
from tools.restrictions.lwa import LwaTokenProvider
from tools.restrictions.ratelimit import RateLimiter
from tools.spapi.plans import USAGE_PLANS, UsagePlan

log = logging.getLogger(__name__)

MAX_RETRY_AFTER_S = 60.0
MAX_BODY_BYTES = 20_000_000  # SP-API caps a finances page at 10 MB


class SpApiInputError(SpApiError):
    """SP-API answered 400 InvalidInput (a bad parameter, or a nextToken it no longer takes)."""


class _Retryable(Exception):
    def __init__(self, status: int | None, message: str, retry_after: float | None) -> None:
        super().__init__(message)
        self.status = status
        self.retry_after = retry_after


def error_text(resp: httpx.Response) -> str:
    """SP-API's {"errors": [{code, message, details}]} as one line."""
    try:
        body = resp.json()
        errors = body.get("errors") if isinstance(body, dict) else None
    except ValueError:
        errors = None
    if errors and isinstance(errors, list) and isinstance(errors[0], dict):
        e = errors[0]
        parts = [str(e.get(k) or "") for k in ("code", "message", "details")]
        return ": ".join(p for p in parts if p)[:500]
    return resp.reason_phrase or "error"


def _retry_after(resp: httpx.Response) -> float | None:
    value = resp.headers.get("retry-after")
    if not value:
        return None
    try:
        return max(0.0, min(float(value), MAX_RETRY_AFTER_S))
    except ValueError:
        return None


class SpApiCaller:
    """GETs for one seller: `await caller.get("getOrders", "/orders/v0/orders", params)`."""

    def __init__(
        self,
        http: httpx.AsyncClient,
        endpoint: str,
        tokens: LwaTokenProvider,
        creds: SellerCredentials,
        redis: Redis | None,
        *,
        plans: dict[str, UsagePlan] | None = None,
        rate_wait_deadline_s: float = 120.0,
        max_attempts: int = 5,
        retry_base_s: float = 1.0,
        retry_max_s: float = 60.0,
        clock: Clock | None = None,
    ) -> None:
        self.http = http
        self.endpoint = endpoint.rstrip("/")
        self.tokens = tokens
        self.creds = creds
        self.redis = redis
        self.plans = plans or USAGE_PLANS
        self.rate_wait_deadline_s = rate_wait_deadline_s
        self.max_attempts = max_attempts
        self.clock: Clock = clock or SystemClock()
        self._backoff = wait_exponential_jitter(initial=retry_base_s, max=retry_max_s)
        self._limiters: dict[str, RateLimiter] = {}
        self.calls: dict[str, int] = {}  # requests sent per operation (retries included)
        self.throttled: dict[str, int] = {}  # 429s per operation

    def limiter(self, operation: str) -> RateLimiter | None:
        if self.redis is None:
            return None
        lim = self._limiters.get(operation)
        if lim is None:
            plan = self.plans[operation]
            lim = self._limiters[operation] = RateLimiter(
                self.redis,
                f"spapi:ratelimit:{self.creds.seller_id}:{operation}",
                plan.rate,
                plan.burst,
                # a slow plan's one slot may be a minute away: never give up before two
                max(self.rate_wait_deadline_s, 2.5 / plan.rate),
                clock=None if isinstance(self.clock, SystemClock) else self.clock,
            )
        return lim

    def _wait(self, state: RetryCallState) -> float:
        err = state.outcome.exception() if state.outcome else None
        if isinstance(err, _Retryable) and err.retry_after is not None:
            return err.retry_after
        return float(self._backoff(state))

    async def get(self, operation: str, path: str, params: dict[str, Any]) -> dict[str, Any]:
        """The JSON body of a successful GET; raises SpApiError (SpApiInputError on 400)."""
        try:
            async for attempt in AsyncRetrying(
                stop=stop_after_attempt(self.max_attempts),
                wait=self._wait,
                retry=retry_if_exception_type(_Retryable),
                sleep=self.clock.asleep,
                reraise=True,
            ):
                with attempt:
                    return await self._once(operation, path, params)
        except _Retryable as err:
            raise SpApiError(
                f"{operation}: {err} (after {self.max_attempts} attempts)", err.status
            ) from None
        raise AssertionError("unreachable")

    async def _once(self, operation: str, path: str, params: dict[str, Any]) -> dict[str, Any]:
        token = await self.tokens.access_token(self.creds.lwa)
        limiter = self.limiter(operation)
        for reauth in (False, True):
            if limiter is not None:
                await limiter.acquire()
            self.calls[operation] = self.calls.get(operation, 0) + 1
            try:
                resp = await self.http.get(
                    self.endpoint + path,
                    params=params,
                    headers={"x-amz-access-token": token, "accept": "application/json"},
                )
            except httpx.TransportError as err:
                raise _Retryable(None, f"unreachable: {err.__class__.__name__}", None) from None
            if resp.status_code == 403 and not reauth:
                log.info("SP-API refused the access token for %s; refreshing once", operation)
                token = await self.tokens.access_token(self.creds.lwa, reject=token)
                continue
            break
        status = resp.status_code
        if status == 429:
            self.throttled[operation] = self.throttled.get(operation, 0) + 1
            SPAPI_THROTTLES.labels("amazon").inc()
            if limiter is not None:
                await limiter.penalize()
            raise _Retryable(status, f"HTTP 429: {error_text(resp)}", _retry_after(resp))
        if status >= 500:
            raise _Retryable(status, f"HTTP {status}: {error_text(resp)}", _retry_after(resp))
        if status == 400:
            raise SpApiInputError(f"{operation}: HTTP 400: {error_text(resp)}", status)
        if status >= 400:
            raise SpApiError(f"{operation}: HTTP {status}: {error_text(resp)}", status)
        if len(resp.content) > MAX_BODY_BYTES:
            raise SpApiError(f"{operation}: answer too large ({len(resp.content)} bytes)")
        try:
            body = resp.json()
        except ValueError:
            raise _Retryable(status, "answered with invalid JSON", None) from None
        if not isinstance(body, dict):
            raise SpApiError(f"{operation}: answered with a JSON {type(body).__name__}")
        return body
