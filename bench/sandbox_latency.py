"""Sandbox /product/ latency for 100-ASIN requests (target p95 < 100 ms) and /deal/ pages.

Goes through the real KeepaClient over the in-process ASGI transport, the embedded default.
Prints one JSON document. `*_cpu_*` is process CPU time (server thread + client), which stays
meaningful when the shared machine is loaded and wall times stretch; `load_avg_1min` says how
loaded it was. A 100-product answer with history is ~6 MB of JSON: decoding it (orjson) is
the floor of the end-to-end time.
"""

from __future__ import annotations

import asyncio
import json
import os
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import httpx

from tools.keepa import KeepaClient, SimClock
from tools.keepa.sandbox import SandboxMarket, create_app


def _pct(xs: list[float], q: float) -> float:
    xs = sorted(xs)
    return round(xs[min(len(xs) - 1, int(q * len(xs)))] * 1000, 1)


async def main() -> None:
    t = time.perf_counter()
    market = SandboxMarket(n_products=20_000, seed=42, clock=SimClock(1_780_000_000.0),
                           initial_tokens=10**9)
    build_s = time.perf_counter() - t
    market.tokens.cap = 10**9
    client = KeepaClient(api_key="k", base_url="http://sandbox",
                         transport=httpx.ASGITransport(app=create_app(market)))
    asins = market.asins()
    cold, warm, server_cold, server_warm, stats_only = [], [], [], [], []
    cold_cpu, warm_cpu = [], []
    for k in range(10):
        batch = asins[k * 100:(k + 1) * 100]
        t, c = time.perf_counter(), time.process_time()
        r = await client.products(batch, stats=365)
        cold.append(time.perf_counter() - t)
        cold_cpu.append(time.process_time() - c)
        server_cold.append(r.envelope.processing_ms / 1000 if r.envelope else 0.0)
        t, c = time.perf_counter(), time.process_time()
        r = await client.products(batch, stats=365)
        warm.append(time.perf_counter() - t)
        warm_cpu.append(time.process_time() - c)
        server_warm.append(r.envelope.processing_ms / 1000 if r.envelope else 0.0)
        t = time.perf_counter()
        await client.products(asins[5000 + k * 100:5100 + k * 100], stats=365, history=False)
        stats_only.append(time.perf_counter() - t)
    # the freshness simulation's path: Python API, stats only, products never seen before
    t, c = time.perf_counter(), time.process_time()
    for a in asins[10_000:10_500]:
        market.product(a, stats=365, history=False)
    py_stats_ms = (time.perf_counter() - t) / 500 * 1000
    py_stats_cpu_ms = (time.process_time() - c) / 500 * 1000
    cpu = time.process_time()
    deal_ms = []
    sel = {"priceTypes": [2], "dateRange": 1, "sortType": 4, "isRangeEnabled": True,
           "deltaPercentRange": [20, 100], "includeCategories": [283155]}
    for _ in range(3):
        t = time.perf_counter()
        res = await client.deals(sel)
        deal_ms.append(time.perf_counter() - t)
    deal_cpu_ms = (time.process_time() - cpu) * 1000
    await client.aclose()
    print(json.dumps({
        "market_build_s": round(build_s, 3), "products": 20_000,
        "product_100_cold_p50_ms": _pct(cold, 0.5), "product_100_cold_p95_ms": _pct(cold, 0.95),
        "product_100_cached_p50_ms": _pct(warm, 0.5),
        "product_100_cached_p95_ms": _pct(warm, 0.95),
        "product_100_cold_cpu_p95_ms": _pct(cold_cpu, 0.95),
        "product_100_cached_cpu_p95_ms": _pct(warm_cpu, 0.95),
        "product_100_server_cold_p50_ms": _pct(server_cold, 0.5),
        "product_100_server_cold_p95_ms": _pct(server_cold, 0.95),
        "product_100_server_cached_p95_ms": _pct(server_warm, 0.95),
        "product_100_stats_only_cold_p95_ms": _pct(stats_only, 0.95),
        "python_product_stats_only_cold_ms": round(py_stats_ms, 3),
        "python_product_stats_only_cold_cpu_ms": round(py_stats_cpu_ms, 3),
        "deal_page_first_ms": round(deal_ms[0] * 1000, 1),
        "deal_page_repeat_ms": round(statistics.median(deal_ms[1:]) * 1000, 1),
        "deal_pages_cpu_ms": round(deal_cpu_ms, 1),
        "deals_returned": len(res.body["deals"]["dr"]),
        "load_avg_1min": round(os.getloadavg()[0], 2),
        "target_product_100_p95_ms": 100,
    }))


if __name__ == "__main__":
    asyncio.run(main())
