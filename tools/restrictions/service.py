"""Check one ASIN for one user: reuse a fresh stored answer, else ask SP-API and store it.

Which credentials and which server: the user's own connected account (SPAPI_ENDPOINT), else
the deployment's SPAPI_* account, else, with no SP-API app configured at all, the restrictions
sandbox (in-process unless SPAPI_ENDPOINT points at a served one). In live mode a user with
no account gets a "connect your Amazon seller account" state, never a silent pending.
"""

from __future__ import annotations

import asyncio
import logging
import re
from collections.abc import Coroutine
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import timedelta
from types import TracebackType
from typing import Any, TypeVar
from urllib.parse import urlparse

import httpx
from redis.asyncio import Redis

from tools.db import session_scope
from tools.models import User
from tools.restrictions.client import SellerCredentials, SpApiClient
from tools.restrictions.conditions import DEFAULT_CONDITION, to_condition_type
from tools.restrictions.credentials import load_credentials, mark_reconnect_required
from tools.restrictions.errors import (
    NotConnected,
    RateLimitTimeout,
    ReconnectRequired,
    SpApiError,
)
from tools.restrictions.lwa import LwaCredentials, LwaTokenProvider
from tools.restrictions.ratelimit import RateLimiter
from tools.restrictions.store import (
    NOT_CONNECTED,
    RATE_LIMITED,
    RECONNECT_REQUIRED,
    SPAPI_ERROR,
    RestrictionResult,
    error_result,
    is_fresh,
    load_result,
    result_from_answer,
    upsert_result,
)
from tools.sandbox import spapi as sandbox
from tools.settings import Settings, get_settings

log = logging.getLogger(__name__)

DEFAULT_MAX_AGE = timedelta(days=7)
DEFAULT_SPAPI_ENDPOINT = "https://sellingpartnerapi-na.amazon.com"
DEFAULT_LWA_URL = "https://api.amazon.com/auth/o2/token"
IN_PROCESS_BASE = "http://restrictions-sandbox"
_ASIN = re.compile(r"^[A-Z0-9]{10}$")
T = TypeVar("T")


class InvalidRequest(ValueError):
    """Bad input to a check (unknown user, malformed ASIN, unknown condition)."""


def normalize_asin(asin: str) -> str:
    value = (asin or "").strip().upper()
    if not _ASIN.match(value):
        raise InvalidRequest(f"not an ASIN: {asin!r} (10 letters/digits, e.g. 0131103628)")
    return value


@dataclass(frozen=True)
class SpApiRoute:
    """Where and as whom to ask: credentials plus the two base URLs."""

    creds: SellerCredentials
    endpoint: str
    lwa_url: str
    in_process: bool
    source: str  # "user" | "env" | "sandbox"


def _lwa_url(settings: Settings, endpoint: str) -> str:
    # A non-Amazon endpoint is a served sandbox, which has its own token endpoint.
    host = urlparse(endpoint).hostname or ""
    if settings.spapi_lwa_url == DEFAULT_LWA_URL and not host.endswith("amazon.com"):
        return endpoint.rstrip("/") + sandbox.LWA_PATH
    return settings.spapi_lwa_url


def resolve_route(session: Any, settings: Settings, user_id: int) -> SpApiRoute:
    """Pick credentials and server for a user; raises ReconnectRequired or NotConnected."""
    stored = load_credentials(session, settings, user_id)
    if stored is not None:
        cid = stored.client_id or settings.spapi_client_id
        secret = stored.client_secret or settings.spapi_client_secret
        if not (cid and secret):
            raise NotConnected(
                "connect your Amazon seller account with the LWA client id and secret "
                "(arbitrage restrictions connect NAME ... --client-id ... --client-secret ...) "
                "or set SPAPI_CLIENT_ID/SPAPI_CLIENT_SECRET"
            )
        creds = SellerCredentials(
            stored.seller_id, LwaCredentials(cid, secret, stored.refresh_token)
        )
        endpoint = settings.spapi_endpoint
        return SpApiRoute(creds, endpoint, _lwa_url(settings, endpoint), False, "user")
    if (
        settings.spapi_client_id
        and settings.spapi_client_secret
        and settings.spapi_refresh_token
        and settings.spapi_seller_id
    ):
        creds = SellerCredentials(
            settings.spapi_seller_id,
            LwaCredentials(
                settings.spapi_client_id, settings.spapi_client_secret, settings.spapi_refresh_token
            ),
        )
        endpoint = settings.spapi_endpoint
        return SpApiRoute(creds, endpoint, _lwa_url(settings, endpoint), False, "env")
    if settings.spapi_mode == "sandbox":
        creds = SellerCredentials(
            sandbox.SANDBOX_SELLER_ID,
            LwaCredentials(
                sandbox.SANDBOX_CLIENT_ID,
                sandbox.SANDBOX_CLIENT_SECRET,
                settings.spapi_refresh_token or sandbox.SANDBOX_REFRESH_TOKEN,
            ),
        )
        if settings.spapi_endpoint == DEFAULT_SPAPI_ENDPOINT:
            return SpApiRoute(
                creds, IN_PROCESS_BASE, IN_PROCESS_BASE + sandbox.LWA_PATH, True, "sandbox"
            )
        endpoint = settings.spapi_endpoint
        return SpApiRoute(creds, endpoint, _lwa_url(settings, endpoint), False, "sandbox")
    raise NotConnected(
        "connect your Amazon seller account first "
        "(arbitrage restrictions connect NAME --seller-id ...)"
    )


_embedded_sandbox: Any = None


