"""Parsing throughput: products/s from a decoded Keepa answer to data the code can use.

Prints one JSON document. Targets (issue 3): >= 50/s on the long real fixture
(product_B0D8W1YVBX.json, ~600 KB) and >= 500/s on typical sandbox products, one core.
`*_products_per_s` is validate_product, what KeepaClient does to every product it returns
(consumers then read only the series they need, as numpy: tools/deals/series.py);
`*_all_series_per_s` adds reading every series into numpy arrays, what a consumer of the whole
history pays; `*_keepa_parse_csv_per_s` is the keepa package's eager parse (a pandas frame and
datetimes per series, the path the project does not take) and `*_model_validate_per_s` the
opt-in pydantic check.
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import keepa  # noqa: E402
import numpy as np  # noqa: E402

from tools.clock import SimClock  # noqa: E402
from tools.keepa.conventions import TRIPLET_SLOTS  # noqa: E402
from tools.keepa.parsing import validate_product  # noqa: E402
from tools.sandbox.keepa import SandboxMarket  # noqa: E402

FIXTURE = ROOT / "tests" / "fixtures" / "keepa" / "product_B0D8W1YVBX.json"


def _rate(products: list[dict[str, Any]], fn: Any, min_s: float = 1.5) -> float:
    fn(products[0])  # warm-up
    n, start = 0, time.perf_counter()
    while time.perf_counter() - start < min_s:
        for p in products:
            fn(p)
        n += len(products)
    return round(n / (time.perf_counter() - start), 1)


def all_series(p: dict[str, Any]) -> None:
    """Validate, then every series as (time, value[, shipping]) int64 rows."""
    validate_product(p)
    for idx, series in enumerate(p["csv"]):
        if series:
            np.asarray(series, dtype=np.int64).reshape(-1, 3 if idx in TRIPLET_SLOTS else 2)


def keepa_parse(p: dict[str, Any]) -> None:
    validate_product(p)
    keepa.parse_csv(p["csv"])


def main() -> None:
    long_product = json.loads(FIXTURE.read_text())["products"][0]
    market = SandboxMarket(n_products=2000, seed=42, clock=SimClock(1_780_000_000.0))
    sandbox = [hit[0] for hit in market.products(market.asins()[:200], stats=365) if hit]
    sizes = [len(json.dumps(p)) for p in sandbox]

    def model(p: dict[str, Any]) -> None:
        validate_product(p, model=True)

    out: dict[str, Any] = {
        "long_fixture_products_per_s": _rate([long_product], validate_product),
        "long_fixture_all_series_per_s": _rate([long_product], all_series),
        "long_fixture_keepa_parse_csv_per_s": _rate([long_product], keepa_parse),
        "long_fixture_model_validate_per_s": _rate([long_product], model),
        "sandbox_products_per_s": _rate(sandbox, validate_product),
        "sandbox_all_series_per_s": _rate(sandbox, all_series),
        "sandbox_keepa_parse_csv_per_s": _rate(sandbox, keepa_parse),
        "sandbox_model_validate_per_s": _rate(sandbox, model),
        "sandbox_product_json_kb_mean": round(sum(sizes) / len(sizes) / 1024, 1),
        "long_fixture_json_kb": round(FIXTURE.stat().st_size / 1024, 1),
        "targets": {"long_fixture_products_per_s": 50, "sandbox_products_per_s": 500},
    }
    out["meets_target"] = all(out[k] >= v for k, v in out["targets"].items())
    print(json.dumps(out))
    sys.exit(0 if out["meets_target"] else 1)


if __name__ == "__main__":
    main()
