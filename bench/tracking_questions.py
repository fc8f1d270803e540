"""The seller's tracking questions at scale: p50/p95 of each over 10,000 SKUs and 50,000 orders.

Data: a seller's synced year (FBA inventory, orders, order items, shipment and refund
financial events) plus one recorded purchase per SKU (bought before its first sale, a few
units left unsold, costs and predictions at purchase), matched first-in-first-out once
(tools/tracking/realized.py: its time is reported as `match_s`, what a full first sync costs
the matching). bench/tracking.py measures these questions on the data its sync part fetched
from the SP-API sandbox (`measure`); run alone, this file builds the same shapes directly
(`synthetic_history`), which is quicker and needs no sandbox.

Questions (tools/tracking/reports.py, what the chat's tools call; each refreshes the
matching first, a no-op when nothing new was synced): how much did I make in a month / ever
(with the by-month chart), what sold this week, which purchases lose money, average days to
sell for textbooks, what is in my inventory, what is stuck inbound, how accurate the
predictions are, and the track record a verdict quotes.

Target: p95 < 50 ms for every question, on SQLite and on PostgreSQL.

Prints ONE JSON document. Options: --db sqlite|postgres|both, --skus, --orders, --runs,
--quick (1,000 SKUs, 5,000 orders).
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
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sqlalchemy import func, select

from tools.db import dispose_engines, migrate, session_scope, table_of
from tools.models import (
    FbaInventory,
    FinancialEvent,
    Purchase,
    SellerOrder,
    SellerOrderItem,
    User,
)
from tools.settings import Settings
from tools.tracking import reports
from tools.tracking.purchases import predict
from tools.tracking.realized import rematch
from tools.users import add_user

TARGET_P95_MS = 50.0
END = datetime(2026, 11, 30, 12, tzinfo=UTC)
SEASONS = ("textbook", "textbook", "year_round", "exam_prep", "holiday")
CONDITIONS = (("UsedLikeNew", "Used", "Like New"), ("UsedVeryGood", "Used", "Very Good"),
              ("UsedGood", "Used", "Good"))  # fmt: skip
CHUNK = 2_000


def _insert(session: Any, model: Any, rows: list[dict[str, Any]]) -> None:
    table = table_of(model)
    for i in range(0, len(rows), CHUNK):
        session.connection().execute(table.insert(), rows[i : i + CHUNK])


def synthetic_history(
    settings: Settings, user_id: int, skus: int, orders: int, seed: int = 7
) -> None:
    """A synced year for one seller, in the shapes tools/spapi/store.py writes."""
    rng = random.Random(seed)
    start = END - timedelta(days=365)
    catalog = []
    for i in range(skus):
        asin = f"B0{i:08d}"
        cond = CONDITIONS[i % 3]
        catalog.append((f"SKU-{i:05d}-{cond[0]}", asin, cond, round(rng.uniform(12, 90), 2)))
    inv, ords, items, events = [], [], [], []
    now = END
    for sku, asin, cond, _ in catalog:
        inbound = rng.random() < 0.05
        inv.append(
            {
                "user_id": user_id,
                "sku": sku,
                "asin": asin,
                "condition": cond[0],
                "product_name": f"Book {asin}",
                "fulfillable": rng.randrange(0, 4),
                "inbound_working": 0,
                "inbound_shipped": rng.randrange(1, 3) if inbound else 0,
                "inbound_receiving": 0,
                "reserved": rng.randrange(0, 2),
                "unfulfillable": 1 if rng.random() < 0.01 else 0,
                "researching": 0,
                "total_quantity": 3,
                "amazon_updated_at": now - timedelta(days=rng.uniform(0, 30)),
                "seen_at": now,
                "updated_at": now,
            }
        )
    for n in range(orders):
        sku, asin, cond, price = catalog[rng.randrange(skus)]
        when = start + timedelta(seconds=rng.uniform(0, 365 * 86400))
        order = f"{111 + n % 3}-{n:07d}-{rng.randrange(10**7):07d}"
        qty = 2 if rng.random() < 0.03 else 1
        fees = -round(price * qty * 0.15 + 1.8 * qty + 3.2 * qty, 2)
        ords.append(
            {
                "user_id": user_id,
                "amazon_order_id": order,
                "purchase_date": when,
                "last_update_date": when + timedelta(days=1),
                "status": "Shipped",
                "fulfillment_channel": "AFN",
                "order_total": price * qty,
                "currency": "USD",
                "items_shipped": qty,
                "items_unshipped": 0,
                "updated_at": now,
            }
        )
        items.append(
            {
                "user_id": user_id,
                "amazon_order_id": order,
                "order_item_id": f"OI{n:09d}",
                "asin": asin,
                "sku": sku,
                "title": f"Book {asin}",
                "quantity_ordered": qty,
                "quantity_shipped": qty,
                "item_price": price * qty,
                "currency": "USD",
                "condition_id": cond[1],
                "condition_subtype_id": cond[2],
                "updated_at": now,
            }
        )
        posted = when + timedelta(hours=rng.uniform(20, 40))
        events.append(_event(user_id, "shipment", order, f"OI{n:09d}", posted, sku, qty,
                             price * qty, fees))  # fmt: skip
        if rng.random() < 0.03:
            events.append(_event(user_id, "refund", order, f"OI{n:09d}",
                                 posted + timedelta(days=rng.uniform(3, 20)), sku, qty,
                                 -price * qty, round(-fees * 0.8, 2), key=f"R{n}"))  # fmt: skip
    with session_scope(settings) as session:
        _insert(session, FbaInventory, inv)
        _insert(session, SellerOrder, ords)
        _insert(session, SellerOrderItem, items)
        _insert(session, FinancialEvent, events)


def _event(
    user_id: int,
    kind: str,
    order: str,
    item: str,
    posted: datetime,
    sku: str,
    qty: int,
    principal: float,
    fees: float,
    key: str | None = None,
) -> dict[str, Any]:
    return {
        "user_id": user_id,
        "kind": kind,
        "amazon_order_id": order,
        "item_key": key or item,
        "posted_at": posted,
        "sku": sku,
        "order_item_id": item,
        "quantity": qty,
        "principal": round(principal, 2),
        "shipping": 0.0,
        "tax": 0.0,
        "other_charges": 0.0,
        "promotions": 0.0,
        "tax_withheld": 0.0,
        "fees_total": fees,
        "net": round(principal + fees, 2),
        "created_at": END,
    }


def seed_purchases(settings: Settings, user_id: int, seed: int = 11) -> int:
    """One purchase per synced SKU: its units sold and a few more, bought before the first
    sale, at 15-45 % of the sale price, with the prediction at purchase derived as the app
    does (purchases.predict)."""
    rng = random.Random(seed)
    oi, fe, v = table_of(SellerOrderItem), table_of(FinancialEvent), table_of(FbaInventory)
    with session_scope(settings) as session:
        sold = session.execute(
            select(
                fe.c.sku,
                func.sum(fe.c.quantity),
                func.min(fe.c.posted_at),
                func.avg(fe.c.principal / fe.c.quantity),
            )
            .where(fe.c.user_id == user_id, fe.c.kind == "shipment", fe.c.quantity > 0)
            .group_by(fe.c.sku)
        ).all()
        asin_of = dict(
            session.execute(
                select(oi.c.sku, oi.c.asin).where(oi.c.user_id == user_id).distinct()
            ).all()
        )
        asin_of.update(
            dict(session.execute(select(v.c.sku, v.c.asin).where(v.c.user_id == user_id)).all())
        )
        rows = []
        for sku, units, first, price in sold:
            if sku not in asin_of:
                continue
            p = Purchase(
                user_id=user_id,
                asin=asin_of[sku],
                title=f"Book {asin_of[sku]}",
                category="Textbooks" if rng.random() < 0.5 else "Medical",
                seasonality=rng.choice(SEASONS),
                quantity=int(units) + rng.randrange(0, 3),
                unit_cost=round(float(price) * rng.uniform(0.15, 0.45), 2),
                condition=rng.choice(("used_good", "used_very_good", "used_like_new")),
                purchased_at=first - timedelta(days=rng.uniform(3, 30)),
                sku=sku,
                tax_pct=5.0,
                prep_fee=2.75,
                inbound_shipping=3.99,
                markup_pct=10.0,
                list_at_pred=round(float(price) * rng.uniform(0.9, 1.25), 2),
                referral_pct_pred=15.0,
                referral_min_pred=0.0,
                fba_fee_pred=3.22,
                closing_fee_pred=1.8,
                sales_per_year_pred=float(rng.choice((4, 12, 26, 52))),
            )
            predict(p)
            rows.append(p.model_dump(exclude={"id"}))
        _insert(session, Purchase, rows)
    return len(rows)


def settle(settings: Settings) -> None:
    """PostgreSQL: VACUUM ANALYZE the seller's tables, as autovacuum does within a minute of
    such bulk writes (fresh statistics, and a visibility map so the covering indexes are read
    without visiting the table); SQLite: ANALYZE."""
    from sqlalchemy import text

    from tools.db import get_engine

    engine = get_engine(settings)
    tables = ("purchase", "sale_allocation", "sale_month", "fba_inventory", "financial_event")
    if engine.dialect.name == "postgresql":
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            for table in tables:
                conn.execute(text(f"VACUUM ANALYZE {table}"))
    else:
        with engine.begin() as conn:
            conn.execute(text("ANALYZE"))


def _pctl(values: list[float], q: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, round(q * (len(values) - 1)))]


def measure(
    settings: Settings, user_id: int, runs: int = 40, end: datetime = END
) -> dict[str, Any]:
    """Match once (timed), then time each question `runs` times (months vary); `end` is
    "now" for the questions (the data's last day)."""
    with session_scope(settings) as session:
        started = time.perf_counter()
        rows = rematch(session, user_id, None)
        reports.refresh(session, user_id)  # the watermark: the questions' refresh is a no-op
        match_s = time.perf_counter() - started
    settle(settings)
    months = [end.replace(day=1) - timedelta(days=31 * k) for k in range(12)]

    def month(i: int) -> tuple[datetime, datetime]:
        first = months[i % 12].replace(day=1)
        return first, (first + timedelta(days=32)).replace(day=1)

    week_end = end
    questions: dict[str, Callable[[Any, User, int], Any]] = {
        "profit_in_a_month": lambda s, u, i: reports.profit_summary(s, u, *month(i)),
        "profit_ever_with_chart": lambda s, u, i: reports.profit_summary(s, u, None, end),
        "what_sold_this_week": lambda s, u, i: reports.sales_between(
            s, u, week_end - timedelta(days=7 + i % 5), week_end
        ),
        "losing_purchases": lambda s, u, i: reports.losing_purchases(s, u, now=end),
        "days_to_sell_textbooks": lambda s, u, i: reports.days_to_sell(s, u, "textbooks"),
        "inventory": lambda s, u, i: reports.inventory(s, u, now=end),
        "stuck_inbound": lambda s, u, i: reports.inventory(s, u, stuck_only=True, now=end),
        "calibration": lambda s, u, i: reports.calibration(s, u),
        "track_record_for_a_verdict": lambda s, u, i: reports.track_record(s, u, "textbook"),
    }
    out: dict[str, Any] = {"allocations": rows, "match_s": round(match_s, 2), "questions": {}}
    for name, ask in questions.items():
        times, cpu = [], []
        for i in range(runs + 2):
            with session_scope(settings) as session:
                user = session.get(User, user_id)
                assert user is not None
                t, c = time.perf_counter(), time.process_time()
                ask(session, user, i)
                if i >= 2:  # the first two warm the caches
                    times.append((time.perf_counter() - t) * 1000)
                    cpu.append((time.process_time() - c) * 1000)
        out["questions"][name] = {
            "p50_ms": round(statistics.median(times), 2),
            "p95_ms": round(_pctl(times, 0.95), 2),
            "max_ms": round(max(times), 2),
            "cpu_p95_ms": round(_pctl(cpu, 0.95), 2),  # this process (SQLite: all of it)
        }
    worst = max(q["p95_ms"] for q in out["questions"].values())
    out["worst_p95_ms"] = worst
    out["worst_cpu_p95_ms"] = max(q["cpu_p95_ms"] for q in out["questions"].values())
    out["met"] = worst < TARGET_P95_MS
    out["load_average"] = [round(x, 2) for x in os.getloadavg()]
    return out


@contextmanager
def database(kind: str) -> Iterator[str | None]:
    """None (SQLite in the data dir) or the URL of a fresh PostgreSQL database, dropped after."""
    if kind == "sqlite":
        yield None
        return
    from sqlalchemy import create_engine, text

    base = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
    name = f"aa_bench_questions_{uuid.uuid4().hex[:8]}"
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


def run(db: str, skus: int, orders: int, runs: int) -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as tmp, database(db) as url:
        settings = Settings(data_dir=Path(tmp) / "data", database_url=url)
        migrate(settings)
        with session_scope(settings) as session:
            user = add_user(session, "bench", "bench-password-1")
            assert user.id is not None
            uid = user.id
        started = time.perf_counter()
        synthetic_history(settings, uid, skus, orders)
        purchases = seed_purchases(settings, uid)
        setup_s = time.perf_counter() - started
        out = {"db": db, "setup_s": round(setup_s, 1), "purchases": purchases}
        out.update(measure(settings, uid, runs))
        dispose_engines()
    return out


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--db", choices=("sqlite", "postgres", "both"), default="both")
    ap.add_argument("--skus", type=int, default=10_000)
    ap.add_argument("--orders", type=int, default=50_000)
    ap.add_argument("--runs", type=int, default=40)
    ap.add_argument("--quick", action="store_true", help="1,000 SKUs, 5,000 orders")
    args = ap.parse_args()
    if args.quick:
        args.skus, args.orders = min(args.skus, 1_000), min(args.orders, 5_000)
    dbs = ("sqlite", "postgres") if args.db == "both" else (args.db,)
    started = time.monotonic()
    out: dict[str, Any] = {"skus": args.skus, "orders": args.orders, "target_p95_ms": TARGET_P95_MS}
    out["results"] = {db: run(db, args.skus, args.orders, args.runs) for db in dbs}
    out["met"] = all(r["met"] for r in out["results"].values())
    out["wall_s"] = round(time.monotonic() - started, 1)
    out["command"] = "python " + " ".join(sys.argv)
    print(json.dumps(out, indent=1))
    if not out["met"]:
        sys.exit(1)


if __name__ == "__main__":
    main()
