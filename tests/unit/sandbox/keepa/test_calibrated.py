"""Behaviour the calibration to real Keepa answers relies on (tools/sandbox/calibration): deal
lists show only drops in the requested window, most offers in an answer are past ones, a rank
improves only when a copy sells, and a watched product is crawled on both its schedules.
These hold for any seed; the statistics themselves are measured by bench/market_realism.py."""

from __future__ import annotations

from datetime import UTC, datetime

import numpy as np
import pytest

from tests.unit.sandbox.keepa.helpers import known_product
from tools.clock import SimClock
from tools.keepa.conventions import to_keepa_minutes
from tools.sandbox.keepa import SandboxMarket
from tools.sandbox.keepa.series import DAY, SALES

START = datetime(2025, 4, 1, tzinfo=UTC).timestamp()


@pytest.fixture(scope="module")
def market() -> SandboxMarket:
    m = SandboxMarket(n_products=3000, seed=5, clock=SimClock(START), start=START)
    m.advance(15 * DAY)
    return m


def test_the_default_deal_list_holds_only_drops_of_the_last_day(market: SandboxMarket) -> None:
    """Keepa's /deal/ without dateRange uses the day window and lists only prices that dropped
    in it (real broad answers: no row with a negative day deltaPercent)."""
    now = to_keepa_minutes(market.clock.now())
    dr = market.deals({"domainId": 1, "priceTypes": [2]})["dr"]
    assert len(dr) == 150
    for d in dr:
        assert d["delta"][0][2] > 0 and d["deltaPercent"][0][2] >= 0
        assert d["current"][2] > 0
        assert d["creationDate"] <= d["lastUpdate"] <= now
        assert now - d["lastUpdate"] <= 24 * 60
    # the other windows compare with their own averages: some are rises
    assert any(d["deltaPercent"][3][2] < 0 for d in dr)


def test_most_offers_in_an_answer_are_past_ones(market: SandboxMarket) -> None:
    """Real answers carry every offer Keepa has seen (~3 % live); Price Now must come from the
    live ones, and the cheapest live used offer is the product's current used price."""
    books = [a for i, a in enumerate(market.asins()) if market.catalog.is_book()[i]][:60]
    shares = []
    for asin in books:
        p = known_product(market, asin, stats=90, offers=20, history=False)
        offers, live = p["offers"], set(p["liveOffersOrder"])
        if not live:
            continue
        updated = p["stats"]["lastOffersUpdate"]
        for k, o in enumerate(offers):
            assert (o["lastSeen"] == updated) == (k in live)
        shares.append(len(live) / len(offers))
        used = [
            offers[k]["offerCSV"][-2]
            for k in live
            if offers[k]["condition"] >= 2 and not offers[k]["isScam"]
        ]
        if used:
            assert min(used) == p["stats"]["current"][2]
    assert len(shares) > 20
    assert float(np.median(shares)) < 0.1


def test_a_rank_improves_only_when_a_copy_sells(market: SandboxMarket) -> None:
    """salesRankDrops count sales (Deal Trust and inferred sales are checked against them): no
    rank improvement without a sale since the rank point before it."""
    checked = 0
    for i in range(0, 3000, 7):
        h = market.history(i)
        rank = h.series.get(SALES)
        if rank is None or len(rank.t) < 2 or rank.v[-1] < 0:
            continue
        better = np.flatnonzero(rank.v[1:] < rank.v[:-1]) + 1
        # every improvement is a sale shown: by any time, no more improvements than sales
        sold = np.searchsorted(h.sale_t, rank.t[better], side="right")
        assert (np.arange(1, len(better) + 1) <= sold).all(), i
        checked += len(better)
    assert checked > 100


def test_a_watched_product_is_crawled_on_both_schedules(market: SandboxMarket) -> None:
    """While arbitrage sellers watch a product (an underpricing episode, the weeks after a
    scarcity spike) Keepa refreshes it every watch_h hours besides its own schedule; the last
    crawl and the first crawl after a minute agree with each other."""
    c = market.catalog
    now = market.now_min()
    watched = np.flatnonzero(np.isfinite(c.watch_h))
    rng = np.random.default_rng(0)
    for i in rng.choice(watched, 40, replace=False).tolist():
        for t in rng.integers(now - 200 * DAY, now, 10).tolist():
            nxt = market.first_crawl_after(i, t)
            assert nxt >= t and market.crawl_time(i, nxt) == nxt
            last = market.crawl_time(i, t)
            assert last <= t and market.first_crawl_after(i, last + 1) >= nxt
    day = (now - market.start_day * DAY) / DAY
    s0, e0, _, _ = c.watch_windows(watched, np.full(len(watched), day))
    inside = watched[(s0 * DAY + market.start_day * DAY <= now - 48 * 60) & (day <= e0)]
    assert len(inside) > 10
    crawled = market.crawl_times(now)[inside]
    assert (now - crawled <= c.watch_h[inside] * 60).all()
    assert (market.crawl_times(now) == [market.crawl_time(i, now) for i in range(c.n)]).all()
