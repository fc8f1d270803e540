"""Real Keepa answers parse; malformed products give typed errors and never sink a batch."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import keepa
import numpy as np
import pandas as pd
import pytest
from keepa.models import backend as keepa_models

from tools.keepa import MalformedProduct, parse_product, validate_product, validate_products
from tools.keepa.parsing import KeepaHistory

FIXTURES = ("product_B0D8W1YVBX.json", "product_B0F7XPYCSJ.json")


def _load(keepa_fixtures: Path, name: str) -> dict[str, Any]:
    return json.loads((keepa_fixtures / name).read_text())


@pytest.mark.parametrize("name", FIXTURES)
def test_real_fixtures_validate_and_parse(keepa_fixtures: Path, name: str) -> None:
    body = _load(keepa_fixtures, name)
    keepa_models.Response.model_validate(body)
    product = body["products"][0]
    parsed = parse_product(product)
    assert parsed.asin == name.removeprefix("product_").removesuffix(".json")
    assert parsed.raw is product
    # keepa's parsed views: dollars and datetimes
    sales = product["csv"][3]
    assert len(parsed.history["SALES"]) == len(sales) // 2
    assert parsed.history["SALES"][-1] == sales[-1]
    assert parsed.stats["current"]["NEW"] == pytest.approx(product["stats"]["current"][1] / 100)


def _product(keepa_fixtures: Path) -> dict[str, Any]:
    return copy.deepcopy(_load(keepa_fixtures, "product_B0F7XPYCSJ.json")["products"][0])


@pytest.mark.parametrize(("mutate", "field"), [
    (lambda p: p.update(csv=p["csv"][:20]), "csv"),
    (lambda p: p.pop("stats"), "stats"),
    (lambda p: p.update(stats=None), "stats"),
    (lambda p: p["stats"].update(current=None), "stats.current"),
    (lambda p: p["csv"][1].append(7554999), "csv[1] (NEW)"),
    (lambda p: p["csv"].__setitem__(3, [7554664, None]), "csv[3] (SALES)"),
    (lambda p: p["csv"].__setitem__(18, [1, 2]), "csv[18] (BUY_BOX_SHIPPING)"),
    (lambda p: p["csv"].__setitem__(1, "2599"), "csv[1] (NEW)"),
    (lambda p: p["stats"].__setitem__("min", [[1, 2, 3]]), "stats.min"),
    (lambda p: p.update(offers=[{"offerCSV": [1, 2, 3], "isFBA": True, "isAmazon": False}]),
     "offers[0].condition"),
    (lambda p: p.update(offers=[{"offerCSV": [1, 2], "condition": 2, "isFBA": True,
                                 "isAmazon": False}]), "offers[0].offerCSV"),
])
def test_malformed_product_names_asin_and_field(keepa_fixtures: Path, mutate: Any,
                                                field: str) -> None:
    product = _product(keepa_fixtures)
    mutate(product)
    with pytest.raises(MalformedProduct) as info:
        parse_product(product)
    assert info.value.asin == "B0F7XPYCSJ"
    assert info.value.field == field
    assert "B0F7XPYCSJ" in str(info.value)


def test_short_csv_would_crash_keepa_but_is_a_typed_error(keepa_fixtures: Path) -> None:
    product = _product(keepa_fixtures)
    product["csv"] = product["csv"][:30]
    with pytest.raises(IndexError):
        keepa.parse_csv(product["csv"])
    with pytest.raises(MalformedProduct, match="has 30 entries, needs 36"):
        validate_product(product)


def test_type_errors_caught_by_structural_check_and_keepa_backend_model(
        keepa_fixtures: Path) -> None:
    product = _product(keepa_fixtures)
    product["csv"][1][1] = "not-a-price"
    for model in (False, True):
        with pytest.raises(MalformedProduct) as info:
            validate_product(product, model=model)
        assert info.value.field == "csv[1] (NEW)"
        assert "'not-a-price', not an integer" in info.value.reason
    product = _product(keepa_fixtures)
    product["title"] = 42
    with pytest.raises(MalformedProduct, match="title"):
        validate_product(product)
    product = _product(keepa_fixtures)
    product["isAdultProduct"] = "maybe"  # a field only the opt-in keepa model checks
    assert validate_product(product) is product
    with pytest.raises(MalformedProduct) as info:
        validate_product(product, model=True)
    assert info.value.field == "isAdultProduct"


def _same(a: Any, b: Any) -> bool:
    if isinstance(a, pd.DataFrame):
        return a.equals(b) and a.index.equals(b.index)
    a, b = np.asarray(a), np.asarray(b)
    return a.dtype == b.dtype and a.shape == b.shape and bool(
        np.array_equal(a, b, equal_nan=a.dtype.kind == "f"))


def _sandbox_products(n: int) -> list[dict[str, Any]]:
    from tools.clock import SimClock
    from tools.sandbox.keepa import SandboxMarket

    market = SandboxMarket(n_products=200, seed=5, clock=SimClock(1_780_000_000.0))
    found = market.products(market.asins()[:n], stats=90, buybox=True)
    return [hit[0] for hit in found if hit is not None]


@pytest.mark.parametrize("to_datetime", [True, False])
def test_fast_history_equals_keepa_parse_csv(keepa_fixtures: Path, to_datetime: bool) -> None:
    """The lazy numpy history gives exactly keepa.parse_csv's keys, values, times and frames."""
    products = [_load(keepa_fixtures, n)["products"][0] for n in FIXTURES]
    products += _sandbox_products(12)
    for product in products:
        fast = parse_product(product, to_datetime=to_datetime).history
        ref = keepa.parse_csv(product["csv"], to_datetime)
        assert set(fast) == set(ref) and len(fast) == len(ref)
        for key in ref:
            assert key in fast
            assert _same(fast[key], ref[key]), (product["asin"], key)
        slow = parse_product(product, to_datetime=to_datetime, keepa_parse=True, model=True)
        assert set(slow.history) == set(ref)
        assert parse_product(product, to_datetime=to_datetime).stats == slow.stats


