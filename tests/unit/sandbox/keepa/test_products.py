"""/product/ answers look like Keepa's (shapes, models, parse_csv) and follow the history."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import keepa
import numpy as np
import pytest
from keepa.models import backend as keepa_models

from tests.unit.sandbox.keepa.helpers import known_product
from tools.keepa.parsing import validate_product
from tools.sandbox.keepa import SandboxMarket


def _fixture_product(keepa_fixtures: Path) -> dict[str, Any]:
    return json.loads((keepa_fixtures / "product_B0F7XPYCSJ.json").read_text())["products"][0]


def test_products_have_keepa_shape_and_validate_like_fixtures(
    market: SandboxMarket, keepa_fixtures: Path, http: Any
) -> None:
    real = _fixture_product(keepa_fixtures)
    real_extra = set(keepa_models.Product.model_validate(real).model_extra or {})
    asins = market.asins()[:40]
    body = http.get("/product/", asin=",".join(asins), stats=365, offers=20).json()
    models = keepa_models.Response.model_validate(body).products
    assert models is not None and len(models) == 40
    for raw, model in zip(body["products"], models, strict=True):
        assert model is not None
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
    ranked = next(a for i, a in enumerate(market.asins()) if market.catalog.ranked[i])
    product = known_product(market, ranked, stats=365)
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


@pytest.mark.parametrize(
    ("interval", "days", "buybox"),
    [(365, None, False), (90, 30, False), (30, None, True), (180, 200, True)],
)
def test_fast_stats_and_csv_equal_the_reference_definition(
    market: SandboxMarket, interval: int, days: int | None, buybox: bool
) -> None:
    """product() uses SeriesTable (prefix integrals); compute_stats is the readable definition."""
    from tools.sandbox.keepa.series import BUY_BOX_USED, cheap_condition
    from tools.sandbox.keepa.stats import compute_stats

    for _ in range(2):
        for i, asin in enumerate(market.asins()[:30]):
            product = known_product(
                market, asin, stats=interval, days=days, buybox=buybox, update=0
            )
            at = product["lastUpdate"]
            view = market._view(i, at, days)
            if buybox:
                view[BUY_BOX_USED] = view[int(cheap_condition(market.catalog, np.array([i]))[0])]
            extra = (
                {
                    "buyBoxPrice": product["stats"]["buyBoxPrice"],
                    "buyBoxShipping": product["stats"]["buyBoxShipping"],
                }
                if buybox
                else {}
            )
            assert product["stats"] == compute_stats(view, at, interval, extra), asin
            assert product["csv"] == [
                view[k].to_csv() if k in view and len(view[k].t) else None for k in range(36)
            ], asin
        market.advance(9 * 24 * 60 + 17)


def test_books_name_a_publisher_and_analytics_keeps_it(market: SandboxMarket) -> None:
    """ "anything from Pearson" needs publishers in the market: Keepa's `manufacturer`."""
    from tools.deals.analytics import analyse_product
    from tools.sandbox.keepa.catalog import (
        ACADEMIC_PUBLISHERS,
        BOOK_KINDS,
        KIND_NAMES,
        TRADE_PUBLISHERS,
    )

    c = market.catalog
    seen: set[str] = set()
    for i, asin in enumerate(market.asins()[:200]):
        product = known_product(market, asin, stats=365)
        kind = KIND_NAMES[int(c.kind[i])]
        if int(c.kind[i]) not in BOOK_KINDS:
            assert product["manufacturer"] == "Sandbox Goods"
            continue
        names = ACADEMIC_PUBLISHERS if kind in ("textbook", "exam_prep") else TRADE_PUBLISHERS
        assert product["manufacturer"] in names
        seen.add(product["manufacturer"])
        if len(seen) == 1:
            assert analyse_product(product).publisher == product["manufacturer"]
    assert len(seen) >= 8  # spread over the lists, not one name
