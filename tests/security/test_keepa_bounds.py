"""Keepa values no Keepa answer holds are refused by name, and the rest of the batch is kept
(issue 16, item 10).

Before: a price of 1.18e19 (an int orjson still decodes) passed validation, then overflowed
numpy's int64 in the analysis; a rank of 1.18e19 from stats was analysed and sent to the
database (an 8-byte SQLite integer overflows, so the batch's whole upsert failed); a 1 MB
lower-case "ASIN" was accepted; a categoryTree of the wrong types crashed the analysis.
"""

from __future__ import annotations

import copy
import json
import logging
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest

from tools.clock import SimClock
from tools.db import session_scope
from tools.keepa.client import KeepaClient, SyncKeepaClient
from tools.keepa.conventions import to_keepa_minutes
from tools.keepa.errors import MalformedProduct
from tools.keepa.parsing import validate_deal_row, validate_product, validate_products
from tools.models import Deal
from tools.sandbox.keepa import SandboxMarket
from workers.pipeline.common import PENDING_PRIORITY, deal_rows, insert_pending, now_dt
from workers.pipeline.processor import run_processor

GOOD, BAD = "B0F7XPYCSJ", "B0D8W1YVBX"
HUGE = 11_800_000_000_000_000_000  # 1.18e19: above int64, still an int to orjson
ENV = {
    "tokensLeft": 100,
    "refillIn": 30_000,
    "refillRate": 20,
    "timestamp": 1,
    "tokensConsumed": 1,
    "tokenFlowReduction": 0.0,
    "processingTimeInMs": 1,
}

Mutation = Callable[[dict[str, Any]], object]


def _product(keepa_fixtures: Path, name: str = GOOD) -> dict[str, Any]:
    body = json.loads((keepa_fixtures / f"product_{name}.json").read_text())
    return copy.deepcopy(body["products"][0])


def _set_tree(p: dict[str, Any], tree: object) -> None:
    p["categoryTree"] = tree


@pytest.mark.parametrize(
    ("mutate", "field", "says"),
    [
        (lambda p: p["csv"][2].__setitem__(1, HUGE), "csv[2] (USED)", "outside -2..2,147,483,647"),
        (lambda p: p["csv"][3].__setitem__(1, 2**63), "csv[3] (SALES)", "outside"),
        (lambda p: p["csv"][3].__setitem__(0, -(2**40)), "csv[3] (SALES)", "Keepa minutes"),
        (lambda p: p["csv"][1].__setitem__(1, -500), "csv[1] (NEW)", "entry 1 is -500"),
        (lambda p: p["stats"]["current"].__setitem__(3, HUGE), "stats.current", "entry 3"),
        (lambda p: p["stats"]["min"].__setitem__(2, [7_000_000, HUGE]), "stats.min[2]", "value"),
        (
            lambda p: p["stats"].__setitem__("salesRankDrops30", 1e300),
            "stats.salesRankDrops30",
            "outside",
        ),
        (
            lambda p: p["stats"].__setitem__("offerCountFBA", "12"),
            "stats.offerCountFBA",
            "not a number",
        ),
        (lambda p: p.__setitem__("rootCategory", 2**64 - 1), "rootCategory", "category id"),
        (
            lambda p: p.__setitem__("referralFeePercentage", 1e9),
            "referralFeePercentage",
            "percentage",
        ),
        (
            lambda p: p.__setitem__("fbaFees", {"pickAndPackFee": HUGE}),
            "fbaFees.pickAndPackFee",
            "outside",
        ),
        (lambda p: p.__setitem__("title", "x" * 100_000), "title", "100,000 characters"),
        (
            lambda p: _set_tree(p, [{"catId": "283155", "name": "Books"}]),
            "categoryTree[0].catId",
            "not an id",
        ),
        (
            lambda p: _set_tree(p, [{"catId": True, "name": "Books"}]),
            "categoryTree[0].catId",
            "not an id",
        ),
        (
            lambda p: _set_tree(p, [{"catId": 283155, "name": 5}]),
            "categoryTree[0].name",
            "not a name",
        ),
        (lambda p: _set_tree(p, ["Books"]), "categoryTree[0]", "not an object"),
        (
            lambda p: _set_tree(p, [{"catId": -1, "name": "Books"}]),
            "categoryTree[0].catId",
            "outside",
        ),
        (lambda p: p.__setitem__("categories", [2**70]), "categories[0]", "not a category id"),
    ],
)
def test_an_out_of_range_value_is_refused_naming_the_field(
    keepa_fixtures: Path, mutate: Mutation, field: str, says: str
) -> None:
    product = _product(keepa_fixtures)
    mutate(product)
    with pytest.raises(MalformedProduct) as info:
        validate_product(product)
    assert info.value.asin == GOOD
    assert info.value.field == field
    assert says in str(info.value)
    assert len(str(info.value)) < 300  # a huge value is described, not copied


