"""The csv entry type check (sum + orjson instead of set(map(type, ...))) is exact on decoded
JSON: a history series passes only if every entry is an int, never a bool/float/str/null."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import orjson
import pytest

from tools.keepa.errors import MalformedProduct
from tools.keepa.parsing import _all_ints, validate_product


@pytest.mark.parametrize(
    "series",
    [
        [],
        [1, 2],
        [-1, 0, 7_554_664],
        [1, 2**70],
        [True],
        [1, False],
        [1, None],
        [1, 2.0],
        [1, float("nan")],
        [1, "2"],
        [1, [2]],
        [1, {}],
        [2**70, None],
    ],
)
def test_all_ints_is_exactly_the_type_check(series: list[Any]) -> None:
    assert _all_ints(series) == (set(map(type, series)) <= {int})


@pytest.mark.parametrize(
    ("bad", "message"),
    [
        ("true", "entry 1 is True, not an integer"),
        ("null", "entry 1 is null"),
        ("1.5", "entry 1 is 1.5, not an integer"),
        ('"1"', "entry 1 is '1', not an integer"),
    ],
)
def test_a_decoded_bool_or_float_in_a_history_is_rejected(
    keepa_fixtures: Path, bad: str, message: str
) -> None:
    body = (keepa_fixtures / "product_B0F7XPYCSJ.json").read_bytes()
    decoded = orjson.loads(body)["products"][0]
    decoded["csv"][3][1] = orjson.loads(bad)  # the value as the client's decoder yields it
    with pytest.raises(MalformedProduct) as info:
        validate_product(decoded)
    assert info.value.field == "csv[3] (SALES)" and message in str(info.value)
