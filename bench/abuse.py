"""Abuse: does one hostile chat session slow everyone else's chat down? (issue 16, item 1)

A real chat server (`python -m chat_ui.serve`, as `arbitrage up` starts it, on 127.0.0.1 only,
seeded SQLite in a temporary DATA_DIR, offline model) serves 20 normal sessions: each asks 5
deal questions with a 1-3 s think time, like bench/chat_load.py. In the hostile rounds one more
session, logged in as a seller too, sends 20 hostile messages one after another (100 KB of
text, 20,000 digits, deep unicode: stacked combining marks, mathematical digits, bidi
controls, and the shapes that took the old parser seconds to days), 0.5 s after each answer.
A control round has the same extra session send 20 ordinary questions at the same pace: what
any busy user costs the others, so the hostile content's own cost is the difference. Rounds
alternate (normal, control, hostile, normal, ...) so a change in the machine's load hits all.

Two server configurations: the default message cap (MAX_MESSAGE_CHARS 8,000: longer messages
are refused before anything reads them) and the cap raised to 200,000, so every hostile
message reaches the parser and the persona router.

Prints one JSON document: per configuration, the normal sessions' turn latency p50 / p95
alone, with the control session and with the hostile one, the p95 increases, `/health` latency
(polled every 0.2 s), the hostile turns' latencies and the start of their answers, errors, the
load average. Target (exit 1 otherwise): 0 errors, and in both configurations the hostile
session raises the normal sessions' p95 by less than 20 % more than the control session does.
Any 21st session that keeps asking adds its own load: on the shared 2-core machine (load 2-4)
the control alone moved the p95 by -37 % to +95 % from run to run, so the raw increase is
reported but not held to the target.

    .venv/bin/python bench/abuse.py [--sessions 20] [--turns 5] [--rounds 4] [--workers 1]
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
from pathlib import Path
from typing import Any

import httpx

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
ZALGO = "".join(chr(0x300 + i % 0x70) for i in range(60))  # 60 combining marks on one letter
HOSTILE = [
    "1" * 20_000,
    ("Joel, textbooks under $30 with roi over 40% " + "9" * 2_000 + " ") * 50,  # 100 KB
    "a" + "\u0301" * 19_999,  # one letter under 19,999 accents
    ("Z" + ZALGO) * 330,
    "𝟙𝟘𝟘 ١٢٣ " * 2_500,  # mathematical and Arabic-Indic digits (\d matches them)
    "\u202e\u2066\u200f\u200b" * 5_000,  # bidi overrides, isolates, zero-width spaces
    "5 drops" + " /" * 10_000 + " x",  # 2^n steps before the fix
    "price" + " of" * 10_000 + " x",  # 2^n steps before the fix
    "categories" + " in peak" * 2_500,
    "page 1 " * 14_000,  # 98 KB
]
HOSTILE_GAP_S = 0.5


def pct(values: list[float], p: float) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(p / 100 * (len(ordered) - 1))))]


def ms(v: float | None) -> float | None:
    return None if v is None else round(v * 1000, 1)


async def normal_session(
    client: ChatClient,
    idx: int,
    turns: int,
    rng: random.Random,
    latencies: list[float],
    errors: list[str],
) -> None:
    try:
        for t in range(turns):
            await asyncio.sleep(rng.uniform(1.0, 3.0))  # a person reading, then typing
            turn = await client.send(QUESTIONS[(idx + t) % len(QUESTIONS)], timeout=120)
            if not turn.answer.strip() or any(m in turn.answer for m in ERROR_MARKERS):
                errors.append(f"session {idx} turn {t}: {turn.answer[:120]!r}")
            else:
                latencies.append(turn.latency_s)
    except Exception as e:  # counted; the other sessions go on
        errors.append(f"session {idx}: {type(e).__name__}: {e}")


async def extra_session(
    client: ChatClient, messages: list[str], out: list[dict[str, Any]], errors: list[str]
) -> None:
    """The 21st session: 20 messages, each 0.5 s after the previous answer."""
    for i in range(20):
        text = messages[i % len(messages)]
        await asyncio.sleep(HOSTILE_GAP_S)
        try:
            turn = await client.send(text, timeout=300)
        except Exception as e:
            errors.append(f"hostile {i}: {type(e).__name__}: {e}")
            continue
        if any(m in turn.answer for m in ERROR_MARKERS[:1]):  # a crash, not an answer
            errors.append(f"hostile {i}: {turn.answer[:120]!r}")
        out.append(
            {
                "chars": len(text),
                "latency_s": round(turn.latency_s, 3),
                "answer": " ".join(turn.answer.split())[:90],
            }
        )


async def poll_health(url: str, stop: asyncio.Event, samples: list[float]) -> None:
    async with httpx.AsyncClient(base_url=url, timeout=60) as http:
        while not stop.is_set():
            started = time.perf_counter()
            try:
                await http.get("/health")
                samples.append(time.perf_counter() - started)
            except httpx.HTTPError:
                samples.append(float("inf"))
            await asyncio.sleep(0.2)


async def one_round(
    url: str, cookies: list[str], extra_cookie: str, extra: list[str] | None, turns: int, seed: int
) -> dict[str, Any]:
    errors: list[str] = []
    clients = [ChatClient(url, c) for c in cookies]
    await asyncio.gather(*(c.connect(wait_start=60) for c in clients))
    attacker = ChatClient(url, extra_cookie) if extra else None
    if attacker:
        await attacker.connect(wait_start=60)
    latencies: list[float] = []
    health: list[float] = []
    hostile: list[dict[str, Any]] = []
    stop = asyncio.Event()
    poller = asyncio.create_task(poll_health(url, stop, health))
    load_before = os.getloadavg()[0]
    started = time.perf_counter()
    work = [
        normal_session(c, i, turns, random.Random(seed * 1000 + i), latencies, errors)
        for i, c in enumerate(clients)
    ]
    if attacker and extra:
        work.append(extra_session(attacker, extra, hostile, errors))
    await asyncio.gather(*work)
    wall = time.perf_counter() - started
    stop.set()
    await poller
    for c in [*clients, *([attacker] if attacker else [])]:
        await c.close()
    return {
        "latencies": latencies,
        "health": health,
        "hostile": hostile,
        "errors": errors,
        "wall_s": round(wall, 1),
        "load_avg_1m_before_after": [round(load_before, 2), round(os.getloadavg()[0], 2)],
    }


def _increase(before: dict[str, Any], after: dict[str, Any]) -> float | None:
    if not (before["p95_ms"] and after["p95_ms"]):
        return None
    return round((after["p95_ms"] / before["p95_ms"] - 1) * 100, 1)


def summarize(rounds: list[dict[str, Any]]) -> dict[str, Any]:
    lat = [x for r in rounds for x in r["latencies"]]
    health = [x for r in rounds for x in r["health"]]
    return {
        "turns_ok": len(lat),
        "p50_ms": ms(statistics.median(lat) if lat else None),
        "p95_ms": ms(pct(lat, 95)),
        "max_ms": ms(max(lat) if lat else None),
        "health_p95_ms": ms(pct(health, 95)),
        "health_max_ms": ms(max(health or [0])),
        "errors": sum(len(r["errors"]) for r in rounds),
        "error_samples": [e for r in rounds for e in r["errors"]][:5],
        "rounds": [
            {
                "wall_s": r["wall_s"],
                "p95_ms": ms(pct(r["latencies"], 95)),
                "load_avg_1m_before_after": r["load_avg_1m_before_after"],
            }
            for r in rounds
        ],
    }


async def run_config(url: str, sessions: int, turns: int, rounds: int, seed: int) -> dict[str, Any]:
    password = USERS["seller"][0]
    cookies = [await alogin(url, "seller", password) for _ in range(sessions)]
    extra_cookie = await alogin(url, "seller", password)
    warm = ChatClient(url, cookies[0])  # first turn: imports, caches
    await warm.connect(wait_start=60)
    await warm.send(QUESTIONS[0], timeout=120)
    await warm.close()
    normal: list[dict[str, Any]] = []
    control: list[dict[str, Any]] = []
    attacked: list[dict[str, Any]] = []
    for r in range(rounds):
        normal.append(await one_round(url, cookies, extra_cookie, None, turns, seed + r))
        control.append(await one_round(url, cookies, extra_cookie, QUESTIONS, turns, seed + r))
        attacked.append(await one_round(url, cookies, extra_cookie, HOSTILE, turns, seed + r))
    base, busy, hit = summarize(normal), summarize(control), summarize(attacked)
    hostile_turns = [h for r in attacked for h in r["hostile"]]
    return {
        "normal_only": base,
        "with_control": busy,
        "with_hostile": hit,
        "p95_increase_pct": _increase(base, hit),
        "control_p95_increase_pct": _increase(base, busy),
        "p95_increase_vs_control_pct": _increase(busy, hit),
        "hostile_turns": len(hostile_turns),
        "hostile_latency_p95_ms": ms(pct([h["latency_s"] for h in hostile_turns], 95)),
        "hostile_latency_max_ms": ms(max((h["latency_s"] for h in hostile_turns), default=None)),
        "hostile_samples": hostile_turns[: len(HOSTILE)],
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sessions", type=int, default=20)
    ap.add_argument("--turns", type=int, default=5)
    ap.add_argument("--rounds", type=int, default=4)
    ap.add_argument("--deals", type=int, default=300)
    ap.add_argument("--workers", type=int, default=1, help="chat server processes")
    ap.add_argument("--seed", type=int, default=7)
    args = ap.parse_args()
    out: dict[str, Any] = {
        "sessions": args.sessions,
        "turns_per_session": args.turns,
        "hostile_messages_per_round": 20,
        "rounds": args.rounds,
        "chat_workers": args.workers,
        "cpu_count": os.cpu_count(),
        "load_avg_at_start": [round(x, 2) for x in os.getloadavg()],
    }
    configs = {"default_cap": {}, "cap_200k": {"MAX_MESSAGE_CHARS": "200000"}}
    for name, env in configs.items():
        with tempfile.TemporaryDirectory(prefix="chat-abuse-") as tmp:
            data = Path(tmp)
            seed_all(Settings(data_dir=data), n_deals=args.deals)
            dispose_engines()
            server = ChatServer(data_dir=data, workers=args.workers, extra_env=env).start()
            try:
                out[name] = asyncio.run(
                    run_config(server.url, args.sessions, args.turns, args.rounds, args.seed)
                )
            finally:
                server.stop()
    out["load_avg_at_end"] = [round(x, 2) for x in os.getloadavg()]
    out["target"] = (
        "0 errors; the hostile session raises the normal sessions' p95 by < 20 % more than "
        "the control session does, with the default cap and with the cap raised"
    )
    out["meets_target"] = all(
        out[n]["p95_increase_vs_control_pct"] is not None
        and out[n]["p95_increase_vs_control_pct"] < 20
        and not any(
            out[n][part]["errors"] for part in ("normal_only", "with_control", "with_hostile")
        )
        for n in configs
    )
    print(json.dumps(out, indent=2))
    sys.exit(0 if out["meets_target"] else 1)


if __name__ == "__main__":
    main()
