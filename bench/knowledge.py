"""Knowledge latency: retrieval (FTS5 BM25), a duplicate-checked save, and offline extraction.

A base of N synthetic strategies + mental models (built from the starter texts with varied
words) in a migrated SQLite file; prints one JSON document with p50/p95 milliseconds.

    .venv/bin/python bench/knowledge.py [--entries 5000] [--queries 200]
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

from sqlalchemy import insert

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from knowledge import retrieve, retrieve_for_deal, save_strategy
from knowledge.extraction import offline_extract
from knowledge.starter import load_starter
from tools.db import dispose_engines, get_engine, migrate, session_scope
from tools.models import MentalModel, Role, Strategy, User, utcnow
from tools.settings import Settings

EXTRA = [
    "anatomy",
    "biology",
    "chemistry",
    "calculus",
    "nursing",
    "law",
    "psychology",
    "statistics",
    "accounting",
    "finance",
    "music",
    "history",
    "economics",
    "physics",
    "marketing",
    "ethics",
    "design",
    "algebra",
]
QUERIES = (
    "what fees does amazon charge on a book",
    "textbook with a high rank in october",
    "velocity flip or seasonal hold",
    "is this textbook counterfeit",
    "the book is gated for me",
    "profit from an old peak price",
    "deal trust is low",
    "amazon has the buy box",
    "minimum listing price repricing",
    "slow seller 90 days",
)


def _ms(samples: list[float]) -> dict[str, float]:
    s = sorted(samples)
    return {
        "p50_ms": round(statistics.median(s) * 1000, 2),
        "p95_ms": round(s[int(0.95 * (len(s) - 1))] * 1000, 2),
    }


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--entries", type=int, default=5000)
    ap.add_argument("--queries", type=int, default=200)
    args = ap.parse_args()
    rnd = random.Random(7)
    starter = load_starter()
    with tempfile.TemporaryDirectory() as tmp:
        settings = Settings(data_dir=Path(tmp))
        migrate(settings)
        now = utcnow()
        strategies = [s["text"] for s in starter["strategies"]]
        models = [(m["title"], m["text"]) for m in starter["mental_models"]]
        srows, mrows = [], []
        for i in range(args.entries):
            words = " ".join(rnd.sample(EXTRA, 3))
            if i % 4:
                srows.append(
                    {
                        "text": f"{rnd.choice(strategies)} ({words} #{i})",
                        "category": "general",
                        "source": "bench",
                        "approved_by": "bench",
                        "approved_at": now,
                        "created_at": now,
                    }
                )
            else:
                title, text = rnd.choice(models)
                mrows.append(
                    {
                        "title": f"{title} {i}",
                        "text": f"{text} ({words})",
                        "category": "general",
                        "source": "bench",
                        "approved_by": "bench",
                        "approved_at": now,
                        "created_at": now,
                    }
                )
        with get_engine(settings).begin() as conn:
            conn.execute(insert(Strategy), srows)
            conn.execute(insert(MentalModel), mrows)
        retrieval, deal_retrieval, saves = [], [], []
        with session_scope(settings) as s:
            for q in range(args.queries):
                t = time.perf_counter()
                hits = retrieve(s, QUERIES[q % len(QUERIES)] + " " + rnd.choice(EXTRA))
                retrieval.append(time.perf_counter() - t)
                assert hits
            deal = {
                "title": "Campbell Biology 12th Edition",
                "seasonality": "textbook",
                "sales_rank": 800_000,
                "roi_default": 30,
                "deal_trust": 60,
            }
            for _ in range(args.queries // 4):
                t = time.perf_counter()
                retrieve_for_deal(s, deal)
                deal_retrieval.append(time.perf_counter() - t)
            admin = User(name="bench", password_hash="x", role=Role.admin)
            s.add(admin)
            s.flush()
            for i in range(20):
                t = time.perf_counter()
                save_strategy(
                    s,
                    f"If a {rnd.choice(EXTRA)} book costs under ${i + 5}, check "
                    f"rank drops {i} times.",
                    "general",
                    "bench",
                    admin,
                )
                saves.append(time.perf_counter() - t)
        text = (
            Path(__file__).resolve().parents[1] / "knowledge" / "starter" / "starter.yaml"
        ).read_text() * 20
        t = time.perf_counter()
        cands = offline_extract(text)
        extract_s = time.perf_counter() - t
        dispose_engines()
    print(
        json.dumps(
            {
                "benchmark": "knowledge",
                "entries": args.entries,
                "retrieve": _ms(retrieval),
                "retrieve_for_deal": _ms(deal_retrieval),
                "save_with_duplicate_check": _ms(saves),
                "offline_extract": {
                    "chars": len(text),
                    "ms": round(extract_s * 1000, 1),
                    "candidates": len(cands),
                },
            }
        )
    )


if __name__ == "__main__":
    main()
