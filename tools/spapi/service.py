"""Sync one seller's Amazon data: the shell around the streams of sync.py that the Celery tasks
and `arbitrage seller sync` share.

It resolves where and as whom to ask (factory.py), builds the HTTP client, the shared Redis
(usage-plan buckets, LWA token cache) and the caller, holds a per-seller-and-stream Redis lock
(another run of the same stream returns at once) renewed while the run lives, so a killed
holder's lock expires within SPAPI_SYNC_LOCK_TTL_S, and runs the streams. A rejected refresh
token marks the account "reconnect required", as for gating.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from dataclasses import dataclass, field
from types import TracebackType
from typing import Any

import httpx
from redis.asyncio import Redis
from redis.exceptions import LockError

from tools.clock import Clock, SystemClock
from tools.db import session_scope
from tools.restrictions.credentials import mark_reconnect_required
from tools.restrictions.errors import ReconnectRequired
from tools.restrictions.lwa import LwaTokenProvider
from tools.restrictions.service import SpApiRoute, run_sync
from tools.settings import Settings, get_settings
from tools.spapi import factory
from tools.spapi.client import SpApiCaller
from tools.spapi.sync import STREAMS, SyncContext, SyncOptions, SyncResult, run_stream

log = logging.getLogger(__name__)
LOCK_PREFIX = "arbitrage:lock:spapi-sync:"


def options_from(settings: Settings, max_seconds: float | None = -1.0) -> SyncOptions:
    """SyncOptions from the SPAPI_* settings (max_seconds=-1: the configured slice)."""
    return SyncOptions(
        history_days=settings.spapi_history_days,
        order_items_days=settings.spapi_order_items_days,
        finances_overlap_s=settings.spapi_finances_overlap_h * 3600,
        max_seconds=settings.spapi_sync_slice_s if max_seconds == -1.0 else max_seconds,
    )


@dataclass
class SellerRun:
    """What one call of `SellerSync.run` did: per stream a result, skipped, or an error."""

    user_id: int
    results: dict[str, SyncResult] = field(default_factory=dict)
    busy: list[str] = field(default_factory=list)  # another run held the stream's lock
    errors: dict[str, str] = field(default_factory=dict)

    @property
    def unfinished(self) -> list[str]:
        """Streams that stopped before catching up (run them again soon)."""
        return [s for s, r in self.results.items() if not r.done]

    def as_dict(self) -> dict[str, Any]:
        return {
            "user_id": self.user_id,
            "results": {k: v.as_dict() for k, v in self.results.items()},
            "busy": self.busy,
            "errors": self.errors,
        }


class SellerSync:
    """`async with SellerSync(settings) as s: await s.run(user_id)`."""

    def __init__(
        self,
        settings: Settings | None = None,
        *,
        redis_url: str | None = None,
        sandbox_app: Any = None,
        clock: Clock | None = None,
    ) -> None:
        self.settings = settings or get_settings()
        self._redis_url = redis_url
        self._sandbox_app = sandbox_app
        self._clock = clock
        self.redis: Redis | None = None
        self._http: httpx.AsyncClient | None = None
        self._local_http: httpx.AsyncClient | None = None

    async def __aenter__(self) -> SellerSync:
        from tools.redis_embedded import redis_url

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
            assert self._http is not None, "use SellerSync as an async context manager"
            return self._http
        if self._local_http is None:
            app = self._sandbox_app or factory.embedded_app(self.settings)
            self._local_http = httpx.AsyncClient(
                transport=httpx.ASGITransport(app=app), timeout=self.settings.spapi_timeout_s
            )
        return self._local_http

    def clock_for(self, route: SpApiRoute) -> Clock:
        """The sync's time: the simulated world's for the embedded sandbox, else wall time."""
        if self._clock is not None:
            return self._clock
        if route.in_process and self._sandbox_app is None:
            clock: Clock = factory.world_clock(self.settings)
            return clock
        return SystemClock()

    def caller_for(self, route: SpApiRoute) -> SpApiCaller:
        s = self.settings
        http = self._http_for(route)
        tokens = LwaTokenProvider(http, route.lwa_url, self.redis, s.resolved_secret_key())
        return SpApiCaller(
            http,
            route.endpoint,
            tokens,
            route.creds,
            self.redis,
            rate_wait_deadline_s=s.spapi_rate_wait_deadline_s,
            max_attempts=s.spapi_max_attempts,
            retry_base_s=s.spapi_retry_base_s,
            retry_max_s=s.spapi_retry_max_s,
            clock=self.clock_for(route),
        )

    async def run(
        self,
        user_id: int,
        streams: tuple[str, ...] = STREAMS,
        *,
        options: SyncOptions | None = None,
    ) -> SellerRun:
        """Sync the user's streams in turn from their checkpoints."""
        unknown = [s for s in streams if s not in STREAMS]
        if unknown:
            raise ValueError(f"unknown streams {unknown}; choose from {', '.join(STREAMS)}")
        options = options or options_from(self.settings)
        out = SellerRun(user_id)
        with session_scope(self.settings) as session:
            route = factory.seller_route(session, self.settings, user_id)
        caller = self.caller_for(route)
        assert self.redis is not None
        ttl = self.settings.spapi_sync_lock_ttl_s
        for stream in streams:
            lock = self.redis.lock(f"{LOCK_PREFIX}{user_id}:{stream}", timeout=ttl, blocking=False)
            if not await lock.acquire():
                out.busy.append(stream)
                continue
            lost = asyncio.Event()
            renewer = asyncio.create_task(_keep(lock, ttl, lost))
            try:
                ctx = SyncContext(
                    caller,
                    self.settings,
                    user_id,
                    caller.clock,
                    marketplace_id=self.settings.spapi_marketplace_id,
                    options=options,
                    should_stop=lost.is_set,
                )
                out.results[stream] = await run_stream(ctx, stream)
            except ReconnectRequired as err:
                out.errors[stream] = str(err)
                if route.source == "user":
                    with session_scope(self.settings) as session:
                        mark_reconnect_required(session, user_id, str(err))
                break  # the other streams would be refused the same way
            except Exception as err:
                log.warning("seller sync user=%s %s: %s", user_id, stream, err)
                out.errors[stream] = f"{err.__class__.__name__}: {err}"
            finally:
                renewer.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await renewer
                try:
                    await lock.release()
                except LockError:
                    log.warning("sync lock for user %s %s expired before release", user_id, stream)
        if out.results:
            await asyncio.to_thread(self._match_sales, user_id)
        return out

    def _match_sales(self, user_id: int) -> None:
        """Match what this run stored to the seller's purchases (FIFO, tools/tracking), so
        the questions about sales find it done; a failure leaves it to the next question."""
        from tools.tracking.realized import refresh

        try:
            with session_scope(self.settings) as session:
                refresh(session, user_id)
        except Exception:
            log.exception("matching the sales of user %s failed", user_id)


async def _keep(lock: Any, ttl: float, lost: asyncio.Event) -> None:
    """Renew the lock every third of its life; when that fails, say so (the run stops)."""
    while True:
        await asyncio.sleep(ttl / 3)
        try:
            await lock.reacquire()
        except Exception as err:  # LockError, or Redis gone: either way the lock is not ours
            log.error("lost the sync lock %s: %s", lock.name, err)
            lost.set()
            return


async def sync_seller(
    settings: Settings | None,
    user_id: int,
    streams: tuple[str, ...] = STREAMS,
    *,
    max_seconds: float | None = -1.0,
) -> SellerRun:
    settings = settings or get_settings()
    async with SellerSync(settings) as syncer:
        return await syncer.run(
            user_id, streams, options=options_from(settings, max_seconds=max_seconds)
        )


def sync_seller_sync(
    settings: Settings | None,
    user_id: int,
    streams: tuple[str, ...] = STREAMS,
    *,
    max_seconds: float | None = -1.0,
) -> SellerRun:
    """`sync_seller` for blocking callers (Celery tasks, CLI)."""
    return run_sync(sync_seller(settings, user_id, streams, max_seconds=max_seconds))
