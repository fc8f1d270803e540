"""The SP-API listings restrictions client: one ASIN and condition per call.

Every request first takes a slot from the shared rate limiter, carries an LWA access token,
and is retried with backoff on 429 and 5xx (honouring Retry-After). A 403 for an expired or
invalid token gets one fresh token and one more try. Other 4xx are final.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urljoin

import httpx
from tenacity import (
    AsyncRetrying,
    RetryCallState,
    retry_if_exception_type,
    stop_after_attempt,
    wait_exponential_jitter,
)

from tools.metrics import SPAPI_REQUESTS, SPAPI_THROTTLES, status_class
from tools.restrictions.errors import SpApiError
from tools.restrictions.lwa import LwaCredentials, LwaTokenProvider
from tools.restrictions.ratelimit import RateLimiter

log = logging.getLogger(__name__)

RESTRICTIONS_PATH = "/listings/2021-08-01/restrictions"
SELLER_CENTRAL = "https://sellercentral.amazon.com"
MAX_RETRY_AFTER_S = 30.0


@dataclass(frozen=True)
class SellerCredentials:
    seller_id: str
    lwa: LwaCredentials


@dataclass(frozen=True)
class RestrictionReason:
    reason_code: str
    message: str
    approval_url: str | None = None


@dataclass(frozen=True)
class RestrictionsAnswer:
    """What SP-API said for one ASIN and condition: no reasons means the seller may list."""

    asin: str
    condition_type: str
    reasons: list[RestrictionReason] = field(default_factory=list)


class _Retryable(Exception):
    def __init__(self, status: int | None, message: str, retry_after: float | None) -> None:
        super().__init__(message)
        self.status = status
        self.retry_after = retry_after


def _retry_after(resp: httpx.Response) -> float | None:
    value = resp.headers.get("retry-after")
    if not value:
        return None
    try:
        return max(0.0, min(float(value), MAX_RETRY_AFTER_S))
    except ValueError:
        return None  # an HTTP date: rare for SP-API; fall back to our backoff


def _error_text(resp: httpx.Response) -> str:
    try:
        errors = resp.json().get("errors") or []
    except ValueError:
        errors = []
    if errors:
        e = errors[0]
        parts = [str(e.get("code") or ""), str(e.get("message") or ""), str(e.get("details") or "")]
        return ": ".join(p for p in parts if p)
    return resp.reason_phrase or "error"


def parse_answer(
    asin: str, condition_type: str, body: dict[str, Any], marketplace_id: str
) -> RestrictionsAnswer:
    """Flatten `restrictions[].reasons[]` for our marketplace into reasons with one URL each."""
    reasons: list[RestrictionReason] = []
    for restriction in body.get("restrictions") or []:
        if restriction.get("marketplaceId") not in (None, marketplace_id):
            continue
        for reason in restriction.get("reasons") or []:
            url = None
            for link in reason.get("links") or []:
                if link.get("resource") and str(link.get("verb", "GET")).upper() == "GET":
                    url = urljoin(SELLER_CENTRAL + "/", str(link["resource"]))
                    break
            reasons.append(
                RestrictionReason(
                    reason_code=str(reason.get("reasonCode") or "UNKNOWN"),
                    message=str(reason.get("message") or ""),
                    approval_url=url,
                )
            )
    return RestrictionsAnswer(asin, condition_type, reasons)


class SpApiClient:
    """GET /listings/2021-08-01/restrictions with rate limit, LWA token and retries."""

    def __init__(
        self,
        http: httpx.AsyncClient,
        endpoint: str,
        tokens: LwaTokenProvider,
        limiter: RateLimiter | None,
        *,
        marketplace_id: str = "ATVPDKIKX0DER",
        max_attempts: int = 5,
        retry_base_s: float = 0.5,
        retry_max_s: float = 20.0,
    ) -> None:
        self.http = http
        self.endpoint = endpoint.rstrip("/")
        self.tokens = tokens
        self.limiter = limiter
        self.marketplace_id = marketplace_id
        self.max_attempts = max_attempts
        self._backoff = wait_exponential_jitter(initial=retry_base_s, max=retry_max_s)

    def _wait(self, state: RetryCallState) -> float:
        err = state.outcome.exception() if state.outcome else None
        if isinstance(err, _Retryable) and err.retry_after is not None:
            return err.retry_after
        return float(self._backoff(state))

    async def get_restrictions(
        self, creds: SellerCredentials, asin: str, condition_type: str
    ) -> RestrictionsAnswer:
        try:
            async for attempt in AsyncRetrying(
                stop=stop_after_attempt(self.max_attempts),
                wait=self._wait,
                retry=retry_if_exception_type(_Retryable),
                reraise=True,
            ):
                with attempt:
                    return await self._once(creds, asin, condition_type)
        except _Retryable as err:
            raise SpApiError(f"{err} (after {self.max_attempts} attempts)", err.status) from None
        raise AssertionError("unreachable")

    async def _once(
        self, creds: SellerCredentials, asin: str, condition_type: str
    ) -> RestrictionsAnswer:
        params = {
            "asin": asin,
            "sellerId": creds.seller_id,
            "marketplaceIds": self.marketplace_id,
            "conditionType": condition_type,
        }
        token = await self.tokens.access_token(creds.lwa)
        for reauth in (False, True):
            if self.limiter is not None:
                await self.limiter.acquire()
            try:
                resp = await self.http.get(
                    self.endpoint + RESTRICTIONS_PATH,
                    params=params,
                    headers={"x-amz-access-token": token, "accept": "application/json"},
                )
            except httpx.TransportError as err:
                SPAPI_REQUESTS.labels("transport").inc()
                raise _Retryable(
                    None, f"SP-API unreachable: {err.__class__.__name__}", None
                ) from None
            SPAPI_REQUESTS.labels(status_class(resp.status_code)).inc()
            if resp.status_code == 403 and not reauth:
                # Expired or revoked access token: take a fresh one once, then try again.
                log.info("SP-API refused the access token; refreshing once")
                token = await self.tokens.access_token(creds.lwa, reject=token)
                continue
            break
        status = resp.status_code
        if status == 429:
            SPAPI_THROTTLES.labels("amazon").inc()
        if status == 429 or status >= 500:
            raise _Retryable(
                status, f"SP-API HTTP {status}: {_error_text(resp)}", _retry_after(resp)
            )
        if status >= 400:
            raise SpApiError(f"SP-API HTTP {status}: {_error_text(resp)}", status)
        try:
            body = resp.json()
        except ValueError:
            raise _Retryable(status, "SP-API answered with invalid JSON", None) from None
        return parse_answer(asin, condition_type, body, self.marketplace_id)
