"""The sandbox looks like Keepa (shapes, models, parse_csv) and charges tokens like Keepa."""

from __future__ import annotations

import json
import math
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import keepa
import pytest
from keepa.models import backend as keepa_models

from tools.keepa import SimClock, to_keepa_minutes, validate_product
from tools.sandbox.keepa import SandboxMarket, create_app

START = 1_780_000_000.0  # a fixed market "now" so tests are reproducible


@pytest.fixture
def clock() -> SimClock:
    return SimClock(START)


@pytest.fixture
def market(clock: SimClock) -> SandboxMarket:
    return SandboxMarket(n_products=600, seed=7, refill_rate=20, clock=clock)


@pytest.fixture
def http(market: SandboxMarket) -> Iterator[httpx.Client]:
    # the sync ASGI route: an httpx.Client over a WSGI-like shim is not available, so use the
    # async transport through a tiny sync facade
    import asyncio

    loop = asyncio.new_event_loop()
    client = httpx.AsyncClient(transport=httpx.ASGITransport(app=create_app(market)),
                               base_url="http://sandbox")

    class Facade:
        def get(self, path: str, **params: Any) -> httpx.Response:
            return loop.run_until_complete(client.get(path, params={"key": "k", **params}))

    yield Facade()  # type: ignore[misc]
    loop.run_until_complete(client.aclose())
    loop.close()


def _fixture_product(keepa_fixtures: Path) -> dict[str, Any]:
    return json.loads((keepa_fixtures / "product_B0F7XPYCSJ.json").read_text())["products"][0]


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
    titles = [market.product(a)[0]["title"] for a in market.asins()[:60]]
    assert any("Edition" in t for t in titles)


def test_products_have_keepa_shape_and_validate_like_fixtures(
        market: SandboxMarket, keepa_fixtures: Path, http: Any) -> None:
    real = _fixture_product(keepa_fixtures)
    real_extra = set(keepa_models.Product.model_validate(real).model_extra or {})
    asins = market.asins()[:40]
    body = http.get("/product/", asin=",".join(asins), stats=365, offers=20).json()
    response = keepa_models.Response.model_validate(body)
    assert len(response.products) == 40
    for raw, model in zip(body["products"], response.products, strict=True):
        validate_product(raw)
        assert set(raw) - set(real) <= {"offers"}, "keys Keepa never sends"
        assert set(model.model_extra or {}) <= real_extra
        assert set(raw["stats"]) - set(real["stats"]) <= {"buyBoxStats"}
        assert len(raw["csv"]) == 36 and len(raw["stats"]["current"]) == 36
        parsed = keepa.parse_csv(raw["csv"])
        assert "USED" in parsed and "SALES" in parsed
        for offer in raw["offers"]:
            keepa_models.Offer.model_validate(offer)
            assert len(offer["offerCSV"]) % 3 == 0
            assert offer["condition"] in range(1, 6)
        assert raw["fbaFees"]["pickAndPackFee"] > 0
        assert raw["referralFeePercentage"] == 15.0


def test_stats_follow_the_history(market: SandboxMarket) -> None:
    product, _ = market.product(market.asins()[5], stats=365)
    csv, stats = product["csv"], product["stats"]
    assert stats["current"][2] == csv[2][-1]  # lowest used price now
    assert stats["current"][3] == csv[3][-1]  # sales rank now
    ranks = csv[3][1::2]
    times = csv[3][0::2]
    lo = product["lastUpdate"] - 30 * 1440
    drops = sum(1 for k in range(1, len(ranks)) if ranks[k] < ranks[k - 1] and times[k] >= lo)
    assert stats["salesRankDrops30"] == drops
    used = [v for v in csv[2][1::2] if v >= 0]
    assert stats["min"][2][1] == min(used) and stats["max"][2][1] == max(used)
    assert min(used) <= stats["avg365"][2] <= max(used)


def test_market_clock_moves_prices_and_sales(market: SandboxMarket) -> None:
    fast = int(max(range(market.catalog.n), key=lambda i: market.catalog.velocity[i]))
    asin = market.asins()[fast]
    now = market.now_min()
    before, _ = market.product(asin, stats=30, update=0)
    market.advance(3 * 24 * 60)
    after, _ = market.product(asin, stats=30, update=0)
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


def _cost(resp: httpx.Response) -> int:
    return resp.json()["tokensConsumed"]


