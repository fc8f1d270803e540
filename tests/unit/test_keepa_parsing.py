"""Real Keepa answers validate; malformed products give typed errors and never sink a batch."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest
from keepa.models import backend as keepa_models

from tests.unit.deal_builders import NOW
from tools.deals.analytics import analyse_product
from tools.keepa.errors import MalformedProduct
from tools.keepa.parsing import validate_product, validate_products

FIXTURES = ("product_B0D8W1YVBX.json", "product_B0F7XPYCSJ.json")


def _load(keepa_fixtures: Path, name: str) -> dict[str, Any]:
    return json.loads((keepa_fixtures / name).read_text())


@pytest.mark.parametrize("name", FIXTURES)
def test_real_fixtures_validate(keepa_fixtures: Path, name: str) -> None:
    body = _load(keepa_fixtures, name)
    keepa_models.Response.model_validate(body)
    product = body["products"][0]
    assert validate_product(product) is product
    assert validate_product(product, model=True) is product
    assert product["asin"] == name.removeprefix("product_").removesuffix(".json")


def _product(keepa_fixtures: Path) -> dict[str, Any]:
    return copy.deepcopy(_load(keepa_fixtures, "product_B0F7XPYCSJ.json")["products"][0])


@pytest.mark.parametrize(
    ("mutate", "field"),
    [
        (lambda p: p.update(csv={"3": [1, 2]}), "csv"),
        (lambda p: p.pop("stats"), "stats"),
        (lambda p: p.update(stats=None), "stats"),
        (lambda p: p["stats"].update(current=None), "stats.current"),
        (lambda p: p["csv"][1].append(7554999), "csv[1] (NEW)"),
        (lambda p: p["csv"].__setitem__(3, [7554664, None]), "csv[3] (SALES)"),
        (lambda p: p["csv"].__setitem__(18, [1, 2]), "csv[18] (BUY_BOX_SHIPPING)"),
        (lambda p: p["csv"].__setitem__(1, "2599"), "csv[1] (NEW)"),
        (lambda p: p["stats"].__setitem__("min", [[1, 2, 3]]), "stats.min"),
        (
            lambda p: p.update(offers=[{"offerCSV": [1, 2, 3], "isFBA": True, "isAmazon": False}]),
            "offers[0].condition",
        ),
        (
            lambda p: p.update(
                offers=[{"offerCSV": [1, 2], "condition": 2, "isFBA": True, "isAmazon": False}]
            ),
            "offers[0].offerCSV",
        ),
    ],
)
def test_malformed_product_names_asin_and_field(
    keepa_fixtures: Path, mutate: Any, field: str
) -> None:
    product = _product(keepa_fixtures)
    mutate(product)
    with pytest.raises(MalformedProduct) as info:
        validate_product(product)
    assert info.value.asin == "B0F7XPYCSJ"
    assert info.value.field == field
    assert "B0F7XPYCSJ" in str(info.value)


def test_older_narrower_csv_is_accepted_and_its_missing_slots_are_empty(
    keepa_fixtures: Path,
) -> None:
    """Keepa's 2025 answers carried a 34-wide csv: it validates (and is still checked slot by
    slot), and the analytics read the slots it lacks as empty histories."""
    product = _product(keepa_fixtures)
    product["csv"] = product["csv"][:34]
    assert validate_product(product) is product
    record = analyse_product(product, now=NOW)
    assert record.sales_rank_history is not None  # slot 3 is still read
    product["csv"][3] = [7554664, None]
    with pytest.raises(MalformedProduct, match=r"csv\[3\] \(SALES\)"):
        validate_product(product)


def test_ragged_csv_is_a_typed_error(keepa_fixtures: Path) -> None:
    product = _product(keepa_fixtures)
    product["csv"][3] = product["csv"][3][:-1]
    with pytest.raises(MalformedProduct, match="not a multiple of 2"):
        validate_product(product)


def test_type_errors_caught_by_structural_check_and_keepa_backend_model(
    keepa_fixtures: Path,
) -> None:
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


def test_batch_keeps_good_products_and_reports_bad_ones(keepa_fixtures: Path) -> None:
    good = _product(keepa_fixtures)
    short = _product(keepa_fixtures)
    short["asin"] = "B000SHORT1"
    short["csv"] = "junk"
    nameless = {"csv": None}
    ok, errors = validate_products([good, short, nameless, "junk"])
    assert [p["asin"] for p in ok] == ["B0F7XPYCSJ"]
    assert [(e.asin, e.field) for e in errors] == [
        ("B000SHORT1", "csv"),
        (None, "asin"),
        (None, "product"),
    ]


def test_history_off_allows_null_csv(keepa_fixtures: Path) -> None:
    product = _product(keepa_fixtures)
    product["csv"] = None
    assert validate_product(product, require_history=False) is product
    with pytest.raises(MalformedProduct, match="history was requested"):
        validate_product(product)
