"""The HTTP app charges tokens like Keepa (to the token), keeps Keepa's bucket rules and errors."""

from __future__ import annotations

import json
import math
from typing import Any

import httpx
import pytest
from keepa.models import backend as keepa_models

from tests.unit.sandbox.keepa.helpers import known_product
from tools.clock import SimClock
from tools.sandbox.keepa import SandboxMarket


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
    n = len(r.json()["products"][0]["liveOffersOrder"])  # Keepa charges the live offers
    assert 0 < n < len(r.json()["products"][0]["offers"])  # past offers come along
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


def test_no_offers_costs_five(
    market: SandboxMarket, http: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    # an item nobody sells
    monkeypatch.setattr("tools.sandbox.keepa.products.offers_of", lambda *a: ([], {}))
    r = http.get("/product/", asin=market.asins()[0], offers=20)
    assert r.json()["products"][0]["offers"] == [] and _cost(r) == 5


def test_bucket_rules_positive_balance_429_refill_cap(
    market: SandboxMarket, clock: SimClock, http: Any
) -> None:
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


def test_seller_and_category_shapes(market: SandboxMarket, http: Any) -> None:
    product = known_product(market, market.asins()[3], offers=20)
    seller_id = next(o["sellerId"] for o in product["offers"] if not o["isAmazon"])
    body = http.get("/seller/", seller=seller_id).json()
    model = keepa_models.Response.model_validate(body)
    assert model.sellers is not None
    seller = model.sellers[seller_id]
    assert seller is not None
    assert seller.currentRating is not None and seller.currentRatingCount is not None
    assert 0 <= seller.currentRating <= 100 and seller.currentRatingCount >= 0
    cats = http.get("/category/", category="283155").json()["categories"]
    assert cats["283155"]["name"] == "Books"


def test_the_journal_records_every_request_for_audits(market: SandboxMarket) -> None:
    """`arbitrage sandbox serve --journal`: one line per request, enough to count 429s,
    check the token floor and find the same ASIN fetched twice."""
    import asyncio
    import io

    from tools.sandbox.keepa import create_app

    sink = io.StringIO()
    app = create_app(market, journal=sink)
    asins = market.asins()[:3]

    async def go() -> None:
        async with httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="http://sandbox"
        ) as c:
            await c.get("/product/", params={"key": "k", "asin": ",".join(asins), "stats": 90})
            await c.get("/product/", params={"key": "k", "asin": asins[0], "offers": 20})
            market.tokens.set_balance(0)
            assert (
                await c.get("/product/", params={"key": "k", "asin": asins[1]})
            ).status_code == 429

    asyncio.run(go())
    lines = [json.loads(x) for x in sink.getvalue().splitlines()]
    assert [(e["status"], e["asins"], e["offers"]) for e in lines] == [
        (200, asins, False),
        (200, [asins[0]], True),
        (429, [asins[1]], False),
    ]
    assert lines[0]["cost"] == 3 and lines[0]["left"] == 1200 - 3
    assert lines[0]["t"] == market.clock.now()
