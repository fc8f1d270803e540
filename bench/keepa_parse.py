"""Parsing throughput: products/s through validate_product + parse_product (keepa.parse_csv).

Prints one JSON document. Targets (issue 3): >= 50/s on the long real fixture
(product_B0D8W1YVBX.json, ~600 KB) and >= 500/s on typical sandbox products, one core.
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tools.keepa import SimClock, parse_product, validate_product  # noqa: E402
from tools.keepa.sandbox import SandboxMarket  # noqa: E402

FIXTURE = ROOT.parent / "shared" / "fixtures" / "keepa" / "product_B0D8W1YVBX.json"


def _rate(products: list[dict[str, Any]], fn: Any, min_s: float = 2.0) -> float:
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
    out = {
        "long_fixture_products_per_s": _rate([long_product], parse_product),
        "long_fixture_products_per_s_numpy_times": _rate(
            [long_product], lambda p: parse_product(p, to_datetime=False)),
        "long_fixture_validate_only_per_s": _rate([long_product], validate_product),
        "sandbox_products_per_s": _rate(sandbox, parse_product),
        "sandbox_products_per_s_numpy_times": _rate(
            sandbox, lambda p: parse_product(p, to_datetime=False)),
        "sandbox_validate_only_per_s": _rate(sandbox, validate_product),
        "sandbox_product_json_kb_mean": round(sum(sizes) / len(sizes) / 1024, 1),
        "long_fixture_json_kb": round(FIXTURE.stat().st_size / 1024, 1),
        "targets": {"long_fixture_products_per_s": 50, "sandbox_products_per_s": 500},
    }
    print(json.dumps(out))


if __name__ == "__main__":
    main()