def embedded_sandbox_app() -> Any:
    """This process's in-process restrictions sandbox (the embedded default)."""
    global _embedded_sandbox
    if _embedded_sandbox is None:
        _embedded_sandbox = sandbox.make_restrictions_sandbox_app()
    return _embedded_sandbox


class RestrictionChecker:
    """Holds the HTTP clients, Redis, token provider and rate limiter for many checks."""

    def __init__(
        self,
        settings: Settings | None = None,
        *,
        redis_url: str | None = None,
        sandbox_app: Any = None,
    ) -> None:
        self.settings = settings or get_settings()
        self._redis_url = redis_url
        self._sandbox_app = sandbox_app
        self.redis: Redis | None = None
        self._http: httpx.AsyncClient | None = None
        self._local_http: httpx.AsyncClient | None = None

    async def __aenter__(self) -> RestrictionChecker:
        from tools.redis_embedded import redis_url

        # Generous timeouts: a busy shared Redis should slow checks down, not fail them.
        self.redis = Redis.from_url(
            self._redis_url or redis_url(self.settings),
            socket_connect_timeout=15,
            socket_timeout=30,
        )
        self._http = httpx.AsyncClient(timeout=self.settings.spapi_timeout_s)
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        for client in (self._http, self._local_http):
            if client is not None:
                await client.aclose()
        if self.redis is not None:
            await self.redis.aclose()

    def _http_for(self, route: SpApiRoute) -> httpx.AsyncClient:
        if not route.in_process:
            assert self._http is not None, "use RestrictionChecker as an async context manager"
            return self._http
        if self._local_http is None:
            app = self._sandbox_app or embedded_sandbox_app()
            self._local_http = httpx.AsyncClient(
                transport=httpx.ASGITransport(app=app), timeout=self.settings.spapi_timeout_s
            )
        return self._local_http

    def client_for(self, route: SpApiRoute) -> SpApiClient:
        s = self.settings
        http = self._http_for(route)
        tokens = LwaTokenProvider(http, route.lwa_url, self.redis, s.resolved_secret_key())
        assert self.redis is not None
        limiter = RateLimiter(
            self.redis,
            f"spapi:ratelimit:{route.creds.seller_id}",
            s.spapi_rate_per_s,
            s.spapi_burst,
            s.spapi_rate_wait_deadline_s,
        )
        return SpApiClient(
            http,
            route.endpoint,
            tokens,
            limiter,
            marketplace_id=s.spapi_marketplace_id,
            max_attempts=s.spapi_max_attempts,
            retry_base_s=s.spapi_retry_base_s,
            retry_max_s=s.spapi_retry_max_s,
        )

    async def check(
        self,
        user_id: int,
        asin: str,
        condition: str | int | None = DEFAULT_CONDITION,
        *,
        max_age: timedelta = DEFAULT_MAX_AGE,
        force: bool = False,
    ) -> RestrictionResult:
        """The user's answer for one ASIN and condition, stored before it is returned."""
        asin = normalize_asin(asin)
        try:
            cond = to_condition_type(condition)
        except ValueError as err:
            raise InvalidRequest(str(err)) from None
        with session_scope(self.settings) as session:
            if session.get(User, user_id) is None:
                raise InvalidRequest(f"no user with id {user_id}")
            if not force:
                cached = load_result(session, user_id, asin, cond)
                if cached is not None and is_fresh(cached, max_age):
                    return cached
            try:
                route: SpApiRoute | None = resolve_route(session, self.settings, user_id)
                early: RestrictionResult | None = None
            except ReconnectRequired as err:
                route, early = None, error_result(asin, cond, RECONNECT_REQUIRED, str(err))
            except NotConnected as err:
                route, early = None, error_result(asin, cond, NOT_CONNECTED, str(err))
            if early is not None:
                upsert_result(session, user_id, early)
                return early
        assert route is not None
        reconnect = False
        try:
            answer = await self.client_for(route).get_restrictions(route.creds, asin, cond)
            result = result_from_answer(answer)
        except ReconnectRequired as err:
            reconnect = route.source == "user"
            result = error_result(asin, cond, RECONNECT_REQUIRED, str(err))
        except RateLimitTimeout as err:
            result = error_result(asin, cond, RATE_LIMITED, str(err))
        except SpApiError as err:
            result = error_result(asin, cond, SPAPI_ERROR, str(err))
        if result.status == -1:
            log.warning("restriction check user=%s asin=%s: %s", user_id, asin, result.message)
        with session_scope(self.settings) as session:
            upsert_result(session, user_id, result)
            if reconnect:
                mark_reconnect_required(session, user_id, result.message or "")
        return result


async def check_restriction(
    settings: Settings | None,
    user_id: int,
    asin: str,
    condition: str | int | None = DEFAULT_CONDITION,
    max_age: timedelta = DEFAULT_MAX_AGE,
    *,
    force: bool = False,
) -> RestrictionResult:
    """The agent tool's entry point: can this user list this ASIN in this condition?"""
    async with RestrictionChecker(settings) as checker:
        return await checker.check(user_id, asin, condition, max_age=max_age, force=force)


def run_sync(coro: Coroutine[Any, Any, T]) -> T:
    """Run a coroutine from sync code, also when the caller already runs an event loop."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(coro)
    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(asyncio.run, coro).result()


def check_restriction_sync(
    settings: Settings | None,
    user_id: int,
    asin: str,
    condition: str | int | None = DEFAULT_CONDITION,
    max_age: timedelta = DEFAULT_MAX_AGE,
    *,
    force: bool = False,
) -> RestrictionResult:
    """`check_restriction` for sync callers (Celery tasks, CLI, sync LangChain tools)."""
    return run_sync(check_restriction(settings, user_id, asin, condition, max_age, force=force))
