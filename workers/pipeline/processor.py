"""Processor: fetch the most urgent due deals within the token budget and analyse them.

Per batch: claim due ASINs (a short lease, so parallel workers never fetch the same ASIN twice
and a crashed worker's claim simply runs out); fetch stats-only (1 token per ASIN, history and
stats are free); fetch offers (6 tokens per page) only for candidates whose stats-based profit
passes a cheap pre-check and whose offers are older than their tier allows; look up the Price
Now sellers those offers name on /seller/ (1 token each, cached: workers.pipeline.sellers) for
the seller-quality score; analyse; upsert idempotently; schedule the next refresh by value and
volatility (workers.pipeline.policy).

History costs no tokens but is the heavy part of an answer (parsing, inferred sales, chart
series). The fields derived from it (1yr. Avg., List at, seasonality, Deal Trust, trend) move
slowly, so a routine refresh asks for `history=0` and keeps them from the stored row; the full
history is fetched for new deals and once it is older than HISTORY_MAX_AGE.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from datetime import datetime, timedelta
from typing import Any, Protocol

from sqlalchemy import bindparam, or_, update
from sqlmodel import Session, col, select

from tools import shutdown
from tools.alerts.engine import alerts_wanted, queue_deals
from tools.clock import Clock
from tools.db import table_of, upsert
from tools.keepa.budget import KeepaPurpose
from tools.models import Deal, DealHistory
from workers.pipeline import policy
from workers.pipeline.common import now_dt
from workers.pipeline.sellers import apply_seller_quality, lookup_sellers

log = logging.getLogger(__name__)
LEASE = timedelta(minutes=10)
FAILURE_BACKOFF = timedelta(hours=6)
OFFERS_PAGE = 20  # smallest offers request Keepa accepts
# offers (6 tokens per 10 found) bought again only after this long, by value tier: one offers
# fetch costs as much as ~12 stats refreshes, so the budget goes to breadth first
OFFERS_FRESH = {policy.HOT: timedelta(hours=6), policy.PROFITABLE: timedelta(hours=24)}
HISTORY_MAX_AGE = timedelta(hours=72)  # full history re-analysed at least this often
# DealRecord fields computed from the history: kept from the stored row on stats-only refreshes
HISTORY_FIELDS = (
    "avg_1yr",
    "inferred_sales_count",
    "offer_drops_count",
    "deal_trust",
    "trend",
    "peak_months",
    "trough_months",
    "peak_mask",
    "seasonality",
    "list_at",
    "expected_trough_price",
)
MONEY_FIELDS = (
    "all_in_cost",
    "amz_fees",
    "profit",
    "margin",
    "roi",
    "min_listing_price",
    "percent_down",
)
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
    sellers_fetched: int = 0
    tokens: int = 0
    queued_for_alerts: int = 0
    errors: list[dict[str, Any]] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["errors"] = d["errors"][:5]
        return d


def batch_size_for(
    balance: float | None,
    refill_rate: float | None,
    *,
    floor: int = 50,
    reserve: int = 10,
    max_batch: int = 100,
    offer_share: float = OFFER_SHARE_GUESS,
) -> int:
    """ASINs to take now: what the balance above the floor pays for, at the expected mix.

    In steady state the balance sits near the floor, so each run takes about what the bucket
    refilled since the last one: the batch follows the refill rate. Unsynced budget (no
    balance known yet): one minute's refill, so a fresh start never overdraws. Below half a
    minute's refill: 0 (wait for the next refill rather than send a tiny batch).
    """
    per_asin = 1 + offer_share * EXPECTED_OFFER_COST
    if balance is None:
        return max(1, min(max_batch, int((refill_rate or 5) / per_asin)))
    # Keepa's bucket holds 60 minutes of refill: at 1 token/min it tops out at 60, so a fixed
    # reserve of 10 above a floor of 50 left nothing to spend, ever (measured: the bench's
    # 1-token/min run fetched no product in a week). The reserve never exceeds a minute's refill.
    reserve = min(reserve, max(1, int(refill_rate or reserve)))
    spendable = balance - floor - reserve
    n = max(0, min(max_batch, int(spendable / per_asin)))
    # the tail of a minute's spend (10, 5, 2, 1 ASINs at 20 tokens/min) cost a claim, a Keepa
    # request and an upsert each; a batch under half a minute's refill waits for the next
    # refill instead (nothing is lost: Keepa keeps unspent tokens for an hour)
    min_batch = max(1, min(max_batch, int((refill_rate or 0) / per_asin / 2)))
    return n if n >= min_batch else 0


def claim_due(session: Session, now: datetime, n: int) -> list[Any]:
    """Lease up to n due deals (highest priority, then longest overdue) for this worker.

    One UPDATE ... RETURNING: pick, lease and read in a single statement (was a SELECT, an
    UPDATE and an ORM load of the leased rows: ~15 % of the freshness bench's CPU). The due
    test is repeated on the UPDATE itself, so a row another worker leased in between is never
    taken twice (PostgreSQL re-checks it on the locked row; SKIP LOCKED lets parallel workers
    pick different rows; SQLite runs one writer at a time). Returns read-only rows with every
    deal column.
    """
    if n <= 0:
        return []
    deal = table_of(Deal)
    due = or_(deal.c.next_refresh_at.is_(None), deal.c.next_refresh_at <= now)
    pick = (
        select(deal.c.asin)
        .where(due)
        .order_by(deal.c.priority.desc(), deal.c.next_refresh_at.asc())
        .limit(n)
        .with_for_update(skip_locked=True)
    )
    rows = session.execute(
        update(deal)
        .where(deal.c.asin.in_(pick))
        .where(due)
        .values(next_refresh_at=now + LEASE)
        .returning(*deal.c)
    ).all()
    session.commit()
    return list(rows)


def _precheck(record: Any) -> bool:
    """Cheap profitability test on the stats-only analysis: worth buying offers for?

    Without a used-by-condition price in the stats, only Keepa's plain used price (shipping
    left out, so never Price Now) may say a used offer exists: when it is below the sale price,
    the offers are the only way to price the deal; buy them rather than leave it unpriced.
    """
    profit = getattr(record, "profit", None)
    if profit is not None:
        return profit > 0
    hint, list_at = getattr(record, "used_price_hint", None), getattr(record, "list_at", None)
    return (
        getattr(record, "price_now", None) is None
        and hint is not None
        and list_at is not None
        and hint < list_at
    )


def _offers_due(
    record: Any,
    offers_at: datetime | None,
    old_price: float | None,
    now: datetime,
    old_source: str | None = None,
) -> bool:
    """Buy offers for a pre-checked candidate unless its offers are fresh for its tier.

    A price move of 5 % or more since the last fetch makes stored offers stale at once
    (policy.price_moved: an offers price and a stats price are compared on one basis).
    """
    if offers_at is None:
        return True
    price = getattr(record, "price_now", None)
    if policy.price_moved(
        old_price,
        price,
        old_source=old_source,
        new_source=getattr(record, "price_now_source", None),
    ):
        return True
    t = policy.tier(getattr(record, "profit", None), getattr(record, "roi", None), price)
    return now - offers_at >= OFFERS_FRESH.get(t, OFFERS_FRESH[policy.PROFITABLE])


def merge_history_fields(record: Any, deal: Any) -> Any:
    """Complete a stats-only record with the stored history-derived fields and redo the money.

    The missing-field reasons of those fields come from the stored row too, so a refresh never
    claims "no history" for a deal whose history was analysed before.
    """
    from tools.deals import money as m
    from tools.deals.analytics import PERCENT_DOWN_MISSING, amazon_cap_cents, percent_down
    from tools.user_settings import DEFAULT_SETTINGS

    for name in HISTORY_FIELDS:
        setattr(record, name, getattr(deal, name))
    if record.list_at is not None and record.amazon_new_low:
        # the stored List at was capped against the Amazon price of its day; today's may be
        # lower, and the 90 % cap must hold now (no ghost profit until the next full history)
        record.list_at = min(record.list_at, amazon_cap_cents(record.amazon_new_low) / 100)
    missing = {
        k: v
        for k, v in (record.missing or {}).items()
        if k not in HISTORY_FIELDS and k not in MONEY_FIELDS and k != "inferred_sales"
    }
    old = deal.missing or {}
    missing.update({k: v for k, v in old.items() if k in HISTORY_FIELDS})
    record.percent_down = percent_down(record.avg_1yr, record.price_now)
    if record.percent_down is None:
        missing["percent_down"] = PERCENT_DOWN_MISSING
    money = m.compute_money(record.money_inputs(), DEFAULT_SETTINGS)
    for name in ("all_in_cost", "amz_fees", "profit", "margin", "roi", "min_listing_price"):
        setattr(record, name, getattr(money, name))
    for name, reason in money.missing.items():
        missing.setdefault(name, reason)
    record.missing = missing
    return record


def upsert_deal_row(session: Session, record: Any, *, now: datetime) -> None:
    """Upsert only the deal row (a stats-only refresh has no chart series to store)."""
    from tools.deals import deal_row

    upsert(session, Deal, deal_row(record, now=now))


def upsert_records(session: Session, records: list[tuple[Any, bool]], *, now: datetime) -> None:
    """Batch form of tools.deals.upsert_deal (deal row + history row) and upsert_deal_row.

    records: (record, with_history); the same rows as the one-at-a-time functions write.
    """
    from tools.deals.store import deal_row, history_row

    upsert(session, Deal, [deal_row(r, now=now) for r, _ in records])
    upsert(
        session,
        DealHistory,
        [history_row(r, now=now) for r, with_history in records if with_history],
    )


def _history_ages(session: Session, asins: list[str]) -> dict[str, datetime]:
    rows = session.exec(
        select(DealHistory.asin, DealHistory.updated_at).where(col(DealHistory.asin).in_(asins))
    ).all()
    return {a: t for a, t in rows if t is not None}


def _analyse_all(
    result: ProcessorResult,
    analyse: Analyse,
    products: list[dict[str, Any]],
    now: datetime,
    label: str,
) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for product in products:
        asin = product["asin"]
        try:
            out[asin] = analyse(product, now=now, validate=False)
        except Exception as err:  # one bad product never sinks the batch
            log.warning("analysis of %s%s failed: %s", asin, label, err)
            result.errors.append({"asin": asin, "reason": f"analysis{label}: {err}"})
    return out


def _fail(session: Session, asin: str, now: datetime, reason: dict[str, Any]) -> None:
    deal = session.get(Deal, asin)
    if deal is None:
        return
    deal.next_refresh_at = now + FAILURE_BACKOFF
    why = str(reason.get("reason") or reason)
    if reason.get("field"):  # a malformed product: which of its fields, as the error said
        why = f"field {reason['field']!r} {why}"
    deal.missing = {**(deal.missing or {}), "keepa": why}
    session.add(deal)


def _seller_quality(
    client: Any,
    session: Session,
    result: ProcessorResult,
    records: dict[str, Any],
    deals: dict[str, Any],
    with_offers: set[str],
    now: datetime,
) -> None:
    """Score the Price Now sellers of this batch's offers; keep the last known score on a
    stats-only refresh while the deal's offers are fresh (a stats Price Now names no seller,
    and a refresh must not wipe what the offers fetch paid for)."""
    if with_offers and hasattr(client, "seller"):  # test doubles may only fetch products
        ids = {records[a].seller_id for a in with_offers if records[a].seller_id}
        sellers, fetched = lookup_sellers(client, session, ids, now)
        result.sellers_fetched = fetched
        result.tokens += fetched  # 1 token per seller
        for asin in with_offers:
            apply_seller_quality(records[asin], sellers)
    for asin, rec in records.items():
        deal = deals[asin]
        if asin in with_offers or rec.seller_id is not None or deal.seller_quality is None:
            continue
        t = policy.tier(getattr(rec, "profit", None), getattr(rec, "roi", None), rec.price_now)
        fresh_for = OFFERS_FRESH.get(t, OFFERS_FRESH[policy.PROFITABLE])
        if deal.offers_fetched_at is not None and now - deal.offers_fetched_at < fresh_for:
            rec.seller_id, rec.seller_quality = deal.seller_id, deal.seller_quality
            rec.missing = {k: v for k, v in (rec.missing or {}).items() if k != "seller_quality"}


def run_processor(
    client: ProductsClient,
    session: Session,
    clock: Clock,
    *,
    batch_size: int,
    analyse: Analyse | None = None,
    upsert: Upsert | None = None,
    stats_days: int = 365,
    history_max_age: timedelta = HISTORY_MAX_AGE,
) -> ProcessorResult:
    """Process one batch; every phase commits so a crash loses at most the current batch."""
    if analyse is None:
        from tools.deals import analyse_product

        analyse = analyse_product
    now = now_dt(clock)
    result = ProcessorResult()
    claimed = claim_due(session, now, batch_size)
    result.claimed = len(claimed)
    if not claimed:
        return result
    deals = {d.asin: d for d in claimed}
    try:
        _process_claimed(
            client, session, result, deals, now, analyse, upsert, stats_days, history_max_age
        )
    except shutdown.Stopped:
        # a stopping worker: this batch wrote nothing yet; its deals are due again at once
        # (not when the lease runs out) for whichever worker runs next
        session.rollback()
        release_claims(session, list(deals), now)
        raise
    return result


def release_claims(session: Session, asins: list[str], now: datetime) -> None:
    """Give back the leases claim_due() took on `asins` (still held: not processed since)."""
    session.execute(
        update(Deal)
        .where(col(Deal.asin).in_(asins))
        .where(col(Deal.next_refresh_at) == now + LEASE)
        .values(next_refresh_at=now)
        .execution_options(synchronize_session=False)
    )
    session.commit()


def _process_claimed(
    client: ProductsClient,
    session: Session,
    result: ProcessorResult,
    deals: dict[str, Any],
    now: datetime,
    analyse: Analyse,
    upsert: Upsert | None,
    stats_days: int,
    history_max_age: timedelta,
) -> None:
    """Fetch, analyse and write one claimed batch; commits at the end."""
    before = {
        d.asin: (d.price_now, d.sales_rank, d.offers_fetched_at, d.price_now_source)
        for d in deals.values()
    }
    hist_at = _history_ages(session, list(deals))
    # stats-only refresh for deals analysed with history recently enough; full fetch otherwise
    light = {
        a
        for a, d in deals.items()
        if d.fetched_at is not None and a in hist_at and now - hist_at[a] < history_max_age
    }
    # spend is booked as "processor" for first fetches, "refresher" for deals fetched before
    known = {a for a, d in deals.items() if d.fetched_at is not None}
    records: dict[str, Any] = {}
    groups: list[tuple[list[str], bool, KeepaPurpose]] = [
        (sorted(set(deals) - known), True, "processor"),
        (sorted(known - light), True, "refresher"),
        (sorted(light), False, "refresher"),
    ]
    for group, history, purpose in groups:
        if not group:
            continue
        res = client.products(group, stats=stats_days, history=history, purpose=purpose)
        result.tokens += int(getattr(res, "tokens_consumed", 0) or 0)
        records.update(_analyse_all(result, analyse, res.products, now, ""))
        for err in res.errors:
            result.errors.append(err.as_dict())
        for asin in res.missing:
            result.errors.append({"asin": asin, "reason": "not returned by Keepa"})
    for asin in light & set(records):
        merge_history_fields(records[asin], deals[asin])

    candidates = [
        a
        for a, rec in records.items()
        if _precheck(rec) and _offers_due(rec, before[a][2], before[a][0], now, before[a][3])
    ]
    with_offers: set[str] = set()
    for group, history in (
        (sorted(set(candidates) - light), True),
        (sorted(set(candidates) & light), False),
    ):
        if not group:
            continue
        offers = client.products(
            group, stats=stats_days, offers=OFFERS_PAGE, history=history, purpose="processor-offers"
        )
        result.tokens += int(getattr(offers, "tokens_consumed", 0) or 0)
        fresh = _analyse_all(result, analyse, offers.products, now, " with offers")
        for asin, rec in fresh.items():
            records[asin] = merge_history_fields(rec, deals[asin]) if not history else rec
            with_offers.add(asin)
    result.offers_fetched = len(with_offers)
    _seller_quality(client, session, result, records, deals, with_offers, now)

    marks: list[dict[str, Any]] = []
    if upsert is None:  # one executemany per table; stats-only rows leave the charts untouched
        upsert_records(
            session, [(rec, asin not in light) for asin, rec in records.items()], now=now
        )
    for asin, rec in records.items():
        if upsert is not None:  # a caller's own writer, one record at a time
            if asin in light:  # analytics columns, status active, last_seen; charts untouched
                upsert_deal_row(session, rec, now=now)
            else:
                upsert(session, rec, now=now)
        price = getattr(rec, "price_now", None)
        old_price, old_rank, old_offers_at, old_source = before[asin]
        volatile = policy.is_volatile(
            old_price,
            price,
            old_rank,
            getattr(rec, "sales_rank", None),
            old_source=old_source,
            new_source=getattr(rec, "price_now_source", None),
        )
        t = policy.tier(getattr(rec, "profit", None), getattr(rec, "roi", None), price)
        marks.append(
            {
                "k": asin,
                "fetched": now,
                "prio": t,
                "offers_at": now if asin in with_offers else old_offers_at,
                "due": policy.next_refresh(now, asin, t, volatile),
            }
        )
    if marks:  # the pipeline's own columns, one executemany
        session.connection().execute(
            update(Deal)
            .where(col(Deal.asin) == bindparam("k"))
            .values(
                fetched_at=bindparam("fetched"),
                priority=bindparam("prio"),
                offers_fetched_at=bindparam("offers_at"),
                next_refresh_at=bindparam("due"),
            )
            .execution_options(synchronize_session=False),
            marks,
        )
    result.upserted = len(marks)
    result.fetched = len(records)
    for err in result.errors:
        if err.get("asin") and err["asin"] not in records:
            _fail(session, err["asin"], now, err)
            result.failed += 1
    if records and alerts_wanted(session):  # in this transaction: none skipped, none twice
        result.queued_for_alerts = queue_deals(session, records, now)
    session.commit()
