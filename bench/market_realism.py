"""How much the sandbox market looks like the real Keepa used-book market (issue #15, item 2).

Asks the in-process sandbox (SandboxMarket behind its Keepa-compatible app, httpx ASGI
transport, a SimClock) the three requests of the calibration file
(tools/sandbox/calibration/README.md) and computes every statistic of the file on its answers
with the same code and definitions (tools.sandbox.calibration), then compares sandbox vs real:

- when: the real captures' months, as many scans as the real sample pooled. broad: one scan
  on 2025-04-15; arbitrage_deep: 15 scans every 3 days from 2025-04-16 (page 0 each);
  arbitrage: 4 scans every 2 days from 2025-09-10 (every page until a short one), all at
  12:00 UTC; pages of a scan are taken at the same market minute. The market starts on
  2025-04-01 and generates each product's history 730 days back, so deals (price dips) exist
  from its first minute: nothing needs to run before the first scan.
- offers: /product/ with offers=20, stats=90, history=0 for --offer-products used books that
  have offers, drawn (seeded) from the last arbitrage scan's rows with a used offer count > 0
  (the real sample is the books the arbitrage projects looked at more closely).
- tolerance: see tools/sandbox/calibration/compare.py (also printed under "tolerance").

Prints ONE JSON document: per stratum and statistic {sandbox, real, pass, counted}, offers,
product_rank_drops, the scans taken, and a summary ("passed/compared statistics"). Exits 1
when a counted statistic fails (--no-fail: 0). Options: --products, --seed, --offer-products,
--scans (broad,arbitrage,deep counts), --json-out.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import httpx
import numpy as np

from tools.clock import SimClock
from tools.sandbox.calibration import (
    Stratum,
    compare,
    deal_stats,
    load_calibration,
    offer_stats,
    product_rank_drops,
    strata,
)
from tools.sandbox.calibration.stats import COUNT_USED, Row
from tools.sandbox.keepa import SandboxMarket, create_app

MARKET_START = datetime(2025, 4, 1, tzinfo=UTC)
# stratum -> (first scan, days between scans, scans in the real sample)
SCHEDULE = {
    "broad": (datetime(2025, 4, 15, 12, tzinfo=UTC), 1, 1),
    "arbitrage_deep": (datetime(2025, 4, 16, 12, tzinfo=UTC), 3, 15),
    "arbitrage": (datetime(2025, 9, 10, 12, tzinfo=UTC), 2, 4),
}
PAGE_SIZE = 150
MAX_PAGES = 200  # a scan deeper than 30,000 deals is a sandbox bug, not a market


async def _get(http: httpx.AsyncClient, path: str, params: dict[str, Any]) -> dict[str, Any]:
    r = await http.get(path, params={"key": "bench", "domain": 1, **params})
    body: dict[str, Any] = r.json()
    if r.status_code != 200:
        raise RuntimeError(f"{path} answered HTTP {r.status_code}: {body.get('error')}")
    return body


async def scan(http: httpx.AsyncClient, stratum: Stratum) -> list[dict[str, Any]]:
    """The stratum's /deal/ answers of one scan: page 0, or every page until a short one."""
    pages: list[dict[str, Any]] = []
    for page in range(MAX_PAGES if stratum.all_pages else 1):
        sel = {**stratum.selection, "page": page}
        answer = await _get(http, "/deal/", {"selection": json.dumps(sel)})
        pages.append(answer)
        if len(answer["deals"]["dr"]) < PAGE_SIZE:
            break
    else:
        if stratum.all_pages:
            raise RuntimeError(f"{stratum.name}: more than {MAX_PAGES} full pages")
    return pages


def _offer_sample(rows: list[Row], n: int, seed: int) -> list[str]:
    """n ASINs of used books with offers (COUNT_USED > 0) among the rows, seeded."""
    asins = sorted(
        {
            r["asin"]
            for r, _ in rows
            if len(r["current"]) > COUNT_USED and r["current"][COUNT_USED] > 0
        }
    )
    rng = np.random.default_rng([seed, 0x0FF])
    return [asins[k] for k in sorted(rng.choice(len(asins), min(n, len(asins)), replace=False))]


