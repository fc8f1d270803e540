"""Refresh policy: how valuable a deal is, how often it must be refetched, in what order.

One place for the numbers the processor (next refresh time) and the refresher (re-queueing by
age and value) share. Scheduling is earliest-deadline-first: every deal gets a due time from
its value and volatility; among due deals the processor takes the highest priority, then the
longest overdue. The refresher raises the priority of overdue deals with their age, so under a
tight budget nothing starves (p95 age stays bounded) while hot deals still come first.
"""

from __future__ import annotations

import zlib
from datetime import datetime, timedelta

HOT, PROFITABLE, UNPROFITABLE, NO_OFFER = 3, 2, 1, 0
INTERVAL_H = {HOT: 2.0, PROFITABLE: 4.0, UNPROFITABLE: 8.0, NO_OFFER: 12.0}
MAX_AGE_H = {HOT: 4.0, PROFITABLE: 8.0, UNPROFITABLE: 24.0, NO_OFFER: 24.0}
VOLATILE_FACTOR = 0.5
AGE_BOOST_EVERY_H = 2.0  # +1 priority per 2 hours overdue ...
AGE_BOOST_MAX = 40  # ... capped below PENDING/BACKFILL priorities (100/90)
HOT_PROFIT, HOT_ROI = 20.0, 25.0


def tier(profit: float | None, roi: float | None, price_now: float | None) -> int:
    if price_now is None:
        return NO_OFFER
    if profit is None or profit <= 0:
        return UNPROFITABLE
    if profit >= HOT_PROFIT and (roi or 0) >= HOT_ROI:
        return HOT
    return PROFITABLE


def price_moved(
    old_price: float | None,
    new_price: float | None,
    *,
    old_source: str | None = None,
    new_source: str | None = None,
) -> bool:
    """Price Now moved >= 5 % since the previous fetch, judged on one basis.

    An offers Price Now (the lowest used offer with shipping) is at most the stats one (the
    lowest of the condition prices Keepa tracks) and, at the same instant, often 15-60 % below
    it (about half the profitable sandbox deals). Across the two bases only a move against that
    gap counts: stats below the stored offers price (a cheaper listing appeared), or offers
    above the stored stats price. Comparing them plainly re-bought offers (6 tokens) at every
    stats-only refresh of those deals: 29 % of the budget at 4 tokens/min.
    """
    if not old_price or not new_price:
        return False
    if old_source == new_source or old_source is None or new_source is None:
        return abs(new_price - old_price) / old_price >= 0.05
    if old_source == "offers":
        return new_price <= old_price * 0.95
    return new_price >= old_price * 1.05


def is_volatile(
    old_price: float | None,
    new_price: float | None,
    old_rank: int | None,
    new_rank: int | None,
    *,
    old_source: str | None = None,
    new_source: str | None = None,
) -> bool:
    """Price moved >= 5 % (price_moved) or sales rank moved >= 30 % since the previous fetch."""
    if price_moved(old_price, new_price, old_source=old_source, new_source=new_source):
        return True
    return bool(old_rank and new_rank and abs(new_rank - old_rank) / old_rank >= 0.30)


def jitter(asin: str) -> float:
    """Deterministic 0.9..1.1 spread so deals fetched together do not all fall due together."""
    return 0.9 + (zlib.crc32(asin.encode()) % 1000) / 5000


def next_refresh(now: datetime, asin: str, tier_: int, volatile: bool) -> datetime:
    hours = INTERVAL_H[tier_] * (VOLATILE_FACTOR if volatile else 1.0) * jitter(asin)
    return now + timedelta(hours=hours)


def aged_priority(tier_: int, overdue_h: float) -> int:
    return tier_ + min(AGE_BOOST_MAX, int(max(0.0, overdue_h) / AGE_BOOST_EVERY_H))
