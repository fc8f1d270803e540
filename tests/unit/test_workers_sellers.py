"""Seller quality from Keepa /seller/, against the Keepa sandbox through the real client.

The processor looks up the Price Now seller of every offers fetch (1 token per seller, under
the shared budget as "processor-sellers"), caches the answer in keepa_seller, and keeps a
deal's score over stats-only refreshes while its offers are fresh.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta

import pytest
from sqlmodel import Session, col, select

from tools.clock import SimClock
from tools.db import session_scope
from tools.deals.analytics import seller_quality_score as quality
from tools.keepa.budget import TokenBudget
from tools.keepa.client import SyncKeepaClient
from tools.keepa.factory import make_keepa_client
from tools.models import Deal, KeepaSeller
from tools.sandbox.keepa import SandboxMarket
from tools.settings import Settings
from workers.pipeline.common import PENDING_PRIORITY, insert_pending, now_dt
from workers.pipeline.processor import run_processor
from workers.pipeline.sellers import SELLER_MAX_AGE, lookup_sellers, seller_info

START = 1_780_000_000.0
N = 400


@dataclass
class Sandbox:
    client: SyncKeepaClient
    clock: SimClock
    budget: TokenBudget
    market: SandboxMarket


@pytest.fixture
def sandbox(settings: Settings, redis_url: str) -> Iterator[Sandbox]:
    clock = SimClock(START)
    market = SandboxMarket(n_products=N, seed=42, refill_rate=5000, clock=clock, cache_size=N + 1)
    budget = TokenBudget.from_url(redis_url, name="sellers-test", clock=clock)
    budget.reset()
    client = SyncKeepaClient(make_keepa_client(settings, budget=budget, market=market, clock=clock))
    yield Sandbox(client, clock, budget, market)
    client.close()


def _process_all(client: SyncKeepaClient, session: Session, clock: SimClock) -> int:
    sellers = 0
    while (r := run_processor(client, session, clock, batch_size=100)).claimed:
        sellers += r.sellers_fetched
    return sellers


def test_seller_scale_and_score() -> None:
    assert seller_info(None, 10) is None and quality(None) is None
    assert quality(seller_info(100, 0)) is None  # no ratings: no score
    strong, thin = quality(seller_info(95, 2000)), quality(seller_info(95, 5))
    assert strong is not None and thin is not None and 9 < strong < 9.5 and thin < 6


def test_processor_scores_price_now_sellers_and_caches_them(sandbox: Sandbox) -> None:
    client, clock, budget, market = sandbox.client, sandbox.clock, sandbox.budget, sandbox.market
    with session_scope() as session:
        insert_pending(
            session,
            [{"asin": a} for a in market.asins()],
            now=now_dt(clock),
            priority=PENDING_PRIORITY,
        )
        session.commit()
        fetched = _process_all(client, session, clock)
        with_offers = session.exec(
            select(Deal).where(col(Deal.offers_fetched_at).is_not(None))
        ).all()
        assert len(with_offers) >= 3
        for deal in with_offers:
            assert deal.price_now_source == "offers" and deal.seller_id
            assert deal.seller_quality is not None and 0 < deal.seller_quality <= 10
            assert "seller_quality" not in (deal.missing or {})
        cached = session.exec(select(KeepaSeller)).all()
        assert {d.seller_id for d in with_offers} == {s.seller_id for s in cached}
        assert fetched == len(cached)
        spend = budget.spend_by_purpose()
        assert spend["processor-sellers"] == len(cached)
        assert spend["processor"] == len(market.asins()) and "refresher" not in spend

        # a stats-only refresh 5 h later keeps the score while the offers are fresh
        offers_at = {d.asin: d.offers_fetched_at for d in with_offers}
        clock.advance(5 * 3600)
        _process_all(client, session, clock)
        session.expire_all()
        spend = budget.spend_by_purpose()  # refreshes are booked apart from first fetches
        assert spend["refresher"] > 0 and spend["processor"] == len(market.asins())
        stats_only = 0
        for asin, at in offers_at.items():
            row = session.get(Deal, asin)
            assert row is not None and row.fetched_at == now_dt(clock)
            assert row.seller_quality is not None and row.seller_id is not None
            stats_only += row.offers_fetched_at == at and row.price_now_source == "stats"
        assert stats_only >= 1


def test_seller_lookups_are_cached_until_they_age(sandbox: Sandbox) -> None:
    client, clock, budget = sandbox.client, sandbox.clock, sandbox.budget
    ids = {s["sellerId"] for s in sandbox.market._sellers.records[:3]} | {"AUNKNOWNSELLER1"}
    with session_scope() as session:
        now = now_dt(clock)
        first, n1 = lookup_sellers(client, session, ids, now)
        again, n2 = lookup_sellers(client, session, ids, now + timedelta(hours=1))
        later, n3 = lookup_sellers(client, session, ids, now + SELLER_MAX_AGE)
    assert (n1, n2, n3) == (4, 0, 4)
    assert first == again == later
    assert first["AUNKNOWNSELLER1"] is None  # unknown to Keepa: cached as unrated
    assert all(first[s] is not None for s in ids - {"AUNKNOWNSELLER1"})
    assert budget.spend_by_purpose()["processor-sellers"] == 8
