"""Alert matching: 10,000 active saved searches against a 200-deal processor batch.

Sellers (2,000, with a few different money settings, a fifth hiding gated deals) own five
searches each, drawn from the filters sellers use (subject words, price, ROI, profit, rank,
drops, season, condition, gating). Each run queues a batch of 200 deals and times
`match_queued` as the alert task runs it: loading and compiling every active search, reading
the batch, evaluating, comparing with the stored state, writing state and outbox rows, and
commits. The first batch is all new deals (everything fires: reported as `first_sight`); each
later batch is, like the processor's, mostly refreshes of deals seen before
(--refresh-share, default 0.8; their prices move a little) and the rest new deals. The target
is held to the later batches. Prints one JSON document.

    .venv/bin/python bench/alerts.py [--searches 10000] [--batch 200] [--runs 15]
    .venv/bin/python bench/alerts.py --postgres postgresql+psycopg://postgres@127.0.0.1:5432/test

Target: p95 under 1 s (SQLite, and the same code on PostgreSQL).
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, insert, text

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tools.alerts.engine import load_searches, match_queued, queue_deals
from tools.db import dispose_engines, get_engine, migrate, table_of
from tools.deals import money as m
from tools.models import Deal, SavedSearch, User, UserRestriction
from tools.settings import Settings
from tools.user_settings import UserSettings

TARGET_S = 1.0
NOW = datetime(2026, 9, 15, 12, tzinfo=UTC)
# a seller's alert names a subject; deals spread over as many subjects as a used-book market
WORDS = [
    "nursing",
    "biology",
    "calculus",
    "anatomy",
    "chemistry",
    "law",
    "history",
    "physics",
    "economics",
    "psychology",
    "statistics",
    "algebra",
    "marketing",
    "accounting",
    "finance",
    "ethics",
    "sociology",
    "music",
    "art",
    "design",
    "geology",
    "astronomy",
    "ecology",
    "genetics",
    "pharmacology",
    "pathology",
    "microbiology",
    "philosophy",
    "literature",
    "spanish",
    "french",
    "german",
    "engineering",
    "programming",
    "networks",
    "databases",
    "management",
    "nutrition",
    "kinesiology",
    "education",
]


def _filters(rng: random.Random) -> dict[str, Any]:
    f: dict[str, Any] = {}
    if rng.random() < 0.9:
        f["text"] = rng.choice(WORDS)
    else:
        f["category"] = "textbooks"
    if rng.random() < 0.7:
        f["max_price"] = rng.choice([15, 20, 25, 30, 40, 60])
    if rng.random() < 0.6:
        f["min_roi"] = rng.choice([30, 50, 75, 100])
    if rng.random() < 0.3:
        f["min_profit"] = rng.choice([5, 10, 20])
    if rng.random() < 0.5:
        f["max_rank"] = rng.choice([100_000, 300_000, 1_000_000])
    if rng.random() < 0.2:
        f["min_drops_90"] = rng.choice([3, 6, 12])
    if rng.random() < 0.1:
        f["seasonality"] = "textbook"
    if rng.random() < 0.1:
        f["condition"] = rng.choice(["like_new", "very_good", "good"])
    if rng.random() < 0.15:
        f["gated"] = "only_ungated"
    return f


def _deal(rng: random.Random, asin: str) -> dict[str, Any]:
    price = round(rng.uniform(3, 80), 2)
    list_at = round(price * rng.uniform(0.8, 4.0) + rng.uniform(0, 20), 2)
    inputs = m.MoneyInputs(price, list_at, 15.0, 0.0, rng.uniform(3, 6), 1.80)
    money = m.compute_money(inputs, UserSettings())
    return {
        "asin": asin,
        "title": f"{rng.choice(WORDS).title()} {rng.choice(['Essentials', 'Principles', 'Guide'])}",
        "author": "A. Author",
        "category_path": "Books > Textbooks",
        "status": "active",
        "condition": rng.choice(["like_new", "very_good", "good"]),
        "price_now": price,
        "list_at": list_at,
        "referral_pct": 15.0,
        "referral_min": 0.0,
        "fba_fee": inputs.fba_fee,
        "closing_fee": 1.80,
        "amz_fees": money.amz_fees,
        "profit_default": money.profit,
        "roi_default": money.roi,
        "all_in_cost_default": money.all_in_cost,
        "sales_rank": rng.randint(5_000, 2_000_000),
        "rank_drops_30": rng.randint(0, 10),
        "rank_drops_90": rng.randint(0, 30),
        "rank_drops_365": rng.randint(0, 100),
        "seasonality": rng.choice(["textbook", "year_round"]),
        "peak_mask": 1 << 7,
        "percent_down": rng.uniform(0, 60),
        "amazon_offer": rng.random() < 0.2,
        "shipping_included": False,
        "updated_at": NOW,
    }


def fill(settings: Settings, searches: int, batch: int, runs: int, seed: int) -> None:
    rng = random.Random(seed)
    engine = get_engine(settings)
    variants = [
        {},
        {"tax_pct": 0.0, "prep_fee": 1.0, "inbound_shipping": 0.5},
        {"min_roi": 40.0},
        {"hide_gated": True},
        {"tax_pct": 8.0, "min_profit": 5.0},
    ]
    sellers = max(1, searches // 5)
    deals = [_deal(rng, f"B{i:09d}") for i in range(batch * (runs + 1))]
    with engine.begin() as conn:
        conn.execute(
            insert(table_of(User)),
            [
                {
                    "id": i + 1,
                    "name": f"seller{i}",
                    "password_hash": "x",
                    "role": "user",
                    "settings": rng.choice(variants) or None,
                    "created_at": NOW,
                    "token_version": 0,
                    "disabled": False,
                }
                for i in range(sellers)
            ],
        )
        conn.execute(insert(table_of(Deal)), deals)
        conn.execute(
            insert(table_of(SavedSearch)),
            [
                {
                    "owner_id": i % sellers + 1,
                    "name": f"alert {i}",
                    "query": _filters(rng),
                    "active": True,
                    "created_at": NOW,
                    "updated_at": NOW,
                }
                for i in range(searches)
            ],
        )
        # each seller has checked gating on some of the deals
        conn.execute(
            insert(table_of(UserRestriction)),
            [
                {
                    "user_id": u + 1,
                    "asin": d["asin"],
                    "condition": "used_very_good",
                    "status": rng.choice([0, 1]),
                    "checked_at": NOW,
                }
                for u in range(sellers)
                for d in rng.sample(deals, 20)
            ],
        )


def run(settings: Settings, args: argparse.Namespace) -> dict[str, Any]:
    migrate(settings)
    t0 = time.perf_counter()
    fill(settings, args.searches, args.batch, args.runs, args.seed)
    fill_s = time.perf_counter() - t0
    engine = get_engine(settings)
    from sqlmodel import Session

    rng = random.Random(args.seed + 1)
    D = table_of(Deal)
    times, load_times, fired, messages, seen = [], [], [], [], []
    cpu_times: list[float] = []
    first: dict[str, Any] = {}
    for r in range(args.runs + 1):
        fresh = [f"B{i:09d}" for i in range(r * args.batch, (r + 1) * args.batch)]
        n_old = 0 if r == 0 else round(args.batch * args.refresh_share)
        asins = rng.sample(seen, min(n_old, len(seen))) + fresh[: args.batch - n_old]
        seen += fresh[: args.batch - n_old]
        with Session(engine) as session:
            for a in asins[:n_old]:  # a refresh: the price moved a little
                session.execute(
                    D.update()
                    .where(D.c.asin == a)
                    .values(price_now=D.c.price_now * rng.uniform(0.97, 1.03))
                )
            queue_deals(session, asins, NOW)
            session.commit()
            started, cpu = time.perf_counter(), time.process_time()
            searches = load_searches(session)
            loaded = time.perf_counter() - started
            report = match_queued(session, NOW, limit=args.batch, searches=searches)
            session.commit()
            took = time.perf_counter() - started
            cpu_times.append(time.process_time() - cpu)
            assert report.deals == args.batch and report.searches == args.searches
        if r == 0:
            first = {"s": round(took, 3), "fired": report.fired, "outbox_rows": report.messages}
            continue
        times.append(took)
        load_times.append(loaded)
        fired.append(report.fired)
        messages.append(report.messages)
    p95 = sorted(times)[max(0, round(0.95 * len(times)) - 1)]
    return {
        "database": engine.dialect.name,
        "searches": args.searches,
        "batch": args.batch,
        "runs": args.runs,
        "refresh_share": args.refresh_share,
        "first_sight": first,
        "fill_s": round(fill_s, 1),
        "match_p50_s": round(statistics.median(times), 3),
        "match_p95_s": round(p95, 3),
        "match_cpu_p95_s": round(
            sorted(cpu_times[1:])[max(0, round(0.95 * (len(cpu_times) - 1)) - 1)], 3
        ),
        "load_avg_1min": round(os.getloadavg()[0], 1),
        "load_searches_p50_s": round(statistics.median(load_times), 3),
        "fired_per_batch_median": statistics.median(fired),
        "outbox_rows_per_batch_median": statistics.median(messages),
        "target_p95_s": TARGET_S,
        "meets_target": p95 < TARGET_S,
    }


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--searches", type=int, default=10_000)
    p.add_argument("--batch", type=int, default=200)
    p.add_argument("--runs", type=int, default=15)
    p.add_argument("--seed", type=int, default=7)
    p.add_argument("--refresh-share", type=float, default=0.8)
    p.add_argument("--postgres", help="a PostgreSQL URL; a scratch database is made and dropped")
    args = p.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        if args.postgres:
            name = f"aa_bench_alerts_{uuid.uuid4().hex[:8]}"
            admin = create_engine(args.postgres, isolation_level="AUTOCOMMIT")
            with admin.connect() as conn:
                conn.execute(text(f'CREATE DATABASE "{name}"'))
            url = args.postgres.rsplit("/", 1)[0] + "/" + name
            try:
                out = run(Settings(data_dir=Path(tmp), database_url=url), args)
            finally:
                dispose_engines()
                with admin.connect() as conn:
                    conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
                admin.dispose()
        else:
            out = run(Settings(data_dir=Path(tmp)), args)
            dispose_engines()
    print(json.dumps(out, indent=2))
    return 0 if out["meets_target"] else 1


if __name__ == "__main__":
    sys.exit(main())
