"""Sandbox /product/ latency for 100-ASIN requests (target p95 < 100 ms) and /deal/ pages.

Goes through the real KeepaClient (decode + validation included) over the in-process ASGI
transport, the embedded default, on a 20,000-product market. Each case is 20 requests of 100
ASINs (p95 = the 19th of 20); a warm-up request on other products comes first (it pays the
process's one-time costs: first-touch memory, lazy indexes). Cases:
- cold: products never requested before (their histories are generated in that request);
- cached: the same 100 products again at the same market time;
- cached_later: the same products after the market clock moved 61 minutes (histories cached,
  every cut, stat and csv recomputed: what a server on a wall clock mostly sees; the market's
  LRU cache is sized to hold them all);
- stats_only: `history=0`, cold and cached.
`*_server_*` is the sandbox's own processingTimeInMs (JSON encoding, transport and the client's
decode are outside it); `*_cpu_*` is process CPU time (server thread + client), which stays
meaningful when the shared machine is loaded; `load_avg_1min` says how loaded it was.
`client_decode_validate_ms` is orjson.loads + validate_products on one 100-product answer
(`payload_mb`): the floor of the end-to-end time with history. `gc_full_*`: full garbage
collections during the timed requests (a process that imported keepa and pandas holds ~140k
objects, so each costs ~0.1 s and lands on some request's p95).
With --http (default) the same cases run against `arbitrage sandbox serve` in its own process
over real HTTP (`http_*`, 10 requests each; that server freezes its startup objects, see
tools/keepa/sandbox/serve.py). --gc-freeze does the same in this process before the timed
requests (what an embedding worker could do).

Prints one JSON document.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import math
import os
import socket
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import httpx
import orjson

from tools.keepa import KeepaClient, SimClock
from tools.keepa.parsing import validate_products
from tools.keepa.sandbox import SandboxMarket, create_app
from tools.keepa.sandbox.catalog import build_catalog

ROOT = Path(__file__).resolve().parents[1]
N_PRODUCTS, SEED, N = 20_000, 42, 20


def _pct(xs: list[float], q: float) -> float:
    """Nearest-rank percentile, in ms."""
    xs = sorted(xs)
    return round(xs[max(0, math.ceil(q * len(xs)) - 1)] * 1000, 1)


class _GcTimer:
    def __init__(self) -> None:
        self.full, self.full_s, self._t = 0, 0.0, 0.0

    def __call__(self, phase: str, info: dict[str, Any]) -> None:
        if info["generation"] != 2:
            return
        if phase == "start":
            self._t = time.perf_counter()
        else:
            self.full += 1
            self.full_s += time.perf_counter() - self._t


async def _timed(client: KeepaClient, asins: list[str], **kw: Any) -> tuple[float, float, float]:
    t, c = time.perf_counter(), time.process_time()
    r = await client.products(asins, **kw)
    if len(r.products) != len(asins):
        raise RuntimeError(f"expected {len(asins)} products, got {len(r.products)}: {r.errors}")
    server = r.envelope.processing_ms / 1000 if r.envelope else 0.0
    return time.perf_counter() - t, time.process_time() - c, server


def _summary(prefix: str, rows: list[tuple[float, float, float]]) -> dict[str, float]:
    wall, cpu, server = ([r[i] for r in rows] for i in range(3))
    return {f"{prefix}_p50_ms": _pct(wall, 0.5), f"{prefix}_p95_ms": _pct(wall, 0.95),
            f"{prefix}_cpu_p95_ms": _pct(cpu, 0.95), f"{prefix}_server_p95_ms": _pct(server, 0.95)}


async def _cases(client: KeepaClient, asins: list[str], n: int, later: Any = None,
                 ) -> dict[str, list[tuple[float, float, float]]]:
    """cold/cached with history, cached after `later()` moved the clock, then stats-only, on
    n disjoint 100-ASIN batches each."""
    out: dict[str, list[tuple[float, float, float]]] = {"cold": [], "cached": []}
    for k in range(n):
        batch = asins[k * 100:(k + 1) * 100]
        out["cold"].append(await _timed(client, batch, stats=365))
        out["cached"].append(await _timed(client, batch, stats=365))
    if later is not None:
        later()
        out["cached_later"] = [await _timed(client, asins[k * 100:(k + 1) * 100], stats=365)
                               for k in range(n)]
    out["stats_only_cold"], out["stats_only_cached"] = [], []
    for k in range(n):
        other = asins[5000 + k * 100:5100 + k * 100]
        out["stats_only_cold"].append(await _timed(client, other, stats=365, history=False))
        out["stats_only_cached"].append(await _timed(client, other, stats=365, history=False))
    return out


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


async def _http(asins: list[str]) -> dict[str, Any]:
    """The same cases against `arbitrage sandbox serve` (its own process, wall clock)."""
    port = _free_port()
    proc = subprocess.Popen(
        [str(ROOT / ".venv/bin/arbitrage"), "sandbox", "serve", "--port", str(port),
         "--products", str(N_PRODUCTS), "--seed", str(SEED), "--refill-rate", "1000000"],
        cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    base = f"http://127.0.0.1:{port}"
    try:
        async with httpx.AsyncClient() as probe:
            for _ in range(300):
                try:
                    await probe.get(f"{base}/token/", params={"key": "k"})
                    break
                except httpx.TransportError:
                    if proc.poll() is not None:
                        raise RuntimeError(proc.stderr.read().decode() if proc.stderr
                                           else "server exited") from None
                    await asyncio.sleep(0.1)
        client = KeepaClient(api_key="k", base_url=base)
        await client.products(asins[-100:], stats=365)  # warm-up
        res = await _cases(client, asins, 10)
        await client.aclose()
    finally:
        proc.terminate()
        proc.wait(timeout=10)
    out: dict[str, Any] = {}
    for name, rows in res.items():
        out.update(_summary(f"http_product_100_{name}", rows))
    return out


async def main(http: bool, freeze: bool) -> None:
    load_before = os.getloadavg()[0]
    t = time.perf_counter()
    clock = SimClock(1_780_000_000.0)
    # the cache holds every product requested with history (cached_later needs them; the
    # default 1,000 would have evicted the first batches)
    market = SandboxMarket(n_products=N_PRODUCTS, seed=SEED, clock=clock, initial_tokens=10**9,
                           cache_size=N * 100 + 100)
    build_s = time.perf_counter() - t
    market.tokens.cap = 10**9
    client = KeepaClient(api_key="k", base_url="http://sandbox",
                         transport=httpx.ASGITransport(app=create_app(market)))
    asins = market.asins()
    await client.products(asins[-100:], stats=365)  # warm-up (other products)
    if freeze:
        gc.collect()
        gc.freeze()
    timer = _GcTimer()
    gc.callbacks.append(timer)
    res = await _cases(client, asins, N, later=lambda: clock.advance(61 * 60))
    gc.callbacks.remove(timer)
    out: dict[str, Any] = {"market_build_s": round(build_s, 3), "products": N_PRODUCTS,
                           "requests_per_case": N, "gc_frozen": freeze}
    for name, rows in res.items():
        out.update(_summary(f"product_100_{name}", rows))
    out["gc_full_collections"] = timer.full
    out["gc_full_ms_total"] = round(timer.full_s * 1000, 1)

    # the client's share: decode + validate one 100-product answer with history
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=create_app(market)),
                                 base_url="http://sandbox") as raw_http:
        resp = await raw_http.get("/product/", params={
            "key": "k", "domain": 1, "asin": ",".join(asins[:100]), "stats": 365})
    body = resp.content
    dec = []
    for _ in range(5):
        c = time.process_time()
        validate_products(orjson.loads(body)["products"])
        dec.append(time.process_time() - c)
    out["payload_mb"] = round(len(body) / 1e6, 2)
    out["client_decode_validate_ms"] = round(statistics.median(dec) * 1000, 1)

    # the freshness simulation's path: Python API, stats only, products never seen before
    t, c = time.perf_counter(), time.process_time()
    for a in asins[10_000:10_500]:
        market.product(a, stats=365, history=False)
    out["python_product_stats_only_cold_ms"] = round((time.perf_counter() - t) / 500 * 1000, 3)
    out["python_product_stats_only_cold_cpu_ms"] = round(
        (time.process_time() - c) / 500 * 1000, 3)
    cpu = time.process_time()
    deal_ms = []
    sel = {"priceTypes": [2], "dateRange": 1, "sortType": 4, "isRangeEnabled": True,
           "deltaPercentRange": [20, 100], "includeCategories": [283155]}
    for _ in range(3):
        t = time.perf_counter()
        deals = await client.deals(sel)
        deal_ms.append(time.perf_counter() - t)
    out["deal_page_first_ms"] = round(deal_ms[0] * 1000, 1)
    out["deal_page_repeat_ms"] = round(statistics.median(deal_ms[1:]) * 1000, 1)
    out["deal_pages_cpu_ms"] = round((time.process_time() - cpu) * 1000, 1)
    out["deals_returned"] = len(deals.body["deals"]["dr"])
    await client.aclose()
    if http:
        out.update(await _http(build_catalog(N_PRODUCTS, SEED).asins))
    out["load_avg_1min"] = [round(load_before, 2), round(os.getloadavg()[0], 2)]
    out["target_product_100_p95_ms"] = 100
    print(json.dumps(out))


if __name__ == "__main__":
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--no-http", action="store_true",
                    help="skip the standalone `arbitrage sandbox serve` cases")
    ap.add_argument("--gc-freeze", action="store_true",
                    help="gc.freeze() this process's startup objects before the timed requests")
    args = ap.parse_args()
    asyncio.run(main(not args.no_http, args.gc_freeze))