async def run(
    products: int,
    seed: int,
    offer_products: int,
    scans: dict[str, int],
) -> dict[str, Any]:
    cal = load_calibration()
    requests = strata(cal)
    clock = SimClock(MARKET_START.timestamp())
    market = SandboxMarket(
        n_products=products,
        seed=seed,
        clock=clock,
        initial_tokens=10**12,
        cache_size=min(products + 1, 6000),
    )
    market.tokens.cap = 10**12
    events = sorted(
        (first + timedelta(days=every * k), name)
        for name, (first, every, _) in SCHEDULE.items()
        for k in range(scans[name])
    )
    rows: dict[str, list[Row]] = {name: [] for name in requests}
    taken: dict[str, list[dict[str, Any]]] = {name: [] for name in requests}
    last_arbitrage: list[Row] = []
    t_start = time.perf_counter()
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=create_app(market)),
        base_url="http://sandbox",
        timeout=600,
    ) as http:
        for when, name in events:
            clock.advance(when.timestamp() - clock.now())
            t = time.perf_counter()
            pages = await scan(http, requests[name])
            got = requests[name].rows(pages)
            rows[name] += got
            if name == "arbitrage":
                last_arbitrage = got
            taken[name].append(
                {
                    "at": when.isoformat(),
                    "pages": len(pages),
                    "deals": sum(len(p["deals"]["dr"]) for p in pages),
                    "rows": len(got),
                    "s": round(time.perf_counter() - t, 1),
                }
            )
        sample = _offer_sample(last_arbitrage, offer_products, seed)
        prods: list[dict[str, Any]] = []
        for k in range(0, len(sample), 100):  # Keepa takes up to 100 ASINs a request
            answer = await _get(
                http,
                "/product/",
                {"asin": ",".join(sample[k : k + 100]), "offers": 20, "stats": 90, "history": 0},
            )
            prods += answer.get("products", [])
    sandbox = {
        "strata": {name: deal_stats(r) for name, r in rows.items()},
        "offers": offer_stats(prods),
        "product_rank_drops": product_rank_drops(prods),
    }
    report = compare(sandbox, cal)
    return {
        "bench": "market_realism",
        "summary": report.pop("summary"),
        "passed": report.pop("passed"),
        "compared": report.pop("compared"),
        "not_counted": report.pop("not_counted"),
        "failed": report.pop("failed"),
        "failed_not_counted": report.pop("failed_not_counted"),
        "market": {
            "products": products,
            "seed": seed,
            "start": MARKET_START.isoformat(),
            "scans": taken,
            "offer_products": len(prods),
            "wall_s": round(time.perf_counter() - t_start, 1),
        },
        **report,
    }


def _scans(raw: str) -> dict[str, int]:
    parts = [int(x) for x in raw.split(",")]
    if len(parts) != 3 or min(parts) < 1:
        raise argparse.ArgumentTypeError("--scans takes three counts >= 1: broad,arbitrage,deep")
    return dict(zip(("broad", "arbitrage", "arbitrage_deep"), parts, strict=True))


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--products", type=int, default=20_000)
    ap.add_argument("--seed", type=int, default=42)
    ap.add_argument(
        "--offer-products",
        type=int,
        default=150,
        help="products fetched with offers (the real sample has 16: the sandbox's estimate "
        "should not add its own sampling noise)",
    )
    ap.add_argument(
        "--scans",
        type=_scans,
        default=_scans("1,4,15"),
        help="scans per stratum: broad,arbitrage,deep (default: the real sample's)",
    )
    ap.add_argument("--json-out", type=Path, help="also write the JSON document here")
    ap.add_argument("--no-fail", action="store_true", help="exit 0 even when statistics fail")
    args = ap.parse_args()
    out = asyncio.run(run(args.products, args.seed, args.offer_products, args.scans))
    text = json.dumps(out)
    print(text)
    if args.json_out:
        args.json_out.write_text(text + "\n")
    print(out["summary"], file=sys.stderr)
    return 0 if args.no_fail or not out["failed"] else 1


if __name__ == "__main__":
    sys.exit(main())
