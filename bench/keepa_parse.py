"""Parsing throughput: products/s through parse_product (validation + lazy numpy history).

Prints one JSON document. Targets (issue 3): >= 50/s on the long real fixture
(product_B0D8W1YVBX.json, ~600 KB) and >= 500/s on typical sandbox products, one core.
`*_per_s` is parse_product (structural validation; history/stats parsed on access);
`*_all_series_per_s` also reads every series' values and times (numpy), what a consumer that
needs the whole history pays; `*_keepa_parse_csv_per_s` is the old eager path
(keepa.parse_csv + keepa stats parser) and `*_model_validate_per_s` the opt-in pydantic check.
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tools.clock import SimClock  # noqa: E402
from tools.keepa import parse_product, validate_product  # noqa: E402
from tools.keepa.parsing import KeepaHistory  # noqa: E402
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


def main() -> None:
    long_product = json.loads(FIXTURE.read_text())["products"][0]
    market = SandboxMarket(n_products=2000, seed=42, clock=SimClock(1_780_000_000.0))
    sandbox = [market.product(a, stats=365)[0] for a in market.asins()[:200]]
    sizes = [len(json.dumps(p)) for p in sandbox]
    def all_series(p: dict[str, Any]) -> None:
        parsed = parse_product(p, to_datetime=False)
        h = parsed.history
        assert isinstance(h, KeepaHistory)
        for name in h._names:
            h[name], h[f"{name}_time"]

    def old(p: dict[str, Any]) -> None:
        parsed = parse_product(p, keepa_parse=True)
        parsed.stats  # noqa: B018 - forces keepa's stats parser, as the eager path did

    out = {
        "long_fixture_products_per_s": _rate([long_product], parse_product),
        "long_fixture_all_series_per_s": _rate([long_product], all_series),
        "long_fixture_keepa_parse_csv_per_s": _rate([long_product], old),
        "long_fixture_model_validate_per_s": _rate(
            [long_product], lambda p: validate_product(p, model=True)),
        "sandbox_products_per_s": _rate(sandbox, parse_product),
        "sandbox_all_series_per_s": _rate(sandbox, all_series),
        "sandbox_keepa_parse_csv_per_s": _rate(sandbox, old),
        "sandbox_model_validate_per_s": _rate(sandbox, lambda p: validate_product(p, model=True)),
        "sandbox_product_json_kb_mean": round(sum(sizes) / len(sizes) / 1024, 1),
        "long_fixture_json_kb": round(FIXTURE.stat().st_size / 1024, 1),
        "targets": {"long_fixture_products_per_s": 50, "sandbox_products_per_s": 500},
    }
    out["meets_target"] = all(out[k] >= v for k, v in out["targets"].items())  # type: ignore[operator]
    print(json.dumps(out))
    sys.exit(0 if out["meets_target"] else 1)


if __name__ == "__main__":
    main()
