"""One Keepa token bucket shared by every process through Redis.

Why: Keepa's bucket is per API key, so every worker, the scout and chat lookups spend from the
same balance. Each process reserves its estimated cost atomically (Lua) before a call and settles
with the response's envelope afterwards, so the shared view follows Keepa's own `tokensLeft`.

Controlled deficit: calls go through while the balance is above `floor` (they may take it below,
even negative, as Keepa allows); at or below the floor callers block until the balance refills
to `resume`. Nobody waits for a full bucket, so a 5 tokens/min plan never livelocks.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import logging
import os
import uuid
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal, get_args

import redis

from tools.clock import Clock, SystemClock
from tools.keepa.envelope import TokenEnvelope
from tools.keepa.errors import BudgetWaitTimeout

if TYPE_CHECKING:
    from tools.settings import Settings

log = logging.getLogger(__name__)

# Who spends tokens: spend and waits are booked per purpose (`arbitrage status`). Exactly what
# callers pass; tests/unit/test_keepa_budget.py fails on a purpose passed anywhere that is not
# listed here (and on one listed here that nothing passes any more).
KeepaPurpose = Literal[
    "scout",  # /deal/ pages: discovery of new deals
    "processor",  # first fetch of a deal's product (stats + history)
    "processor-offers",  # offers of the deals that pass the profitability pre-check
    "processor-sellers",  # /seller/ ratings of the sellers those offers came from
    "refresher",  # re-fetches of deals fetched before
    "backfill",  # /deal/ pages walked by `arbitrage backfill`
    "agent",  # live lookups the chat agent makes for a user
    "other",  # /token/ syncs and callers that say nothing
]
PURPOSES: tuple[KeepaPurpose, ...] = get_args(KeepaPurpose)
MAX_POLL_S = 5.0

# Reservations live in a sorted set scored by expiry ("<id>:<cost>"): a call whose process was
# killed (or that never settled) stops counting as in flight once it expires, instead of
# holding its tokens out of every later resync for good.
_EXPIRE = """
local function expire(st, zres, now)
  local gone = redis.call('ZRANGEBYSCORE', zres, '-inf', now)
  if #gone == 0 then return end
  local total = 0
  for _, m in ipairs(gone) do total = total + (tonumber(string.match(m, ':([^:]+)$')) or 0) end
  redis.call('ZREMRANGEBYSCORE', zres, '-inf', now)
  local inflight = (tonumber(redis.call('HGET', st, 'inflight')) or 0) - total
  if inflight < 0 then inflight = 0 end
  redis.call('HSET', st, 'inflight', inflight)
  redis.call('HINCRBY', st, 'expired_reservations', #gone)
end
"""

# KEYS[1] state hash, KEYS[2] reservations. ARGV: cost, now_ms, floor, resume, grace_ms,
# reservation id, ttl_ms. Returns {granted 1/0, balance*1000, wait_ms, synced 1/0}
_ACQUIRE = (
    _EXPIRE
    + """
local st = KEYS[1]
local cost = tonumber(ARGV[1]); local now = tonumber(ARGV[2])
local floor = tonumber(ARGV[3]); local resume = tonumber(ARGV[4]); local grace = tonumber(ARGV[5])
expire(st, KEYS[2], now)
local v = redis.call('HMGET', st, 'balance', 'rate', 'cap', 'next_refill', 'inflight', 'paused')
if not v[1] then
  redis.call('HINCRBYFLOAT', st, 'unsynced_inflight', cost)
  return {1, 0, 0, 0}
end
local balance = tonumber(v[1]); local rate = tonumber(v[2]) or 0
local cap = tonumber(v[3]) or 0; local nr = tonumber(v[4]) or now
local inflight = tonumber(v[5]) or 0; local paused = tonumber(v[6]) or 0
if rate > 0 and now >= nr + grace then
  local n = math.floor((now - nr - grace) / 60000) + 1
  if balance < cap then balance = math.min(cap, balance + n * rate) end
  nr = nr + n * 60000
end
local granted = 0
if paused == 1 and balance >= resume then paused = 0 end
if paused == 0 and balance > floor then
  granted = 1
  balance = balance - cost
  inflight = inflight + cost
  redis.call('ZADD', KEYS[2], now + tonumber(ARGV[7]), ARGV[6] .. ':' .. ARGV[1])
  if balance <= floor then paused = 1 end
else
  paused = 1
end
redis.call('HSET', st, 'balance', balance, 'next_refill', nr, 'inflight', inflight,
           'paused', paused)
local wait = 0
if granted == 0 then
  if rate <= 0 then
    wait = 60000
  else
    local need = resume - balance
    local minutes = math.ceil(need / rate)
    if minutes < 1 then minutes = 1 end
    wait = (nr + grace - now) + (minutes - 1) * 60000
    if wait < 0 then wait = 0 end
  end
end
return {granted, math.floor(balance * 1000), wait, 1}
"""
)

# KEYS[1] state, KEYS[2] spend hash, KEYS[3] reservations. ARGV: estimated, actual, has_env,
# tokensLeft, refillIn, refillRate, server_ts, now_ms, purpose, was_synced, reservation id
_SETTLE = (
    _EXPIRE
    + """
local st = KEYS[1]
local est = tonumber(ARGV[1]); local actual = tonumber(ARGV[2])
local has_env = tonumber(ARGV[3]); local now = tonumber(ARGV[8])
expire(st, KEYS[3], now)
local v = redis.call('HMGET', st, 'balance', 'inflight', 'sync_ts', 'unsynced_inflight')
local inflight = tonumber(v[2]) or 0
local live = 1
if tonumber(ARGV[10]) == 1 then
  -- a reservation that already expired was taken out of inflight then, and a resync since
  -- may already have put its tokens back: release and credit nothing twice
  if ARGV[11] == '' or redis.call('ZREM', KEYS[3], ARGV[11] .. ':' .. ARGV[1]) == 1 then
    inflight = inflight - est
  else
    live = 0
  end
else
  redis.call('HSET', st, 'unsynced_inflight', math.max(0, (tonumber(v[4]) or 0) - est))
end
if inflight < 0 then inflight = 0 end
local balance = tonumber(v[1])
local sync_ts = tonumber(v[3]) or -1
if has_env == 1 and tonumber(ARGV[7]) >= sync_ts then
  local rate = tonumber(ARGV[6])
  balance = tonumber(ARGV[4]) - inflight
  redis.call('HSET', st, 'rate', rate, 'cap', 60 * rate, 'next_refill', now + tonumber(ARGV[5]),
             'sync_ts', ARGV[7])
elseif balance and live == 1 then
  balance = balance + est - actual
elseif balance then
  balance = balance - actual
end
if balance then redis.call('HSET', st, 'balance', balance) end
redis.call('HSET', st, 'inflight', inflight)
if actual > 0 then redis.call('HINCRBY', KEYS[2], ARGV[9], actual) end
return math.floor((balance or 0) * 1000)
"""
)


def _text(reply: bytes | str) -> str:
    """redis-py types replies as bytes | str; this client never sets decode_responses."""
    return reply.decode() if isinstance(reply, bytes) else reply


@dataclass(frozen=True)
class Reservation:
    """What acquire() granted: settle() needs the estimate back to correct it."""

    cost: int
    purpose: KeepaPurpose
    waited_s: float
    synced: bool
    id: str = ""


class TokenBudget:
    """The shared bucket. Create one per process; they agree through Redis."""

    def __init__(
        self,
        client: redis.Redis,
        *,
        name: str = "default",
        floor: int = 50,
        resume: int = 55,
        deadline_s: float = 900.0,
        clock: Clock | None = None,
        refill_grace_ms: int = 2000,
        reservation_ttl_s: float = 600.0,
    ) -> None:
        if resume <= floor:
            raise ValueError("resume must be greater than floor")
        self.redis = client
        self.floor = floor
        self.resume = resume
        self.deadline_s = deadline_s
        self.clock: Clock = clock or SystemClock()
        self.grace_ms = refill_grace_ms
        # longer than any call holds its reservation (4 attempts of 60 s plus backoff)
        self.reservation_ttl_ms = int(reservation_ttl_s * 1000)
        base = f"keepa:budget:{name}"
        self.k_state, self.k_spend = f"{base}:state", f"{base}:spend"
        self.k_waits, self.k_waiting = f"{base}:waits", f"{base}:waiting"
        self.k_res = f"{base}:reservations"
        self._acquire = client.register_script(_ACQUIRE)
        self._settle = client.register_script(_SETTLE)

    @classmethod
    def from_url(cls, url: str, **kwargs: Any) -> TokenBudget:
        return cls(redis.Redis.from_url(url), **kwargs)

    # ---- core ---------------------------------------------------------------------------

    def _now_ms(self) -> int:
        return int(self.clock.now() * 1000)

    def _try(self, cost: int, res_id: str) -> tuple[bool, float, float, bool]:
        granted, bal, wait_ms, synced = self._acquire(
            keys=[self.k_state, self.k_res],
            args=[
                int(cost),
                self._now_ms(),
                self.floor,
                self.resume,
                self.grace_ms,
                res_id,
                self.reservation_ttl_ms,
            ],
        )
        return bool(granted), int(bal) / 1000, int(wait_ms) / 1000, bool(synced)

    def is_synced(self) -> bool:
        return bool(self.redis.hexists(self.k_state, "balance"))

    def _start_wait(self, purpose: KeepaPurpose, cost: int, limit: float) -> str:
        who = f"{purpose}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
        self.redis.hset(
            self.k_waiting,
            who,
            json.dumps(
                {"purpose": purpose, "cost": cost, "since": self.clock.now(), "deadline_s": limit}
            ),
        )
        return who

    def _end_wait(self, who: str, purpose: KeepaPurpose, waited: float) -> None:
        pipe = self.redis.pipeline()
        pipe.hdel(self.k_waiting, who)
        pipe.hincrbyfloat(self.k_waits, f"{purpose}:seconds", waited)
        pipe.hincrby(self.k_waits, f"{purpose}:count", 1)
        pipe.execute()

    def _deadline(self, deadline: float | None) -> float:
        return self.deadline_s if deadline is None else deadline

    def acquire(
        self,
        cost: int,
        purpose: KeepaPurpose = "other",
        deadline: float | None = None,
    ) -> Reservation:
        """Reserve `cost` tokens, blocking (clock.sleep) while the bucket is below the floor.

        `deadline` is seconds of clock time; past it BudgetWaitTimeout says who waited how long.
        """
        rid = uuid.uuid4().hex
        granted, bal, wait, synced = self._try(cost, rid)
        if granted:
            return Reservation(cost, purpose, 0.0, synced, rid)
        limit = self._deadline(deadline)
        start = self.clock.now()
        who = self._start_wait(purpose, cost, limit)
        log.info(
            "keepa budget: %s waits %.0fs for %d tokens (balance %.0f, resume at %d)",
            purpose,
            wait,
            cost,
            bal,
            self.resume,
        )
        try:
            while True:
                waited = self.clock.now() - start
                if waited + wait > limit:
                    raise self._timeout(purpose, cost, waited, limit, bal)
                self.clock.sleep(min(max(wait, 0.05), MAX_POLL_S))
                granted, bal, wait, synced = self._try(cost, rid)
                if granted:
                    return Reservation(cost, purpose, self.clock.now() - start, synced, rid)
        finally:
            self._end_wait(who, purpose, self.clock.now() - start)

    async def aacquire(
        self, cost: int, purpose: KeepaPurpose = "other", deadline: float | None = None
    ) -> Reservation:
        """acquire() for async callers: Redis calls run in a thread, waiting uses clock.asleep.

        Cancelled (a stopped chat turn, a stopping worker) while a grant is under way in its
        thread, the grant is given back: nobody else would settle it.
        """
        rid = uuid.uuid4().hex
        granted, bal, wait, synced = await self._atry(cost, rid, purpose)
        if granted:
            return Reservation(cost, purpose, 0.0, synced, rid)
        limit = self._deadline(deadline)
        start = self.clock.now()
        who = await asyncio.to_thread(self._start_wait, purpose, cost, limit)
        log.info(
            "keepa budget: %s waits %.0fs for %d tokens (balance %.0f, resume at %d)",
            purpose,
            wait,
            cost,
            bal,
            self.resume,
        )
        try:
            while True:
                waited = self.clock.now() - start
                if waited + wait > limit:
                    raise self._timeout(purpose, cost, waited, limit, bal)
                await self.clock.asleep(min(max(wait, 0.05), MAX_POLL_S))
                granted, bal, wait, synced = await self._atry(cost, rid, purpose)
                if granted:
                    return Reservation(cost, purpose, self.clock.now() - start, synced, rid)
        finally:
            await asyncio.to_thread(self._end_wait, who, purpose, self.clock.now() - start)

    async def _atry(
        self, cost: int, res_id: str, purpose: KeepaPurpose
    ) -> tuple[bool, float, float, bool]:
        """_try() in a thread. The thread cannot be cancelled: if the caller is, wait for the
        script's answer and release a reservation it granted before passing the cancel on."""
        attempt = asyncio.ensure_future(asyncio.to_thread(self._try, cost, res_id))
        try:
            return await asyncio.shield(attempt)
        except asyncio.CancelledError:
            try:
                granted, _bal, _wait, synced = await attempt
            except Exception:  # the script failed too: nothing was granted
                granted = False
            if granted:
                await asyncio.to_thread(
                    self.settle, None, cost, 0, purpose=purpose, synced=synced, reservation=res_id
                )
            raise

    def _timeout(
        self, purpose: KeepaPurpose, cost: int, waited: float, limit: float, bal: float
    ) -> BudgetWaitTimeout:
        return BudgetWaitTimeout(
            f"Keepa token budget: {purpose} waited {waited:.0f}s for {cost} tokens and the "
            f"balance ({bal:.0f}) will not reach {self.resume} within the {limit:.0f}s deadline",
            waited_s=waited,
            purpose=purpose,
            cost=cost,
        )

    def settle(
        self,
        envelope: TokenEnvelope | None,
        estimated: int,
        actual: int | None = None,
        *,
        purpose: KeepaPurpose = "other",
        synced: bool = True,
        reservation: str = "",
    ) -> float:
        """Release a reservation and resync with Keepa's envelope; returns the new balance.

        `actual` defaults to the envelope's tokensConsumed. Older envelopes (responses that
        arrive out of order) only correct the estimate, they never roll the balance back.
        `reservation` is the Reservation's id (one that expired meanwhile is not released
        twice).
        """
        if actual is None:
            actual = envelope.tokens_consumed if envelope else estimated
        env = envelope
        args: list[Any] = [
            int(estimated),
            actual,
            1 if env else 0,
            env.tokens_left if env else 0,
            env.refill_in_ms if env else 0,
            env.refill_rate if env else 0,
            env.timestamp_ms if env else 0,
            self._now_ms(),
            purpose,
            1 if synced else 0,
            reservation,
        ]
        return int(self._settle(keys=[self.k_state, self.k_spend, self.k_res], args=args)) / 1000

    def sync(self, envelope: TokenEnvelope) -> float:
        """Adopt a free /token/ answer (no reservation to release)."""
        return self.settle(envelope, 0, 0, purpose="other")

    # ---- visibility ---------------------------------------------------------------------

    def spend_by_purpose(self) -> dict[str, int]:
        raw = self.redis.hgetall(self.k_spend)
        return {_text(k): int(v) for k, v in raw.items()}

    def waits(self) -> dict[str, dict[str, float]]:
        out: dict[str, dict[str, float]] = {}
        for k, v in self.redis.hgetall(self.k_waits).items():
            purpose, _, what = _text(k).rpartition(":")
            out.setdefault(purpose, {})[what] = float(v)
        return out

    def waiting_now(self) -> list[dict[str, Any]]:
        """Who waits for tokens now. A waiter past its deadline (plus a minute) is a process
        that was killed while waiting: it is forgotten, not shown as waiting for ever."""
        now = self.clock.now()
        out, gone = [], []
        for who, v in self.redis.hgetall(self.k_waiting).items():
            info = json.loads(v)
            info["who"] = _text(who)
            info["waiting_s"] = round(now - float(info["since"]), 1)
            if info["waiting_s"] > float(info.get("deadline_s", self.deadline_s)) + 60:
                gone.append(who)
                continue
            out.append(info)
        if gone:
            self.redis.hdel(self.k_waiting, *gone)
        return sorted(out, key=lambda w: -w["waiting_s"])

    def snapshot(self) -> dict[str, Any]:
        """The budget as `arbitrage status` shows it (balance refilled to now, not stored)."""
        raw = {_text(k): _text(v) for k, v in self.redis.hgetall(self.k_state).items()}
        now = self._now_ms()
        snap: dict[str, Any] = {
            "synced": "balance" in raw,
            "floor": self.floor,
            "resume": self.resume,
        }
        if "balance" in raw:
            bal = float(raw["balance"])
            rate = float(raw.get("rate", 0))
            cap = float(raw.get("cap", 0))
            nr = float(raw.get("next_refill", now))
            if rate > 0 and now >= nr + self.grace_ms:
                n = (now - nr - self.grace_ms) // 60000 + 1
                bal = min(cap, bal + n * rate) if bal < cap else bal
                nr += n * 60000
            snap.update(
                balance=round(bal, 1),
                refill_rate=rate,
                cap=cap,
                inflight=float(raw.get("inflight", 0)),
                paused=raw.get("paused") == "1",
                refill_in_s=round(max(0.0, (nr - now) / 1000), 1),
            )
        snap["spend_by_purpose"] = self.spend_by_purpose()
        snap["waits"] = self.waits()
        snap["waiting"] = self.waiting_now()
        return snap

    def reset(self) -> None:
        """Forget all state (tests, or after changing API key)."""
        self.redis.delete(self.k_state, self.k_spend, self.k_waits, self.k_waiting, self.k_res)


def budget_name(settings: Settings) -> str:
    """Live keys get their own bucket (hashed, never stored); sandboxes one per seed."""
    if settings.keepa_api_key:
        return "live-" + hashlib.sha256(settings.keepa_api_key.encode()).hexdigest()[:12]
    return f"sandbox-{settings.sandbox_seed}"


def make_token_budget(
    settings: Settings | None = None, *, url: str | None = None, clock: Clock | None = None
) -> TokenBudget:
    """The shared Redis budget (REDIS_URL or the running embedded server).

    Here, not in factory.py: `arbitrage status` reads the budget without loading the client
    (httpx, numpy).
    """
    from tools.redis_embedded import redis_url
    from tools.settings import get_settings

    settings = settings or get_settings()
    return TokenBudget.from_url(
        url or redis_url(settings),
        name=budget_name(settings),
        floor=settings.keepa_token_floor,
        resume=settings.keepa_token_resume,
        deadline_s=settings.keepa_wait_deadline_s,
        clock=clock,
    )
