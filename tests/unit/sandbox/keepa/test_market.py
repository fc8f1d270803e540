"""One seed, one market: its catalog and how market time moves it."""

from __future__ import annotations

from tests.unit.sandbox.keepa.helpers import known_product
from tools.clock import SimClock
from tools.sandbox.keepa import SandboxMarket


def test_same_seed_same_market(clock: SimClock) -> None:
    a = SandboxMarket(n_products=200, seed=3, clock=clock)
    b = SandboxMarket(n_products=200, seed=3, clock=clock)
    asin = a.asins()[17]
    assert a.asins() == b.asins()
    assert a.product(asin, stats=90) == b.product(asin, stats=90)
    assert SandboxMarket(n_products=200, seed=4, clock=clock).asins() != a.asins()


def test_mostly_books_with_textbooks(market: SandboxMarket) -> None:
    books = market.catalog.is_book().mean()
    assert 0.8 < books < 0.95
    titles = [known_product(market, a)["title"] for a in market.asins()[:60]]
    assert any("Edition" in t for t in titles)


def test_market_clock_moves_prices_and_sales(market: SandboxMarket) -> None:
    fast = int(max(range(market.catalog.n), key=lambda i: market.catalog.velocity[i]))
    asin = market.asins()[fast]
    now = market.now_min()
    before = known_product(market, asin, stats=30, update=0)
    market.advance(3 * 24 * 60)
    after = known_product(market, asin, stats=30, update=0)
    assert after["lastUpdate"] - before["lastUpdate"] == 3 * 24 * 60
    assert market.sales_between(asin, now, now + 3 * 1440) > 0
    assert len(after["csv"][3]) > len(before["csv"][3])
    # a sale shows as a used-offer-count drop followed by a rank drop within hours
    h = market.history(fast)
    sale = int(h.sale_t[(h.sale_t > now - 300 * 1440) & (h.sale_t < now)][0])
    count = h.series[12]
    k = int(count.t.searchsorted(sale, side="right")) - 1
    assert count.t[k] == sale and count.v[k] < count.v[k - 1]
    rank = h.series[3]
    j = int(rank.t.searchsorted(sale, side="right"))
    assert rank.t[j] - sale <= 8 * 60 and rank.v[j] < rank.v[j - 1]
