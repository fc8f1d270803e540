"""Chat load: N concurrent sessions x M turns against a local `chainlit run` with the offline model.

Prints one JSON document: turn latency p50/p95/max (from sending the message to the server's
task_end), errors (failed logins, connections, timeouts, error answers; must be 0) and the
setup. Target (issue 9): 50 sessions x 5 turns on 2 cores, p95 < 1.5 s, zero errors. By default
sessions ask back to back (the worst case: a closed loop with no reading time); `--think S`
adds a person's reading time between turns. The load generator shares the 2 cores.

    .venv/bin/python bench/chat_load.py [--sessions 50] [--turns 5] [--deals 300] [--think 0]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.e2e.harness import ChatClient, ChatServer, alogin
from tests.e2e.seed import KNOWN_ASIN, USERS, seed_all
from tools.db import dispose_engines
from tools.settings import Settings

QUESTIONS = [
    "Best textbook deals I can sell right now",
    f"Is {KNOWN_ASIN} a buy?",
    "Show deals under $20 with ROI over 50% and rank under 500000",
    "Deals with at least 5 drops in 30 days and profit over $10",
    "Which deals are in their peak season now?",
]
ERROR_MARKERS = ("Something went wrong", "took too long")


def pct(values: list[float], p: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    k = min(len(ordered) - 1, max(0, round(p / 100 * (len(ordered) - 1))))
    return ordered[k]


async def session(url: str, cookie: str, idx: int, turns: int, latencies: list[float],
                  errors: list[str], think_s: float) -> None:
    client = ChatClient(url, cookie)
    try:
        await client.connect(wait_start=20)
        for t in range(turns):
            if think_s and t:
                await asyncio.sleep(think_s * (0.5 + random.random()))  # a person reading
            q = QUESTIONS[(idx + t) % len(QUESTIONS)]
            turn = await client.send(q, timeout=60)
            if not turn.answer.strip() or any(m in turn.answer for m in ERROR_MARKERS):
                errors.append(f"session {idx} turn {t}: bad answer {turn.answer[:120]!r}")
            else:
                latencies.append(turn.latency_s)
    except Exception as e:  # every failure is counted, none stops the other sessions
        errors.append(f"session {idx}: {type(e).__name__}: {e}")
    finally:
        try:
            await client.close()
        except Exception as e:
            errors.append(f"session {idx} close: {type(e).__name__}: {e}")


async def run(url: str, sessions: int, turns: int, think_s: float = 0.0) -> dict[str, object]:
    user, (password, _role) = "seller", USERS["seller"]
    cookies: list[str] = []
    login_started = time.perf_counter()
    for _ in range(sessions):  # one login per session, as 50 browsers would
        cookies.append(await alogin(url, user, password))
    login_s = time.perf_counter() - login_started
    # warm-up: the first turn opens the graph and the checkpointer
    warm = ChatClient(url, cookies[0])
    await warm.connect(wait_start=20)
    await warm.send(QUESTIONS[0], timeout=60)
    await warm.close()
    latencies: list[float] = []
    errors: list[str] = []
    started = time.perf_counter()
    await asyncio.gather(*(session(url, cookies[i], i, turns, latencies, errors, think_s)
                           for i in range(sessions)))
    wall = time.perf_counter() - started
    return {
        "sessions": sessions, "turns_per_session": turns, "think_s": think_s,
        "turns_ok": len(latencies), "errors": len(errors), "error_samples": errors[:5],
        "p50_s": round(statistics.median(latencies), 3) if latencies else None,
        "p95_s": round(pct(latencies, 95), 3) if latencies else None,
        "max_s": round(max(latencies), 3) if latencies else None,
        "wall_s": round(wall, 2),
        "turns_per_s": round(len(latencies) / wall, 2) if wall else None,
        "logins_s": round(login_s, 2),
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--sessions", type=int, default=50)
    ap.add_argument("--turns", type=int, default=5)
    ap.add_argument("--deals", type=int, default=300)
    ap.add_argument("--think", type=float, default=0.0,
                    help="mean seconds a user reads before the next question (0: back to back)")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory(prefix="chat-load-") as tmp:
        data = Path(tmp)
        seed_all(Settings(data_dir=data), n_deals=args.deals)
        dispose_engines()
        server = ChatServer(data_dir=data).start()
        try:
            result = asyncio.run(run(server.url, args.sessions, args.turns, args.think))
        finally:
            server.stop()
    result.update({"model": "offline", "database": "sqlite", "deals": args.deals,
                   "target_p95_s": 1.5,
                   "meets_target": bool(result["errors"] == 0 and result["p95_s"] is not None
                                        and result["p95_s"] < 1.5)})
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
