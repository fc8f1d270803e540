"""/deal/ pages: the selection, the 12 h rule, 150 a page, Keepa's sort across pages."""

from __future__ import annotations

from typing import Any

import pytest
from keepa.models import backend as keepa_models

from tools.clock import SimClock
from tools.keepa.conventions import to_keepa_minutes
from tools.sandbox.keepa import SandboxMarket


def test_deals_honour_selection_and_day_rule(market: SandboxMarket) -> None:
    sel = {
        "page": 0,
        "priceTypes": [2],
        "dateRange": 2,
        "sortType": 4,
        "isRangeEnabled": True,
        "deltaPercentRange": [20, 100],
        "currentRange": [500, 20000],
        "salesRankRange": [1, 3_000_000],
        "includeCategories": [283155],
        "isFilterEnabled": True,
        "mustNotHaveAmazonOffer": True,
    }
    deals = market.deals(sel)
    keepa_models.DealResponse.model_validate(deals)
    dr = deals["dr"]
    assert 0 < len(dr) <= 150
    now = to_keepa_minutes(market.clock.now())
    for d in dr:
        assert now - d["lastUpdate"] <= 24 * 60
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


@pytest.mark.parametrize(
    ("sort_type", "key"),
    [
        (1, lambda d: d["creationDate"]),  # newest deal first: the scout's watermark relies on it
        (4, lambda d: d["deltaPercent"][1][2]),  # biggest drop first
        (-4, lambda d: -d["deltaPercent"][1][2]),  # negative: inverted (smallest drop first)
        (-3, lambda d: d["current"][3]),  # worst sales rank first
    ],
)
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
    sel = {
        "priceTypes": [2],
        "dateRange": 1,
        "isRangeEnabled": True,
        "deltaPercentRange": [25, 100],
    }
    before = {d["asin"] for d in market.deals(sel)["dr"]}
    market.advance(5 * 24 * 60)
    after = {d["asin"] for d in market.deals(sel)["dr"]}
    assert after - before