def test_fast_history_raw_series_and_unix_ms(keepa_fixtures: Path) -> None:
    product = _load(keepa_fixtures, "product_B0F7XPYCSJ.json")["products"][0]
    history = parse_product(product).history
    assert isinstance(history, KeepaHistory)
    minutes, cents = history.series("SALES")
    assert minutes.tolist() == product["csv"][3][0::2]
    assert cents.tolist() == product["csv"][3][1::2]
    # docs/domain.md "Time, prices and histories": unix_ms = (keepa_minutes + 21564000) * 60000
    assert history.unix_ms("SALES")[0] == (product["csv"][3][0] + 21_564_000) * 60_000
    assert history.series("COLLECTIBLE")[0].size == 0
    with pytest.raises(KeyError):
        history["COLLECTIBLE"]


def test_batch_keeps_good_products_and_reports_bad_ones(keepa_fixtures: Path) -> None:
    good = _product(keepa_fixtures)
    short = _product(keepa_fixtures)
    short["asin"] = "B000SHORT1"
    short["csv"] = short["csv"][:10]
    nameless = {"csv": None}
    ok, errors = validate_products([good, short, nameless, "junk"])
    assert [p["asin"] for p in ok] == ["B0F7XPYCSJ"]
    assert [(e.asin, e.field) for e in errors] == [("B000SHORT1", "csv"), (None, "asin"),
                                                   (None, "product")]


def test_history_off_allows_null_csv(keepa_fixtures: Path) -> None:
    product = _product(keepa_fixtures)
    product["csv"] = None
    assert validate_product(product, require_history=False) is product
    with pytest.raises(MalformedProduct, match="history was requested"):
        validate_product(product)