def test_token_costs_to_the_token(market: SandboxMarket, http: Any) -> None:
    asins = market.asins()[:7]
    start = market.tokens.balance()
    assert start == 1200  # 60 x 20 tokens/min: a full bucket
    r = http.get("/product/", asin=",".join(asins), stats=90)
    assert _cost(r) == 7 and r.json()["tokensLeft"] == start - 7
    assert _cost(http.get("/product/", asin=asins[0], buybox=1)) == 3
    r = http.get("/product/", asin=asins[1], offers=40, buybox=1)
    n = len(r.json()["products"][0]["offers"])
    assert n > 0
    assert _cost(r) == 6 * math.ceil(n / 10)  # buybox ignored with offers
    r = http.get("/product/", asin=asins[1], offers=40)  # offers fetched < 1 h ago: fresh
    assert _cost(r) == 5 * math.ceil(n / 10)
    sel = {"page": 0, "priceTypes": [2], "isRangeEnabled": True, "deltaPercentRange": [30, 100]}
    assert _cost(http.get("/deal/", selection=json.dumps(sel))) == 5
    q = http.get("/query/", selection=json.dumps({"perPage": 50}))
    assert _cost(q) == 10 + 1 and len(q.json()["asinList"]) == 50
    sellers = ["ATVPDKIKX0DER", "ANOTHERSELLER1"]
    assert _cost(http.get("/seller/", seller=",".join(sellers))) == 2
    assert _cost(http.get("/token/")) == 0
    assert http.get("/token/").json()["tokensLeft"] == market.tokens.balance()