@pytest.mark.parametrize(
    "asin",
    [
        "b0f7xpycsj",
        "B0F7XPYCS",
        "B0F7XPYCSJ1",
        "B0F7XPYCSJ\n",
        "B0F7-PYCSJ",
        "Ｂ0F7XPYCSJ",
        "B" * 1_000_000,
        1234567890,
        None,
    ],
)
def test_only_a_ten_character_asin_is_an_asin(keepa_fixtures: Path, asin: object) -> None:
    product = _product(keepa_fixtures)
    product["asin"] = asin
    with pytest.raises(MalformedProduct) as info:
        validate_product(product)
    assert info.value.field == "asin"
    assert "not an ASIN (10 capital letters or digits)" in str(info.value)
    assert len(str(info.value)) < 200


def test_values_at_the_edges_of_keepas_ranges_pass(keepa_fixtures: Path) -> None:
    product = _product(keepa_fixtures)
    product["csv"][2] = [7_000_000, 2**31 - 1, 7_000_001, -2]  # Keepa's largest price; unknown
    product["stats"]["current"][3] = -1
    product["rootCategory"] = 7_792_528_011  # browse node ids pass 2^31
    assert validate_product(product) is product


def test_sandbox_products_with_offers_all_pass() -> None:
    market = SandboxMarket(n_products=300, seed=7, clock=SimClock(1_780_000_000.0))
    answers = [market.product(a, stats=365, offers=20) for a in market.asins()[:150]]
    products = [answer[0] for answer in answers if answer is not None]
    good, errors = validate_products(products)
    assert errors == [] and len(good) == 150


def _keepa_answering(products: list[dict[str, Any]]) -> SyncKeepaClient:
    """A real client whose Keepa answers every /product/ call with these products."""

    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, json={**ENV, "products": products})

    return SyncKeepaClient(
        KeepaClient(
            api_key="k",
            base_url="http://keepa.test",
            transport=httpx.MockTransport(handler),
            clock=SimClock(1_780_000_000.0),
        )
    )


def test_the_client_keeps_the_batch_and_names_the_bad_product(keepa_fixtures: Path) -> None:
    bad = _product(keepa_fixtures, BAD)
    bad["csv"][3][1] = HUGE
    with _keepa_answering([_product(keepa_fixtures), bad]) as client:
        result = client.products([GOOD, BAD], stats=365)
    assert [p["asin"] for p in result.products] == [GOOD]
    assert [(e.asin, e.field) for e in result.errors] == [(BAD, "csv[3] (SALES)")]


def test_the_processor_stores_the_good_deal_and_marks_the_bad_one(keepa_fixtures: Path) -> None:
    bad = _product(keepa_fixtures, BAD)
    bad["stats"]["current"][3] = HUGE  # before: analysed, then the batch's upsert overflowed
    clock = SimClock(1_780_000_000.0)
    with _keepa_answering([_product(keepa_fixtures), bad]) as client, session_scope() as session:
        insert_pending(
            session, [{"asin": GOOD}, {"asin": BAD}], now=now_dt(clock), priority=PENDING_PRIORITY
        )
        session.commit()
        result = run_processor(client, session, clock, batch_size=10)
        good, failed = session.get(Deal, GOOD), session.get(Deal, BAD)
        assert good is not None and good.fetched_at is not None  # analysed and stored
        assert good.rank_drops_90 == 35
        assert failed is not None and failed.fetched_at is None and failed.sales_rank is None
        assert "stats.current" in (failed.missing or {}).get("keepa", "")
        assert failed.next_refresh_at is not None  # retried later, not at once
    assert result.failed == 1
    assert {"asin": BAD, "field": "stats.current"}.items() <= result.errors[0].items()


def _row(asin: object, **kw: Any) -> dict[str, Any]:
    return {"asin": asin, "title": f"t {asin}", "lastUpdate": 8_100_000, **kw}


def test_deal_rows_outside_keepas_ranges_are_skipped_by_name(
    caplog: pytest.LogCaptureFixture,
) -> None:
    rows = [
        _row("0924911735"),
        _row("x" * 100_000),
        _row("0924911736", lastUpdate=HUGE),
        _row("0924911737", avg=[[1, 2], [3, HUGE]]),
        _row("0924911738", rootCat="283155"),
        _row("0924911739", current=[-1, 2169, 1049]),
    ]
    with caplog.at_level(logging.WARNING):
        kept = deal_rows({"deals": {"dr": rows}})
    assert [r["asin"] for r in kept] == ["0924911735", "0924911739"]
    logged = caplog.text
    assert "'asin'" in logged and "'lastUpdate'" in logged and "'avg[1]'" in logged
    assert "'rootCat'" in logged
    assert "x" * 100 not in logged


def test_a_deal_row_keeps_its_own_values() -> None:
    row = _row(
        "0924911735",
        current=[-1, 2169],
        avg=[[-1, 2169], [-1, 2000]],
        deltaPercent=[[0, -47], [0, -14]],
        rootCat=283155,
        creationDate=to_keepa_minutes(1_780_000_000.0),
    )
    assert validate_deal_row(row) is row
