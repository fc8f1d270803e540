"""`arbitrage ask` latency: one offline question, end to end, in a fresh process each time.

Prints one JSON document: wall and CPU seconds (user + system of the child) of `arbitrage
ask "<question>"` on the embedded default (offline model, SQLite, a few seeded deals), the
median of RUNS runs after one warm-up (which migrates the database and writes the byte-code
cache, as an installed package has), the CPU share spent importing (a child that only
imports what `ask` imports), and the machine's load. Target: <= 1.5 s end to end; on a busy
machine compare CPU seconds too (wall is CPU plus waiting for a core); the exit status
follows the wall target.

    python bench/cli.py [--runs 5] [--question "textbooks under $30"] [--root CHECKOUT]

`--root` measures another checkout of the project (an older commit, for a before/after).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
TARGET_S = 1.5
# what `ask` imports, and the same end as `ask` (gc.freeze: its exit skips the collector)
IMPORTS = "import chat_ui.cli, agent.runner, agent.graph, agent.offline.model, gc; gc.freeze()"


def _env(data: Path, root: Path) -> dict[str, str]:
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in ("CI", "REDIS_URL", "DATABASE_URL", "LLM_API_KEY", "OPENAI_API_KEY")
        and not k.startswith(("LLM_", "OPENAI_"))
    }
    env.pop("PYTHONDONTWRITEBYTECODE", None)  # an installed package has its .pyc files
    env.update(DATA_DIR=str(data), PYTHONPATH=str(root))
    return env


def _seed(env: dict[str, str], root: Path) -> None:
    """A migrated database with a few deals, so the question has rows to answer with."""
    code = """
from tools.db import migrate, session_scope
from tools.deals import upsert_deal
from tools.deals.analytics import DealRecord
migrate()
with session_scope() as s:
    for i in range(30):
        upsert_deal(s, DealRecord(
            asin=f"B0BENCH{i:03d}", title=f"Calculus Textbook {i}", author="Stewart",
            price_now=10.0 + i, list_at=60.0 + 2 * i, referral_pct=15.0, referral_min=0.0,
            fba_fee=3.5, closing_fee=1.8, price_now_source="offers", sales_rank=20_000 + i,
            rank_drops_30=1 + i % 6, rank_drops_90=3 + i % 9, seasonality="textbook",
        ))
"""
    subprocess.run([sys.executable, "-c", code], env=env, cwd=root, check=True)


def _timed(cmd: list[str], env: dict[str, str], root: Path) -> tuple[float, float]:
    """Wall and CPU (user + system) seconds of one child process."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.perf_counter()
    subprocess.run(cmd, env=env, cwd=root, check=True, stdout=subprocess.DEVNULL)
    wall = time.perf_counter() - t0
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wall, cpu


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--question", default="textbooks under $30 with roi over 40%")
    parser.add_argument("--root", type=Path, default=ROOT, help="the checkout to measure")
    args = parser.parse_args()
    root = args.root.resolve()
    data = Path(tempfile.mkdtemp(prefix="aa-bench-cli-")) / "data"
    env = _env(data, root)
    _seed(env, root)
    ask = [sys.executable, "-m", "chat_ui.cli", "ask", args.question]
    _timed(ask, env, root)  # warm-up: byte-code cache, page cache
    runs = [_timed(ask, env, root) for _ in range(args.runs)]
    imports = [_timed([sys.executable, "-c", IMPORTS], env, root) for _ in range(args.runs)]
    wall = statistics.median(w for w, _ in runs)
    cpu = statistics.median(c for _, c in runs)
    print(
        json.dumps(
            {
                "bench": "cli_ask",
                "question": args.question,
                "root": str(root),
                "runs": args.runs,
                "wall_s": round(wall, 3),
                "cpu_s": round(cpu, 3),
                "wall_s_all": [round(w, 3) for w, _ in runs],
                "cpu_s_all": [round(c, 3) for _, c in runs],
                "import_cpu_s": round(statistics.median(c for _, c in imports), 3),
                "load_avg_1m": round(os.getloadavg()[0], 2),
                "cores": os.cpu_count(),
                "target_s": TARGET_S,
                "met_wall": wall <= TARGET_S,
                "met_cpu": cpu <= TARGET_S,
            },
            indent=1,
        )
    )
    if wall > TARGET_S:
        sys.exit(1)


if __name__ == "__main__":
    main()
