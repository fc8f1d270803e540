"""Chat load: N concurrent sessions x M turns against a local chat server with the offline model.

The server is started as `arbitrage up` starts it (`python -m chat_ui.serve`, `--workers N`
processes, history on SQLite), on a seeded database in a temporary DATA_DIR.

Session model (what the target of issue 9 means: 50 sessions x 5 turns on 2 cores, p95 < 1.5 s,
zero errors): every session logs in over HTTP and opens its chat (socket.io connect + the
greeting) BEFORE the timed window, as people who already have the app open. Then each session
asks its 5 questions one after another like a person: it reads for a think time (uniform
random in [--think-min, --think-max] s, default 1-3 s, from a seeded RNG so runs are
comparable) before each question, including the first, sends it, and waits for the whole
answer (the server's task_end) before thinking about the next one. Turn latency is question
sent -> final answer received, tools included. The mode "back_to_back" (think time 0, a closed
loop where 50 sessions hammer the server nonstop) is the worst case and is reported too; it is
throughput-bound (latency ~ sessions / turns_per_s) and is not what the target is about.

Prints one JSON document: per mode turn latency p50/p95/max (and p95 per question, the five
slowest turns), errors (failed connections, timeouts, error answers; must be 0), throughput,
the server's CPU time per turn (all its worker processes: the load-independent figure) and the
load generator's (to tell a CPU-bound server from one waiting on something), the load average
before and after, and the setup. The load generator shares the 2 cores with the server.

    .venv/bin/python bench/chat_load.py [--sessions 50] [--turns 5] [--deals 300]
        [--think-min 1] [--think-max 3] [--mode both|think|back_to_back] [--seed 7]
        [--workers 1] [--launcher serve|chainlit] [--trace turns.jsonl]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import statistics
import sys
import tempfile
import time
from dataclasses import asdict, dataclass
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


@dataclass
class TurnRecord:
    """One answered turn, for the per-question p95 and the slowest turns (when they ended
    tells a burst of arrivals from a slow question)."""

    session: int
    turn: int
    question: str
    latency_s: float
    ended_at: float  # time.perf_counter()


async def session(
    client: ChatClient,
    idx: int,
    turns: int,
    latencies: list[float],
    errors: list[str],
    think: tuple[float, float],
    rng: random.Random,
    records: list[TurnRecord],
) -> None:
    try:
        for t in range(turns):
            if think[1] > 0:
                await asyncio.sleep(rng.uniform(*think))  # a person reading, then typing
            q = QUESTIONS[(idx + t) % len(QUESTIONS)]
            turn = await client.send(q, timeout=60)
            if not turn.answer.strip() or any(m in turn.answer for m in ERROR_MARKERS):
                errors.append(f"session {idx} turn {t}: bad answer {turn.answer[:120]!r}")
            else:
                latencies.append(turn.latency_s)
                records.append(TurnRecord(idx, t, q, turn.latency_s, time.perf_counter()))
    except Exception as e:  # every failure is counted, none stops the other sessions
        errors.append(f"session {idx}: {type(e).__name__}: {e}")


async def _open(
    url: str, cookie: str, idx: int, errors: list[str], retries: list[str]
) -> ChatClient | None:
    """Open one chat; a failed socket connect is retried twice, as the browser's socket.io
    client reconnects by itself (each retry is reported; a third failure is an error)."""
    for attempt in range(3):
        client = ChatClient(url, cookie)
        try:
            await client.connect(wait_start=60)
            return client
        except Exception as e:
            note = f"session {idx} connect: {type(e).__name__}: {e}"
            if attempt == 2:
                errors.append(note)
            else:
                retries.append(note)
                await asyncio.sleep(1.0)
    return None


def _stat(pid: int) -> list[str]:
    return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()


def process_cpu_s(pid: int | None) -> float | None:
    """CPU seconds (user + system) a process and its child processes (the chat's workers)
    have used so far; None off Linux."""
    if pid is None:
        return None
    try:
        ticks = 0
        for entry in Path("/proc").iterdir():
            if not entry.name.isdigit():
                continue
            try:
                fields = _stat(int(entry.name))
            except OSError:  # exited meanwhile
                continue
            if int(entry.name) == pid or int(fields[1]) == pid:  # the server or its worker
                ticks += int(fields[11]) + int(fields[12])
        return ticks / os.sysconf("SC_CLK_TCK")
    except (OSError, ValueError, IndexError):
        return None


async def run_mode(
    url: str,
    cookies: list[str],
    turns: int,
    think: tuple[float, float],
    seed: int,
    server_pid: int | None = None,
    trace: Path | None = None,
) -> dict[str, object]:
    """One timed window: open every chat first, then all sessions ask their questions."""
    errors: list[str] = []
    retries: list[str] = []
    opened = time.perf_counter()
    clients = await asyncio.gather(
        *(_open(url, c, i, errors, retries) for i, c in enumerate(cookies))
    )
    open_s = time.perf_counter() - opened
    latencies: list[float] = []
    records: list[TurnRecord] = []
    server_cpu, own_cpu = process_cpu_s(server_pid), time.process_time()
    started = time.perf_counter()
    await asyncio.gather(
        *(
            session(c, i, turns, latencies, errors, think, random.Random(seed * 1000 + i), records)
            for i, c in enumerate(clients)
            if c is not None
        )
    )
    wall = time.perf_counter() - started
    rows = [
        {
            **asdict(r),
            "latency_s": round(r.latency_s, 3),
            "ended_at": round(r.ended_at - started, 2),
        }
        for r in records
    ]
    if trace is not None:
        with trace.open("a") as f:
            f.writelines(json.dumps({**row, "think_s": list(think)}) + "\n" for row in rows)
    server_cpu_after = process_cpu_s(server_pid)
    own_cpu = time.process_time() - own_cpu
    n_ok = max(1, len(latencies))
    for i, c in enumerate(clients):
        if c is not None:
            try:
                await c.close()
            except Exception as e:
                errors.append(f"session {i} close: {type(e).__name__}: {e}")
    return {
        "think_s": list(think),
        "turns_ok": len(latencies),
        "errors": len(errors),
        "error_samples": errors[:5],
        "p50_s": round(statistics.median(latencies), 3) if latencies else None,
        "p95_s": round(pct(latencies, 95), 3) if latencies else None,
        "max_s": round(max(latencies), 3) if latencies else None,
        "wall_s": round(wall, 2),
        "turns_per_s": round(len(latencies) / wall, 2) if wall else None,
        "server_cpu_ms_per_turn": (
            round((server_cpu_after - server_cpu) / n_ok * 1000, 1)
            if server_cpu is not None and server_cpu_after is not None
            else None
        ),
        "loadgen_cpu_ms_per_turn": round(own_cpu / n_ok * 1000, 1),
        "p95_by_question_s": {
            q: round(pct([r.latency_s for r in records if r.question == q], 95), 3)
            for q in QUESTIONS
        },
        "slowest_turns": sorted(rows, key=lambda row: -float(row["latency_s"]))[:5],
        "open_chats_s": round(open_s, 2),
        "connect_retries": len(retries),
        "retry_samples": retries[:3],
    }


async def _warm(url: str, cookie: str) -> None:
    client = ChatClient(url, cookie)
    await client.connect(wait_start=20)
    await client.send(QUESTIONS[0], timeout=60)
    await client.close()


async def run(
    url: str,
    sessions: int,
    turns: int,
    modes: dict[str, tuple[float, float]],
    seed: int = 7,
    server_pid: int | None = None,
    workers: int = 1,
    trace: Path | None = None,
) -> dict[str, object]:
    user, (password, _role) = "seller", USERS["seller"]
    login_started = time.perf_counter()
    cookies = [await alogin(url, user, password) for _ in range(sessions)]  # 50 browsers
    login_s = time.perf_counter() - login_started
    # warm-up: the first turn fills a process's caches (imports, SQL compilation); two chats
    # per worker at once, so every worker most likely gets one (connections land at random)
    await asyncio.gather(*(_warm(url, cookies[0]) for _ in range(2 * workers)))
    out: dict[str, object] = {
        "sessions": sessions,
        "turns_per_session": turns,
        "logins_s": round(login_s, 2),
    }
    for name, think in modes.items():
        load_before = [round(x, 2) for x in os.getloadavg()]
        out[name] = await run_mode(url, cookies, turns, think, seed, server_pid, trace)
        out[name]["load_avg_before_after"] = [  # type: ignore[index]
            load_before,
            [round(x, 2) for x in os.getloadavg()],
        ]
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sessions", type=int, default=50)
    ap.add_argument("--turns", type=int, default=5)
    ap.add_argument("--deals", type=int, default=300)
    ap.add_argument("--think-min", type=float, default=1.0)
    ap.add_argument("--think-max", type=float, default=3.0)
    ap.add_argument("--mode", choices=("both", "think", "back_to_back"), default="both")
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--workers", type=int, default=1, help="chat server processes")
    ap.add_argument(
        "--launcher",
        choices=("serve", "chainlit"),
        default="serve",
        help="serve: python -m chat_ui.serve (what `arbitrage up` runs); "
        "chainlit: `chainlit run chat_ui/app.py` (one process)",
    )
    ap.add_argument("--trace", type=Path, help="append one JSON line per answered turn")
    args = ap.parse_args()
    modes: dict[str, tuple[float, float]] = {}
    if args.mode in ("both", "think"):
        modes["think"] = (args.think_min, args.think_max)
    if args.mode in ("both", "back_to_back"):
        modes["back_to_back"] = (0.0, 0.0)
    with tempfile.TemporaryDirectory(prefix="chat-load-") as tmp:
        data = Path(tmp)
        seed_all(Settings(data_dir=data), n_deals=args.deals)
        dispose_engines()
        server = ChatServer(data_dir=data, launcher=args.launcher, workers=args.workers).start()
        try:
            pid = server.proc.pid if server.proc else None
            result = asyncio.run(
                run(
                    server.url,
                    args.sessions,
                    args.turns,
                    modes,
                    args.seed,
                    pid,
                    args.workers,
                    args.trace,
                )
            )
        finally:
            server.stop()
    main_mode = result.get("think") or result.get("back_to_back")
    assert isinstance(main_mode, dict)
    result.update(
        {
            "model": "offline",
            "database": "sqlite",
            "deals": args.deals,
            "chat_workers": args.workers,
            "launcher": args.launcher,
            "target": "mode 'think': p95 < 1.5 s and 0 errors",
            "meets_target": bool(
                "think" in result
                and main_mode["errors"] == 0
                and main_mode["p95_s"] is not None
                and main_mode["p95_s"] < 1.5
            ),
        }
    )
    print(json.dumps(result, indent=2))
    sys.exit(0 if result["meets_target"] else 1)


if __name__ == "__main__":
    main()
