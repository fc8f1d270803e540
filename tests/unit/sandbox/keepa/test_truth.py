"""The market's truth is what a fresh /product/ request at the same minute answers."""

from __future__ import annotations

from dataclasses import astuple
from typing import Any

from tools.clock import SimClock
from tools.deal_selection import DEFAULT_SELECTION, selection_page
from tools.deals.analytics import price_now_from_offers
from tools.sandbox.keepa import SandboxMarket
from tools.sandbox.keepa.series import COUNT_NEW, COUNT_USED, SALES, USED
from tools.sandbox.keepa.truth import ProductTruth


def _live(product: dict[str, Any]) -> list[tuple[Any, ...]]:
    offers = product["offers"]
    return sorted(
        (
            o["sellerId"],
            o["condition"],
            o["offerCSV"][-2],
            o["offerCSV"][-1],
            o["isFBA"],
            o["isAmazon"],
            o["isScam"],
            o["isShippable"],
        )
        for o in (offers[k] for k in product["liveOffersOrder"])
    )


def _fresh(market: SandboxMarket, asins: list[str]) -> list[dict[str, Any]]:
    """/product/ with update=0 (Keepa refreshes each product now), every live offer."""
    answers = market.products(asins, stats=90, offers=100, update=0, history=False)
    return [p for p, _ in (x for x in answers if x)]


def _agree(truth: ProductTruth, product: dict[str, Any]) -> None:
    assert truth.asin == product["asin"]
    assert truth.at == product["lastUpdate"]
    current = product["stats"]["current"]
    for idx in (SALES, USED, COUNT_USED, COUNT_NEW):
        assert truth.current[idx] == current[idx], idx
    assert truth.sales_rank == (current[SALES] if current[SALES] > 0 else None)
    assert truth.offers is not None
    mine = sorted(astuple(o) for o in truth.offers)  # the fields in _live's order
    assert mine == _live(product)
    # the analytics' Price Now of the answer is the truth's cheapest buyable used copy, and the
    # truth's own offers give the same Price Now
    answer = price_now_from_offers(product["offers"], product["liveOffersOrder"])
    own = price_now_from_offers(truth.keepa_offers(), None)
    best = truth.cheapest_used
    if best is None:
        assert answer is None and own is None
    else:
        assert answer is not None and own is not None
        assert round(answer.price * 100) == best.total == round(own.price * 100)
        # no used copy sells below the product's current used price (what Keepa's stats show)
        assert min(o.price for o in truth.used_offers) == truth.current[USED]
        assert answer.condition == own.condition
        assert answer.seller_id == own.seller_id == best.seller_id


def test_truth_equals_a_fresh_product_request(market: SandboxMarket, clock: SimClock) -> None:
    asins = market.asins()[:160]
    scams = skipped_scam = 0
    for _ in range(3):
        truths = market.truth(asins)
        bare = market.truth(asins, offers=False)
        assert [t and t.current for t in bare] == [t and t.current for t in truths]
        products = _fresh(market, asins)
        compared = 0
        for truth, product in zip(truths, products, strict=True):
            assert truth is not None
            if product["stats"]["totalOfferCount"] > 100:
                continue  # the answer holds at most 100 live offers; the truth all of them
            _agree(truth, product)
            compared += 1
            if any(o.is_scam for o in truth.offers or ()):
                scams += 1
                best = truth.cheapest_used
                cheapest = min(o.total for o in truth.offers or () if o.condition >= 2)
                skipped_scam += best is None or best.total > cheapest
        assert compared >= 140
        clock.advance(7 * 3600 + 13 * 60)  # prices move, copies sell, offers are redrawn
    assert skipped_scam >= 1 and scams >= skipped_scam  # a cheap scam offer never is the truth


def test_truth_at_a_past_minute_is_what_keepa_answered_then(
    market: SandboxMarket, clock: SimClock
) -> None:
    asins = market.asins()[300:360]
    then = market.now_min()
    answered = _fresh(market, asins)
    clock.advance(30 * 3600)
    later = market.truth(asins)
    past = market.truth(asins, at=then)
    for truth, product in zip(past, answered, strict=True):
        assert truth is not None
        if product["stats"]["totalOfferCount"] <= 100:
            _agree(truth, product)
    moved = sum(
        1
        for a, b in zip(past, later, strict=True)
        if a is not None and b is not None and a.current != b.current
    )
    assert moved >= 10  # 30 hours later the market is somewhere else
    assert market.truth(["NOTANASIN1", asins[0]])[0] is None


def test_deal_asins_are_every_page_of_the_deal_query(market: SandboxMarket) -> None:
    pages: list[str] = []
    page = 0
    while True:
        rows = market.deals(selection_page(DEFAULT_SELECTION, page))["dr"]
        pages += [r["asin"] for r in rows]
        if len(rows) < 150:
            break
        page += 1
    matched = market.deal_asins(DEFAULT_SELECTION)
    assert matched == pages and len(matched) > 0
