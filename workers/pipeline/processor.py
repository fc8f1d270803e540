"""Processor: fetch the most urgent due deals within the token budget and analyse them.

Per batch: claim due ASINs (a short lease, so parallel workers never fetch the same ASIN twice
and a crashed worker's claim simply runs out); fetch stats-only (1 token per ASIN, history and
stats are free); fetch offers (6 tokens per page) only for candidates whose stats-based profit
passes a cheap pre-check; analyse; upsert idempotently; schedule the next refresh by value
and volatility (workers.pipeline.policy).
"""

from __future__ import annotations

import logging
import random
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from datetime import datetime, timedelta
from typing import Any, Protocol

from sqlalchemy import bindparam, or_, update
from sqlmodel import Session, col, select

from tools.models import Deal
from workers.pipeline import policy
from workers.pipeline.common import Clock, now_dt

log = logging.getLogger(__name__)
LEASE = timedelta(minutes=10)
FAILURE_BACKOFF = timedelta(hours=6)
OFFERS_PAGE = 20  # smallest offers request Keepa accepts
OFFERS_FRESH = timedelta(hours=2)  # offers fetched this recently are not re-bought
OFFER_SHARE_GUESS = 0.15  # expected share of ASINs needing offers, for batch sizing
EXPECTED_OFFER_COST = 6


class ProductsClient(Protocol):
    def products(self, asins: list[str], **kwargs: Any) -> Any: ...


Analyse = Callable[..., Any]
Upsert = Callable[..., Any]


@dataclass
class ProcessorResult:
    claimed: int = 0
    fetched: int = 0
    offers_fetched: int = 0
    upserted: int = 0
    failed: int = 0
    tokens: int = 0
    errors: list[dict[str, Any]] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["errors"] = d["errors"][:5]
        return d


def batch_size_for(balance: float | None, refill_rate: float | None, *, floor: int = 50,
                   reserve: int = 10, max_batch: int = 100,
                   offer_share: float = OFFER_SHARE_GUESS) -> int:
    """ASINs to take now: what the balance above the floor pays for, at the expected mix.

    In steady state the balance sits near the floor, so each run takes about what the bucket
    refilled since the last one: the batch follows the refill rate. Unsynced budget (no
    balance known yet): one minute's refill, so a fresh start never overdraws.
    """
    per_asin = 1 + offer_share * EXPECTED_OFFER_COST
    if balance is None:
        return max(1, min(max_batch, int((refill_rate or 5) / per_asin)))
    spendable = balance - floor - reserve
    return max(0, min(max_batch, int(spendable / per_asin)))


def claim_due(session: Session, now: datetime, n: int) -> list[Deal]:
    """Lease up to n due deals (highest priority, then longest overdue) for this worker."""
    if n <= 0:
        return []
    rows = session.exec(
        select(Deal.asin).where(or_(col(Deal.next_refresh_at).is_(None),
                                    col(Deal.next_refresh_at) <= now))
        .order_by(col(Deal.priority).desc(), col(Deal.next_refresh_at).asc())
        .limit(n)).all()
    if not rows:
        return []
    # a unique lease stamp tells our rows from a concurrent worker's
    lease = now + LEASE + timedelta(microseconds=random.randint(1, 999_999))
    session.execute(update(Deal).where(col(Deal.asin).in_(list(rows)))
                    .where(or_(col(Deal.next_refresh_at).is_(None),
                               col(Deal.next_refresh_at) <= now))
                    .values(next_refresh_at=lease).execution_options(synchronize_session=False))
    session.commit()
    return list(session.exec(select(Deal).where(col(Deal.next_refresh_at) == lease)).all())


def _precheck(record: Any) -> bool:
    """Cheap profitability test on the stats-only analysis: worth buying offers for?"""
    profit = getattr(record, "profit", None)
    return profit is not None and profit > 0


def _fail(session: Session, asin: str, now: datetime, reason: dict[str, Any]) -> None:
    deal = session.get(Deal, asin)
    if deal is None:
        return
    deal.next_refresh_at = now + FAILURE_BACKOFF
    deal.missing = {**(deal.missing or {}), "keepa": str(reason.get("reason") or reason)}
    session.add(deal)


def run_processor(client: ProductsClient, session: Session, clock: Clock, *, batch_size: int,
                  analyse: Analyse | None = None, upsert: Upsert | None = None,
                  stats_days: int = 365) -> ProcessorResult:
    """Process one batch; every phase commits so a crash loses at most the current batch."""
    if analyse is None or upsert is None:
        from tools.deals import analyse_product, upsert_deal

        analyse = analyse or analyse_product
        upsert = upsert or upsert_deal
    now = now_dt(clock)
    result = ProcessorResult()
    claimed = claim_due(session, now, batch_size)
    result.claimed = len(claimed)
    if not claimed:
        return result
    before = {d.asin: (d.price_now, d.sales_rank, d.offers_fetched_at) for d in claimed}
    asins = list(before)

    stats = client.products(asins, stats=stats_days, purpose="processor")
    result.tokens += int(getattr(stats, "tokens_consumed", 0) or 0)
    records: dict[str, Any] = {}
    for product in stats.products:
        asin = product["asin"]
        try:
            records[asin] = analyse(product, now=now, validate=False)
        except Exception as err:  # one bad product never sinks the batch
            log.warning("analysis of %s failed: %s", asin, err)
            result.errors.append({"asin": asin, "reason": f"analysis: {err}"})
    for err in stats.errors:
        result.errors.append(err.as_dict())
    for asin in stats.missing:
        result.errors.append({"asin": asin, "reason": "not returned by Keepa"})

    candidates = [a for a, rec in records.items() if _precheck(rec) and not (
        before[a][2] is not None and now - before[a][2] < OFFERS_FRESH
        and not policy.is_volatile(before[a][0], getattr(rec, "price_now", None), None, None))]
    with_offers: set[str] = set()
    if candidates:
        offers = client.products(candidates, stats=stats_days, offers=OFFERS_PAGE,
                                 purpose="processor-offers")
        result.tokens += int(getattr(offers, "tokens_consumed", 0) or 0)
        for product in offers.products:
            asin = product["asin"]
            try:
                records[asin] = analyse(product, now=now, validate=False)
                with_offers.add(asin)
            except Exception as err:
                log.warning("analysis of %s with offers failed: %s", asin, err)
        result.offers_fetched = len(with_offers)

    marks: list[dict[str, Any]] = []
    for asin, rec in records.items():
        upsert(session, rec, now=now)  # analytics columns, status active, last_seen
        price = getattr(rec, "price_now", None)
        old_price, old_rank, old_offers_at = before[asin]
        volatile = policy.is_volatile(old_price, price, old_rank, getattr(rec, "sales_rank", None))
        t = policy.tier(getattr(rec, "profit", None), getattr(rec, "roi", None), price)
        marks.append({"k": asin, "fetched": now, "prio": t,
                      "offers_at": now if asin in with_offers else old_offers_at,
                      "due": policy.next_refresh(now, asin, t, volatile)})
    if marks:  # the pipeline's own columns, one executemany
        session.connection().execute(
            update(Deal).where(col(Deal.asin) == bindparam("k"))
            .values(fetched_at=bindparam("fetched"), priority=bindparam("prio"),
                    offers_fetched_at=bindparam("offers_at"), next_refresh_at=bindparam("due"))
            .execution_options(synchronize_session=False), marks)
    result.upserted = len(marks)
    result.fetched = len(records)
    for err in result.errors:
        if err.get("asin") and err["asin"] not in records:
            _fail(session, err["asin"], now, err)
            result.failed += 1
    session.commit()
    return result
