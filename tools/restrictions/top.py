"""Gating for each seller's top deals first, soon after start and then every few minutes.

The bulk run (bulk.py) walks every active deal, newest first, and takes a while; a seller's
first question is about the best deals. This checks the deals a seller sees first (their
default search, by ROI and by profit, under their own settings and thresholds) that have no
fresh answer yet, through the same spot checker (spot.py: the shared SP-API rate limit, the
stored answers). Cheap when nothing is new: one search per sort and no SP-API call. A per-user
Redis lock (with a timeout) keeps ticks from overlapping.
"""

from __future__ import annotations

import asyncio
import contextlib
from typing import Any

from redis.asyncio import Redis
from redis.exceptions import LockError

from tools.db import session_scope
from tools.deals.search import DealSearch, search_deals
from tools.models import User
from tools.restrictions.spot import SpotCheck, check_now
from tools.settings import Settings, get_settings

TOP_SORTS = ("roi", "profit")
TOP_DEADLINE_S = 240.0
LOCK_TIMEOUT_S = 300
UNKNOWN = ("pending", "error")


def top_unchecked(settings: Settings, user_id: int, n: int) -> list[tuple[str, str | None]]:
    """(ASIN, condition) of the seller's top `n` deals per sort without a gating answer."""
    out: dict[str, str | None] = {}
    with session_scope(settings) as session:
        user = session.get(User, user_id)
        if user is None:
            return []
        for sort in TOP_SORTS:
            query = DealSearch(sort=sort, limit=max(1, min(100, n)), gated="include")
            for d in search_deals(session, query, user).items:
                if d.gated in UNKNOWN:
                    out.setdefault(d.asin, d.condition)
    return list(out.items())


async def check_top_deals(
    settings: Settings | None,
    user_id: int,
    n: int,
    *,
    redis_url: str | None = None,
    sandbox_app: Any = None,
) -> dict[str, Any]:
    """Check the seller's top deals that have no answer; returns what was done."""
    from tools.redis_embedded import redis_url as default_redis_url

    settings = settings or get_settings()
    if n <= 0:
        return {"state": "off"}
    todo = await asyncio.to_thread(top_unchecked, settings, user_id, n)
    if not todo:
        return {"state": "done", **SpotCheck().as_dict()}
    redis = Redis.from_url(redis_url or default_redis_url(settings))
    lock = redis.lock(f"restrictions:top:{user_id}", timeout=LOCK_TIMEOUT_S)
    try:
        if not await lock.acquire(blocking=False):
            return {"state": "already_running"}
        try:
            spot = await check_now(
                settings,
                user_id,
                todo,
                max_checks=len(todo),
                deadline_s=TOP_DEADLINE_S,
                redis_url=redis_url,
                sandbox_app=sandbox_app,
            )
        finally:
            with contextlib.suppress(LockError):  # expired: nothing to release
                await lock.release()
    finally:
        await redis.aclose()
    return {"state": "stopped" if spot.stopped else "done", **spot.as_dict()}
