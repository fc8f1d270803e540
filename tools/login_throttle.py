"""Sign-in throttling: failed passwords per account and per address, with growing waits.

The first few failures are free (typos); after that each failure locks the account (or the
address) for twice as long as the one before, up to LOCK_MAX_S, so guessing a password costs
days instead of seconds, while the right password after a short wait still works. The counts
live in Redis so every chat process (`--workers N`) and every restart sees the same ones;
without a reachable Redis each process keeps its own (logged), which still throttles a
guesser but lets N workers allow N times as many guesses.
"""

from __future__ import annotations

import hashlib
import ipaddress
import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

import redis

log = logging.getLogger(__name__)

ACCOUNT_FREE = 5  # failures before an account's first lock
ADDRESS_FREE = 20  # an office behind one address mistypes more often
LOCK_BASE_S = 1.0
LOCK_MAX_S = 15 * 60.0
WINDOW_S = 24 * 3600.0  # failures are forgotten a day after the last one
PREFIX = "login:"

# Atomic for all processes: count the failure, keep the count a window, lock when due.
_FAIL = """
local n = redis.call('INCR', KEYS[1])
redis.call('PEXPIRE', KEYS[1], ARGV[1])
local free = tonumber(ARGV[2])
if n >= free then
  local ms = math.min(tonumber(ARGV[4]), tonumber(ARGV[3]) * 2 ^ (n - free))
  redis.call('SET', KEYS[2], n, 'PX', math.floor(ms))
end
return n
"""


def lock_seconds(failures: int, free: int) -> float:
    """How long `failures` consecutive failures lock for (0 below the free allowance)."""
    if failures < free:
        return 0.0
    return min(LOCK_MAX_S, LOCK_BASE_S * 2.0 ** (failures - free))


def address_key(address: str | None) -> str:
    """An IPv6 client is counted by its /64: one host has a whole /64 to rotate through."""
    if not address:
        return "unknown"
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return "unknown"
    if ip.version == 6 and not ip.ipv4_mapped:
        return str(ipaddress.ip_network(f"{ip}/64", strict=False))
    return str(ip.ipv4_mapped or ip) if ip.version == 6 else str(ip)


def account_key(name: str) -> str:
    """Bounded, case-folded: a 1 MB user name or Admin/admin do not get their own counters."""
    return hashlib.sha256(name.strip().casefold().encode()).hexdigest()[:32]


@dataclass
class _Entry:
    failures: int = 0
    forget_at: float = 0.0
    locked_until: float = 0.0


class _MemoryCounts:
    """The same counts in this process only (no Redis reachable)."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self.clock = clock
        self._lock = threading.Lock()
        self._entries: dict[str, _Entry] = {}

    def locked_for(self, key: str) -> float:
        with self._lock:
            e = self._entries.get(key)
            return max(0.0, e.locked_until - self.clock()) if e else 0.0

    def fail(self, key: str, free: int) -> None:
        now = self.clock()
        with self._lock:
            e = self._entries.get(key)
            if e is None or e.forget_at <= now:
                e = self._entries[key] = _Entry()
            e.failures += 1
            e.forget_at = now + WINDOW_S
            if e.failures >= free:
                e.locked_until = now + lock_seconds(e.failures, free)
            if len(self._entries) > 100_000:  # bounded: drop what is forgotten anyway
                for k in [k for k, v in self._entries.items() if v.forget_at <= now]:
                    del self._entries[k]

    def clear(self, key: str) -> None:
        with self._lock:
            self._entries.pop(key, None)


class LoginThrottle:
    """Ask `retry_after` before checking a password; report `failed` / `succeeded` after."""

    def __init__(
        self, redis_url: Callable[[], str | None], clock: Callable[[], float] = time.monotonic
    ) -> None:
        self._redis_url = redis_url
        self._client: redis.Redis | None = None
        self._client_url: str | None = None
        self._memory = _MemoryCounts(clock)
        self._warned = False

    def _redis(self) -> redis.Redis | None:
        try:
            url = self._redis_url()
        except Exception:  # no Redis configured or running
            url = None
        if url is None:
            self._warn("no Redis")
            return None
        if url != self._client_url:
            self._client = redis.Redis.from_url(url, socket_connect_timeout=2, socket_timeout=2)
            self._client_url = url
        return self._client

    def _warn(self, why: str) -> None:
        if not self._warned:
            self._warned = True
            log.warning(
                "sign-in throttling counts per process (%s): start the app with "
                "`arbitrage up` or set REDIS_URL to share them",
                why,
            )

    def _keys(self, account: str, address: str | None) -> tuple[tuple[str, int], ...]:
        return (
            (f"{PREFIX}account:{account_key(account)}", ACCOUNT_FREE),
            (f"{PREFIX}address:{address_key(address)}", ADDRESS_FREE),
        )

    def retry_after(self, account: str, address: str | None) -> float:
        """Seconds until this account may try from this address (0: now)."""
        keys = self._keys(account, address)
        client = self._redis()
        if client is not None:
            try:
                with client.pipeline(transaction=False) as pipe:
                    for key, _ in keys:
                        pipe.pttl(key + ":lock")
                    ttls: list[int] = pipe.execute()
                return max([0.0] + [t / 1000 for t in ttls if t and t > 0])
            except redis.RedisError as err:
                self._warn(f"Redis error: {err}")
        return max(self._memory.locked_for(k) for k, _ in keys)

    def failed(self, account: str, address: str | None) -> None:
        keys = self._keys(account, address)
        client = self._redis()
        if client is not None:
            try:
                script = client.register_script(_FAIL)
                for key, free in keys:
                    script(
                        keys=[key, key + ":lock"],
                        args=[
                            int(WINDOW_S * 1000),
                            free,
                            int(LOCK_BASE_S * 1000),
                            int(LOCK_MAX_S * 1000),
                        ],
                    )
                return
            except redis.RedisError as err:
                self._warn(f"Redis error: {err}")
        for key, free in keys:
            self._memory.fail(key, free)

    def succeeded(self, account: str, address: str | None) -> None:
        """The right password: the account's count starts again (the address's stays, so
        one good account cannot launder a guesser's address)."""
        key = self._keys(account, address)[0][0]
        client = self._redis()
        if client is not None:
            try:
                client.delete(key, key + ":lock")
                return
            except redis.RedisError as err:
                self._warn(f"Redis error: {err}")
        self._memory.clear(key)
