"""Analytics throughput: Keepa product dict -> finished DealRecord (money included).

Two workloads: the real long-history fixture (product_B0D8W1YVBX, ~600 KB of JSON) analysed
repeatedly, and products from the Keepa sandbox market (tools/sandbox/keepa: 2 years of
synthetic history, stats-only and with 20 offers). Products are generated before timing; only
`analyse_product` is timed. `validate=False` is the pipeline's path (the Keepa client already
validated the answer); the validated rate is reported too. Wall and CPU rates are both given
because the machine is shared (CPU time is what one core does alone). Prints one JSON document.

    .venv/bin/python bench/analytics.py [--products 1000] [--repeat 3]
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tools.deals.analytics import analyse_product  # noqa: E402
from tools.sandbox.keepa.market import SandboxMarket  # noqa: E402

FIXTURE = ROOT / "tests" / "fixtures" / "keepa" / "product_B0D8W1YVBX.json"


def rate(
    products: list[dict[str, Any]], repeat: int, fn: Callable[[dict[str, Any]], object]
) -> dict[str, float]:
    """Best-of-`repeat` products/second, wall and CPU."""
    for p in products[:10]:
        fn(p)  # warm up imports and caches
    best_wall = best_cpu = 0.0
    for _ in range(repeat):
        w, c = time.perf_counter(), time.process_time()
        for p in products:
            fn(p)
        dw, dc = time.perf_counter() - w, time.process_time() - c
        best_wall = max(best_wall, len(products) / dw)
        best_cpu = max(best_cpu, len(products) / max(dc, 1e-9))
    return {"per_s_wall": round(best_wall, 1), "per_s_cpu": round(best_cpu, 1)}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--products", type=int, default=1000)
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()

    fixture = json.loads(FIXTURE.read_text())["products"][0]
    market = SandboxMarket(n_products=max(args.products, 200), seed=11)
    asins = market.asins()[: args.products]
    t = time.perf_counter()
    stats_only = [market.product(a, stats=365, history=True)[0] for a in asins]
    with_offers = [
        market.product(a, stats=365, history=True, offers=20)[0]
        for a in asins[: max(1, args.products // 4)]
    ]
    gen_s = time.perf_counter() - t
    fast: Callable[[dict[str, Any]], object] = lambda p: analyse_product(p, validate=False)  # noqa: E731
    checked: Callable[[dict[str, Any]], object] = lambda p: analyse_product(p)  # noqa: E731

    sample = [analyse_product(p) for p in stats_only[:200] + with_offers[:50]]
    profitable = sum(1 for r in sample if r.profit is not None and r.profit > 0)
    out = {
        "benchmark": "deal analytics (history -> DealRecord incl. money)",
        "cpu_count": os.cpu_count(),
        "load_avg_1m": round(os.getloadavg()[0], 2),
        "real_long_fixture": {
            "asin": fixture["asin"],
            "json_kb": FIXTURE.stat().st_size // 1024,
            **rate([fixture] * 50, args.repeat, fast),
            "validated": rate([fixture] * 20, args.repeat, checked),
        },
        "sandbox": {
            "source": "tools.sandbox.keepa.SandboxMarket (synthetic market, 2 years of history)",
            "products": len(stats_only),
            "generate_seconds": round(gen_s, 1),
            "stats_only": rate(stats_only, args.repeat, fast),
            "with_offers": rate(with_offers, args.repeat, fast),
            "stats_only_validated": rate(stats_only[:300], args.repeat, checked),
            "sample_profitable_share": round(profitable / len(sample), 3),
        },
        "target_per_s_one_core": 500,
    }
    out["meets_target_cpu"] = (
        min(
            out["sandbox"]["stats_only"]["per_s_cpu"],  # type: ignore[index]
            out["sandbox"]["with_offers"]["per_s_cpu"],
        )
        >= 500
    )  # type: ignore[index]
    print(json.dumps(out, indent=2))
    sys.exit(0 if out["meets_target_cpu"] else 1)


if __name__ == "__main__":
    main()