def test_no_offers_costs_five(market: SandboxMarket, http: Any,
                              monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(market, "_offers", lambda *a: ([], {}))  # an item nobody sells
    r = http.get("/product/", asin=market.asins()[0], offers=20)
    assert r.json()["products"][0]["offers"] == [] and _cost(r) == 5


def test_bucket_rules_positive_balance_429_refill_cap(market: SandboxMarket, clock: SimClock,
                                                      http: Any) -> None:
    asins = market.asins()[:50]
    market.tokens.set_balance(1)
    r = http.get("/product/", asin=",".join(asins))  # served while positive, goes negative
    assert r.status_code == 200 and r.json()["tokensLeft"] == -49
    r = http.get("/product/", asin=asins[0])
    assert r.status_code == 429
    body = r.json()
    assert body["tokensLeft"] == -49 and body["tokensConsumed"] == 0 and body["refillIn"] > 0
    assert body["refillRate"] == 20
    clock.advance(body["refillIn"] / 1000)  # exactly one refill
    assert market.tokens.balance() == -29
    clock.advance(60 * 2)
    assert http.get("/product/", asin=asins[0]).json()["tokensLeft"] == 10
    clock.advance(5 * 3600)  # tokens expire after 60 minutes: cap 60 x rate
    assert market.tokens.balance() == 1200
    assert market.tokens.rejected == 1


def test_error_statuses(http: Any, market: SandboxMarket) -> None:
    assert http.get("/product/", asin=",".join(market.asins()[:101])).status_code == 400
    assert http.get("/product/", asin=market.asins()[0], offers=5).status_code == 400
    assert http.get("/deal/", selection="{not json").status_code == 400
    assert http.get("/nothing/").status_code == 404


def test_deals_honour_selection_and_12h_rule(market: SandboxMarket) -> None:
    sel = {"page": 0, "priceTypes": [2], "dateRange": 2, "sortType": 4,
           "isRangeEnabled": True, "deltaPercentRange": [20, 100],
           "currentRange": [500, 20000], "salesRankRange": [1, 3_000_000],
           "includeCategories": [283155], "isFilterEnabled": True,
           "mustNotHaveAmazonOffer": True}
    deals = market.deals(sel)
    keepa_models.DealResponse.model_validate(deals)
    dr = deals["dr"]
    assert 0 < len(dr) <= 150
    now = to_keepa_minutes(market.clock.now())
    for d in dr:
        assert now - d["lastUpdate"] <= 12 * 60
        assert d["rootCat"] == 283155
        assert d["deltaPercent"][2][2] >= 20
        assert 500 <= d["current"][2] <= 20000
        assert 1 <= d["current"][3] <= 3_000_000
        assert d["current"][0] == -1
        assert len(d["avg"]) == len(d["delta"]) == len(d["deltaPercent"]) == 4
    pct = [d["deltaPercent"][2][2] for d in dr]
    assert pct == sorted(pct, reverse=True)
    nothing = market.deals({**sel, "includeCategories": [172282], "currentRange": [1, 2]})
    assert nothing["dr"] == []


def test_deal_pages_are_150(clock: SimClock) -> None:
    big = SandboxMarket(n_products=3000, seed=1, clock=clock)
    first = big.deals({"page": 0, "priceTypes": [1], "sortType": 1})
    second = big.deals({"page": 1, "priceTypes": [1], "sortType": 1})
    assert len(first["dr"]) == 150
    assert {d["asin"] for d in first["dr"]}.isdisjoint(d["asin"] for d in second["dr"])


@pytest.mark.parametrize(("sort_type", "key"), [
    (1, lambda d: d["creationDate"]),  # newest deal first: the scout's watermark relies on it
    (4, lambda d: d["deltaPercent"][1][2]),  # biggest drop first
    (-4, lambda d: -d["deltaPercent"][1][2]),  # negative: inverted (smallest drop first)
    (-3, lambda d: d["current"][3]),  # worst sales rank first
])
def test_deal_pages_are_sorted_across_pages(clock: SimClock, sort_type: int, key: Any) -> None:
    """Keepa sorts the whole result, not each page: page 0 holds the top 150."""
    big = SandboxMarket(n_products=3000, seed=1, clock=clock)
    sel = {"priceTypes": [2], "dateRange": 1, "sortType": sort_type}
    rows: list[dict[str, Any]] = []
    for page in range(50):
        dr = big.deals({**sel, "page": page})["dr"]
        if not dr:
            break
        rows += dr
    assert len(rows) > 300
    values = [key(d) for d in rows]
    assert values == sorted(values, reverse=True)
    assert len({d["asin"] for d in rows}) == len(rows)


def test_a_later_scan_reusing_the_last_one_equals_a_fresh_market(clock: SimClock) -> None:
    """A repeated selection re-evaluates only products re-crawled since its last scan; the
    pages must be exactly what a market seeing the selection for the first time returns."""
    sel = {"priceTypes": [2], "dateRange": 1, "sortType": 4}
    day = clock.now() // 86400 * 86400  # the same market start for both
    warm = SandboxMarket(n_products=3000, seed=1, clock=clock, start=day)
    warm.deals(sel)
    clock.advance(90 * 60)
    fresh = SandboxMarket(n_products=3000, seed=1, clock=clock, start=day)
    for page in (0, 3):
        again, first = (m.deals({**sel, "page": page})["dr"] for m in (warm, fresh))
        assert [d["asin"] for d in again] == [d["asin"] for d in first]
        assert again == first


def test_new_deals_appear_as_time_passes(market: SandboxMarket) -> None:
    sel = {"priceTypes": [2], "dateRange": 1, "isRangeEnabled": True,
           "deltaPercentRange": [25, 100]}
    before = {d["asin"] for d in market.deals(sel)["dr"]}
    market.advance(5 * 24 * 60)
    after = {d["asin"] for d in market.deals(sel)["dr"]}
    assert after - before


def test_seller_and_category_shapes(market: SandboxMarket, http: Any) -> None:
    product, _ = market.product(market.asins()[3], offers=20)
    seller_id = next(o["sellerId"] for o in product["offers"] if not o["isAmazon"])
    body = http.get("/seller/", seller=seller_id).json()
    model = keepa_models.Response.model_validate(body)
    seller = model.sellers[seller_id]
    assert 0 <= seller.currentRating <= 100 and seller.currentRatingCount >= 0
    cats = http.get("/category/", category="283155").json()["categories"]
    assert cats["283155"]["name"] == "Books"


@pytest.mark.parametrize(("interval", "days", "buybox"), [(365, None, False), (90, 30, False),
                                                         (30, None, True), (180, 200, True)])
def test_fast_stats_and_csv_equal_the_reference_definition(
        market: SandboxMarket, interval: int, days: int | None, buybox: bool) -> None:
    """product() uses SeriesTable (prefix integrals); compute_stats is the readable definition."""
    from tools.sandbox.keepa.series import BUY_BOX_USED, USED_ACC
    from tools.sandbox.keepa.stats import compute_stats

    for _ in range(2):
        for i, asin in enumerate(market.asins()[:30]):
            product, _ = market.product(asin, stats=interval, days=days, buybox=buybox,
                                        update=0)
            at = product["lastUpdate"]
            view = market._view(i, at, days)
            if buybox:
                view[BUY_BOX_USED] = view[USED_ACC]
            extra = {"buyBoxPrice": product["stats"]["buyBoxPrice"],
                     "buyBoxShipping": product["stats"]["buyBoxShipping"]} if buybox else {}
            assert product["stats"] == compute_stats(view, at, interval, extra), asin
            assert product["csv"] == [view[k].to_csv() if k in view and len(view[k].t) else None
                                      for k in range(36)], asin
        market.advance(9 * 24 * 60 + 17)
