"""Search latency: 20 typical DealQueries (and EXTRA_QUERIES, reported apart) over 100,000
generated deals in SQLite.

The deal table is filled with synthetic rows (plausible distributions of price, list price,
rank, drops, seasonality, gating...) straight through SQL, because analysing 100k Keepa
products first would only measure analytics. Every query runs as a real user with non-default
money settings, so ROI/profit filters and sorts use the per-user SQL expressions. Prints one
JSON document: p50/p95 ms per query (several runs each) and the worst p95.

    .venv/bin/python bench/query.py [--deals 100000] [--runs 7] [--data-dir DIR] [--only a,b]

--data-dir keeps the filled database there and reuses it on the next run (migrated to the
current head first), so tuning runs skip the ~100 s fill.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
from sqlalchemy import insert
from sqlmodel import Session, select

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tools.db import dispose_engines, get_engine, migrate
from tools.deals.search import DealSearch, search_deals
from tools.models import Deal, User, UserRestriction
from tools.settings import Settings

WORDS = (
    "anatomy",
    "biology",
    "chemistry",
    "calculus",
    "physics",
    "nursing",
    "history",
    "economics",
    "law",
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
    "guide",
    "introduction",
    "principles",
    "essentials",
    "handbook",
    "review",
    "edition",
    "fundamentals",
)
PATHS = (
    "Books > Medical Books > Anatomy",
    "Books > Science & Math > Biology",
    "Books > Science & Math > Chemistry",
    "Books > Business & Money > Accounting",
    "Books > Test Preparation > Nursing",
    "Books > Law > Legal Education",
    "Books > Textbooks > Humanities",
    "Books > Arts & Photography > Music",
    "Books > Christian Books & Bibles",
    "Books > Cookbooks, Food & Wine",
)
SEASONS = ("textbook", "exam_prep", "holiday", "summer", "year_round")
# peak-month bit masks: Jan+Aug+Sep, Mar+Apr, Nov+Dec, May-Jul, none
MASKS = (0b1_1000_0001, 0b1100, 0b1100_0000_0000, 0b111_0000, 0)
CONDITIONS = ("like_new", "very_good", "good", "acceptable")


def fill(engine, n: int, seed: int = 7) -> int:  # type: ignore[no-untyped-def]
    rng = np.random.default_rng(seed)
    now = datetime.now(UTC)
    price = np.round(np.exp(rng.normal(2.6, 0.7, n)), 2)
    list_at = np.round(price * rng.uniform(0.7, 4.0, n), 2)
    fba = np.round(rng.uniform(3.0, 6.5, n), 2)
    rank = np.exp(rng.uniform(6, 16, n)).astype(int)
    d30 = rng.poisson(3, n)
    season = rng.integers(0, len(SEASONS), n)
    avg = price * rng.uniform(0.8, 2.5, n)
    rows = []
    for i in range(n):
        words = rng.choice(len(WORDS), 4, replace=False)
        la = float(list_at[i])
        ship_incl = i % 50 == 0  # then the default cost has no inbound shipping
        cost = price[i] * 1.05 + 2.75 + (0.0 if ship_incl else 3.99)
        fees = la * 0.15 + fba[i] + 1.8
        prof = la - cost - fees
        rows.append(
            {
                "asin": f"B{i:09d}",
                "title": " ".join(WORDS[w] for w in words).title(),
                "author": f"Author {i % 997}",
                "category": "Books",
                "category_path": PATHS[i % 10],
                "condition": CONDITIONS[i % 4],
                "price_now": float(price[i]),
                "price_now_source": "offers",
                "shipping_included": ship_incl,
                "sales_rank": int(rank[i]),
                "rank_drops_30": int(d30[i]),
                "rank_drops_90": int(d30[i] * 3),
                "rank_drops_180": int(d30[i] * 6),
                "rank_drops_365": int(d30[i] * 12),
                "amazon_offer": bool(i % 5 == 0),
                "avg_1yr": float(avg[i]),
                "percent_down": float(max(0.0, (avg[i] - price[i]) / avg[i] * 100)),
                "seasonality": SEASONS[season[i]],
                "peak_mask": MASKS[season[i]] or None,
                "list_at": la if i % 20 else None,
                "referral_pct": 15.0,
                "referral_min": 0.0,
                "fba_fee": float(fba[i]),
                "closing_fee": 1.8,
                "amz_fees": fees,
                "all_in_cost_default": cost,
                "profit_default": prof,
                "roi_default": prof / cost * 100,
                "margin_default": prof / la * 100,
                "status": "active" if i % 25 else "pending",
                "priority": 0,
                "last_seen_utc": now,
                "created_at": now,
                "updated_at": now - timedelta(hours=float(rng.uniform(0, 24 * 7))),
            }
        )
    with engine.begin() as conn:
        for k in range(0, n, 5000):
            conn.execute(insert(Deal.__table__), rows[k : k + 5000])
        user_id = conn.execute(
            insert(User.__table__).values(
                name="bench",
                password_hash="x",
                role="user",
                created_at=now,
                settings={
                    "tax_pct": 8.0,
                    "prep_fee": 1.5,
                    "inbound_shipping": 2.5,
                    "markup_pct": 12.0,
                    "min_roi": 15.0,
                },
            )
        ).inserted_primary_key[0]
        checked = [
            {
                "user_id": user_id,
                "asin": f"B{i:09d}",
                "condition": "used_very_good",
                "status": 1 if i % 7 == 0 else 0,
                "checked_at": now,
            }
            for i in range(0, n, 3)
        ]
        for k in range(0, len(checked), 5000):
            conn.execute(insert(UserRestriction.__table__), checked[k : k + 5000])
    return int(user_id)


QUERIES: dict[str, dict[str, object]] = {
    "default_roi": {},
    "min_roi_20": {"min_roi": 20},
    "min_profit_10_by_profit": {"min_profit": 10, "sort": "profit"},
    "optimal_preset": {
        "min_profit": 45,
        "min_roi": 20,
        "max_rank": 1_000_000,
        "min_drops_30": 2,
        "min_percent_down": 10,
        "gated": "exclude",
        "amazon_offer": False,
    },
    "text_anatomy": {"text": "anatomy"},
    "category_medical": {"category": "Medical"},
    "price_10_30_by_margin": {"min_price": 10, "max_price": 30, "sort": "margin"},
    "rank_100k_by_rank": {"max_rank": 100_000, "sort": "rank"},
    "drops_5_by_drops": {"min_drops_30": 5, "sort": "drops"},
    "textbooks": {"seasonality": "textbook"},
    "in_peak_now": {"in_peak_now": True},
    "percent_down_30": {"min_percent_down": 30, "sort": "percent_down"},
    "only_ungated": {"gated": "only_ungated"},
    "exclude_gated_by_profit": {"gated": "exclude", "sort": "profit"},
    "no_amazon_good": {"amazon_offer": False, "condition": "good"},
    "fresh_24h_newest": {"updated_within_hours": 24, "sort": "newest"},
    "margin_25_roi_max_200": {"min_margin": 25, "max_roi": 200},
    "january_textbooks": {"peak_month": 1, "seasonality": "textbook"},
    "text_biology_roi_30": {"text": "biology", "min_roi": 30},
    "page_3_all_by_profit": {
        "include_unprofitable": True,
        "sort": "profit",
        "limit": 50,
        "offset": 100,
    },
}
# Agent-bench shapes: a selective text/category filter combined with other index-friendly
# filters (a forced sort-index walk once took 10 s on these); reported alongside the typical 20.
EXTRA_QUERIES: dict[str, dict[str, object]] = {
    "anatomy_textbooks_aug_profit_15": {
        "text": "anatomy",
        "min_profit": 15,
        "seasonality": "textbook",
        "peak_month": 8,
    },
    "biology_exam_apr_roi_40": {
        "text": "biology",
        "seasonality": "exam_prep",
        "peak_month": 4,
        "min_roi": 40,
    },
    "calculus_holiday_dec_by_profit": {
        "text": "calculus",
        "seasonality": "holiday",
        "peak_month": 12,
        "min_profit": 5,
        "sort": "profit",
    },
    "category_nursing_peak_roi_30": {"category": "Nursing", "in_peak_now": True, "min_roi": 30},
    "text_law_ungated_by_profit": {"text": "law", "gated": "only_ungated", "sort": "profit"},
    "text_two_words_rank": {
        "text": "anatomy handbook",
        "max_rank": 200_000,
        "sort": "rank",
        "seasonality": "summer",
    },
}


def p95(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--deals", type=int, default=100_000)
    ap.add_argument("--runs", type=int, default=7)
    ap.add_argument(
        "--data-dir",
        type=Path,
        default=None,
        help="keep/reuse the filled database in this directory",
    )
    ap.add_argument("--only", default="", help="comma-separated query names")
    args = ap.parse_args()
    only = {n for n in args.only.split(",") if n}
    with tempfile.TemporaryDirectory() as tmp:
        settings = Settings(data_dir=args.data_dir or Path(tmp))
        reuse = settings.data_dir.joinpath("arbitrage.db").exists()
        migrate(settings)
        engine = get_engine(settings)
        t0 = time.perf_counter()
        if reuse:
            with Session(engine) as session:
                user_id = session.exec(select(User.id).where(User.name == "bench")).one()
        else:
            user_id = fill(engine, args.deals)
        fill_s = time.perf_counter() - t0
        # the fill leaves this process full of objects whose next full GC pass (~50 ms) would
        # land on one timed query; the chat process freezes its start-up objects the same way
        gc.collect()
        gc.freeze()
        results = {}
        with Session(engine) as session:
            user = session.get(User, user_id)
            for name, spec in {**QUERIES, **EXTRA_QUERIES}.items():
                if only and name not in only:
                    continue
                query = DealSearch.model_validate(spec)
                search_deals(session, query, user)  # warm the page cache once
                times, cpu, total = [], [], 0
                for _ in range(args.runs):
                    t, c = time.perf_counter(), time.process_time()
                    res = search_deals(session, query, user)
                    total = f"{res.total}+" if res.total_capped else res.total
                    times.append((time.perf_counter() - t) * 1000)
                    cpu.append((time.process_time() - c) * 1000)
                results[name] = {
                    "p50_ms": round(statistics.median(times), 2),
                    "p95_ms": round(p95(times), 2),
                    "cpu_p50_ms": round(statistics.median(cpu), 2),
                    "cpu_p95_ms": round(p95(cpu), 2),
                    "matches": total,
                }
        dispose_engines()
    typical = {k: v for k, v in results.items() if k in QUERIES}
    extra = {k: v for k, v in results.items() if k in EXTRA_QUERIES}
    # the target is about the 20 typical queries; the extra (harder) shapes are reported apart
    worst = max((r["p95_ms"] for r in typical.values()), default=0.0)
    worst_cpu = max((r["cpu_p95_ms"] for r in typical.values()), default=0.0)
    worst_extra = max((r["p95_ms"] for r in extra.values()), default=0.0)
    print(
        json.dumps(
            {
                "benchmark": "deal search",
                "database": "sqlite (file, WAL)",
                "deals": args.deals,
                "runs_per_query": args.runs,
                "user_settings": "tax 8 %, prep $1.50, ship $2.50, "
                "markup 12 %, min ROI 15 % (applied unless a query sets min_roi)",
                "cpu_count": os.cpu_count(),
                "load_avg_1m": round(os.getloadavg()[0], 2),
                "fill_seconds": round(fill_s, 1),
                "queries": typical,
                "extra_queries": extra,
                "worst_p95_ms": worst,
                "worst_cpu_p95_ms": worst_cpu,
                "worst_extra_p95_ms": worst_extra,
                "target_p95_ms": 50,
                "meets_target": worst < 50,
            },
            indent=2,
        )
    )
    sys.exit(0 if worst < 50 else 1)


if __name__ == "__main__":
    main()
