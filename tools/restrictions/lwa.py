"""Login with Amazon: trade a refresh token for an access token, cached until shortly
before it expires and refreshed once, however many requests need it at the same moment.

Two levels keep it to one refresh: an asyncio lock per credential inside a process, and a
Redis cache plus a Redis lock (with a timeout, so a crashed holder cannot block anyone for
long) across processes. Cached tokens are encrypted with the app's secret key. A refresh that
Amazon rejects (invalid_grant, invalid_client, 401) raises `ReconnectRequired`; that is a
state for the seller to fix, never something to retry forever.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import json
import logging
import threading
import time
import weakref
from dataclasses import dataclass, field

import httpx
from redis.asyncio import Redis
from redis.exceptions import LockError
from tenacity import (
    AsyncRetrying,
    retry_if_exception_type,
    stop_after_attempt,
    wait_exponential_jitter,
)

from tools.restrictions.errors import ReconnectRequired, SpApiError
from tools.security import DecryptionError, decrypt, encrypt

log = logging.getLogger(__name__)

EXPIRY_MARGIN_S = 120.0


@dataclass(frozen=True)
class LwaCredentials:
    """An LWA app (client id/secret) plus the seller's refresh token; secrets never repr'd."""

    client_id: str = field(repr=False)
    client_secret: str = field(repr=False)
    refresh_token: str = field(repr=False)

    @property
    def cache_key(self) -> str:
        raw = f"{self.client_id}\0{self.refresh_token}".encode()
        return hashlib.sha256(raw).hexdigest()[:32]


class _Transient(Exception):
    pass


# Process-wide cache: cache_key -> (access token, expires at epoch seconds).
_cache: dict[str, tuple[str, float]] = {}
_cache_guard = threading.Lock()
_loop_locks: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, dict[str, asyncio.Lock]] = (
    weakref.WeakKeyDictionary()
)


def _local_lock(key: str) -> asyncio.Lock:
    loop = asyncio.get_running_loop()
    with _cache_guard:
        locks = _loop_locks.setdefault(loop, {})
        return locks.setdefault(key, asyncio.Lock())


def clear_token_cache() -> None:
    """Forget process-cached tokens (tests, and after a credential changes)."""
    with _cache_guard:
        _cache.clear()


class LwaTokenProvider:
    def __init__(
        self,
        http: httpx.AsyncClient,
        token_url: str,
        redis: Redis | None,
        secret_key: str,
        *,
        margin_s: float = EXPIRY_MARGIN_S,
        lock_timeout_s: float = 30.0,
        attempts: int = 3,
    ) -> None:
        self.http = http
        self.token_url = token_url
        self.redis = redis
        self.secret_key = secret_key
        self.margin_s = margin_s
        self.lock_timeout_s = lock_timeout_s
        self.attempts = attempts
        self.refreshes = 0  # how many refreshes this provider actually sent

    def _usable(self, entry: tuple[str, float] | None, reject: str | None) -> str | None:
        if entry and entry[0] != reject and entry[1] - self.margin_s > time.time():
            return entry[0]
        return None

    async def _from_redis(self, key: str, reject: str | None) -> tuple[str, float] | None:
        if self.redis is None:
            return None
        raw = await self.redis.get(f"spapi:lwa:token:{key}")
        if not raw:
            return None
        try:
            text = raw.decode() if isinstance(raw, bytes) else raw  # no decode_responses
            data = json.loads(decrypt(text, self.secret_key))
            entry = (str(data["t"]), float(data["e"]))
        except (DecryptionError, ValueError, KeyError):
            return None
        return entry if self._usable(entry, reject) else None

    async def access_token(self, creds: LwaCredentials, reject: str | None = None) -> str:
        """A valid access token; `reject` names one SP-API refused, so it is not reused."""
        key = creds.cache_key
        token = self._usable(_cache.get(key), reject)
        if token:
            return token
        async with _local_lock(key):
            token = self._usable(_cache.get(key), reject)
            if token:
                return token
            entry = await self._from_redis(key, reject)
            if entry is None:
                entry = await self._refresh_shared(creds, reject)
            with _cache_guard:
                _cache[key] = entry
            return entry[0]

    async def _refresh_shared(self, creds: LwaCredentials, reject: str | None) -> tuple[str, float]:
        if self.redis is None:
            return await self._refresh(creds)
        key = creds.cache_key
        lock = self.redis.lock(
            f"spapi:lwa:lock:{key}",
            timeout=self.lock_timeout_s,
            blocking_timeout=self.lock_timeout_s + 5,
        )
        acquired = await lock.acquire()
        try:
            entry = await self._from_redis(key, reject)  # another process may have done it
            if entry is not None:
                return entry
            entry = await self._refresh(creds)
            ttl_ms = int((entry[1] - time.time() - self.margin_s) * 1000)
            if ttl_ms > 0:
                payload = json.dumps({"t": entry[0], "e": entry[1]})
                await self.redis.set(
                    f"spapi:lwa:token:{key}", encrypt(payload, self.secret_key), px=ttl_ms
                )
            return entry
        finally:
            if acquired:
                with contextlib.suppress(LockError):  # expired: nothing to release
                    await lock.release()

    async def _refresh(self, creds: LwaCredentials) -> tuple[str, float]:
        try:
            async for attempt in AsyncRetrying(
                stop=stop_after_attempt(self.attempts),
                wait=wait_exponential_jitter(initial=0.5, max=5),
                retry=retry_if_exception_type(_Transient),
                reraise=True,
            ):
                with attempt:
                    return await self._post(creds)
        except _Transient as err:
            raise SpApiError(f"Login with Amazon unavailable: {err}") from None
        raise AssertionError("unreachable")

    async def _post(self, creds: LwaCredentials) -> tuple[str, float]:
        self.refreshes += 1
        try:
            resp = await self.http.post(
                self.token_url,
                data={
                    "grant_type": "refresh_token",
                    "refresh_token": creds.refresh_token,
                    "client_id": creds.client_id,
                    "client_secret": creds.client_secret,
                },
            )
        except httpx.TransportError as err:
            raise _Transient(f"{err.__class__.__name__}") from None
        if resp.status_code == 429 or resp.status_code >= 500:
            raise _Transient(f"HTTP {resp.status_code}")
        try:
            body = resp.json()
        except ValueError:
            body = {}
        if resp.status_code >= 400:
            error = body.get("error") or f"HTTP {resp.status_code}"
            detail = body.get("error_description") or ""
            log.warning("LWA refresh rejected: %s", error)
            raise ReconnectRequired(
                f"Amazon rejected the account authorization ({error}"
                f"{': ' + detail if detail else ''}); reconnect your Amazon seller account"
            )
        token = body.get("access_token")
        if not token:
            raise SpApiError("Login with Amazon answered without an access_token")
        expires_in = float(body.get("expires_in") or 3600)
        log.info("LWA access token refreshed (valid %.0fs)", expires_in)
        return str(token), time.time() + expires_in
