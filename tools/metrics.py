"""Prometheus metrics: what every process counts, kept in one directory for all of them.

Why one directory: the chat runs in N processes, each Celery worker in a pool of processes,
beat in another; prometheus-client's multiprocess mode has each process write its values to
mmap files in DATA_DIR/metrics (PROMETHEUS_MULTIPROC_DIR overrides), and whoever answers a
scrape (the chat's /metrics, chat_ui/metrics_route.py) adds them up. The files are named by
host and pid, so containers sharing a DATA_DIR volume never write each other's files; a process
that starts removes the files of this host's dead processes (a new run starts from zero) and
one that stops drops its live gauges (mark_process_dead).

Per-process events are counted here (Keepa requests and 429s, task runs and durations, chat
turns and latency, tool errors, SP-API calls and throttles). Shared state (the token bucket,
queue depths, deal counts and ages) is read from Redis and the database when scraped
(tools/metrics_state.py), so every scrape tells the same truth whichever process answers it.

Every metric has labels: a labelled metric makes its values on first use, after
enable_multiprocess() chose where they live.
"""

from __future__ import annotations

import atexit
import contextlib
import os
import re
import socket
from pathlib import Path

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, values
from prometheus_client import multiprocess as mp

from tools.settings import Settings

ENV = "PROMETHEUS_MULTIPROC_DIR"
_enabled: dict[str, str] = {}

# ---- Keepa -----------------------------------------------------------------------------------
KEEPA_REQUESTS = Counter(
    "arbitrage_keepa_requests",
    "Keepa API answers by endpoint and status class (2xx, 429, 4xx, 5xx, transport)",
    ["endpoint", "status"],
)
KEEPA_429 = Counter(
    "arbitrage_keepa_http_429",
    "Keepa HTTP 429 NOT_ENOUGH_TOKEN answers, by who was spending",
    ["purpose"],
)
# ---- Celery tasks ----------------------------------------------------------------------------
TASK_RUNS = Counter(
    "arbitrage_task_runs",
    "Celery task runs by outcome (success, failure, retry)",
    ["task", "outcome"],
)
TASK_SECONDS = Histogram(
    "arbitrage_task_duration_seconds",
    "Wall time of a Celery task run",
    ["task"],
    buckets=(0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 900),
)
TASK_LAST_SUCCESS = Gauge(
    "arbitrage_task_last_success_timestamp_seconds",
    "When a task last succeeded (Unix time)",
    ["task"],
    multiprocess_mode="max",
)
# ---- chat ------------------------------------------------------------------------------------
CHAT_TURNS = Counter(
    "arbitrage_chat_turns", "Chat turns answered, by persona and outcome", ["persona", "outcome"]
)
CHAT_SECONDS = Histogram(
    "arbitrage_chat_turn_seconds",
    "A chat turn: message received to answer sent, tools included",
    ["persona"],
    buckets=(0.1, 0.25, 0.5, 0.75, 1, 1.5, 2.5, 5, 10, 30, 60),
)
CHAT_SESSIONS = Gauge(
    "arbitrage_chat_sessions_open",
    "Chat sessions open now",
    ["persona"],
    multiprocess_mode="livesum",
)
TOOL_CALLS = Counter("arbitrage_chat_tool_calls", "Agent tool calls in chat turns", ["tool"])
TOOL_ERRORS = Counter(
    "arbitrage_chat_tool_errors", "Agent tool calls that ended in an error", ["tool"]
)
# ---- SP-API ----------------------------------------------------------------------------------
SPAPI_REQUESTS = Counter(
    "arbitrage_spapi_requests",
    "SP-API restrictions answers by status class (2xx, 403, 429, 4xx, 5xx, transport)",
    ["status"],
)
SPAPI_THROTTLES = Counter(
    "arbitrage_spapi_throttles",
    "SP-API throttling: 'amazon' = a 429 answer, 'limiter' = our shared rate limit made a "
    "call wait",
    ["source"],
)


def status_class(status: int | None) -> str:
    """A bounded label for an HTTP status: 429 and 403 apart, the rest by class."""
    if status is None:
        return "transport"
    if status in (403, 429):
        return str(status)
    return f"{status // 100}xx"


def metrics_dir(settings: Settings) -> Path:
    return Path(os.environ.get(ENV) or settings.data_dir / "metrics")


def process_id() -> str:
    """`<host>-<pid>`: unique across containers that share the directory (no underscores:
    the collector splits file names on them)."""
    host = re.sub(r"[^A-Za-z0-9.-]", "-", socket.gethostname())[:60] or "host"
    return f"{host}-{os.getpid()}"


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def remove_stale(path: Path) -> int:
    """Delete this host's files whose process is gone; other hosts' files are theirs."""
    host = process_id().rsplit("-", 1)[0]
    removed = 0
    for f in path.glob("*.db"):
        owner = f.stem.rsplit("_", 1)[-1]
        who, _, pid = owner.rpartition("-")
        if who != host or not pid.isdigit() or _pid_alive(int(pid)):
            continue
        with contextlib.suppress(OSError):
            f.unlink()
            removed += 1
    return removed


def enable_multiprocess(settings: Settings) -> Path:
    """Make this process (and the ones it forks) write its metrics to the shared directory.

    Call it early in every long-running process: values made before it stay in memory only.
    """
    path = metrics_dir(settings)
    if _enabled.get("path") == str(path):
        return path
    path.mkdir(parents=True, exist_ok=True, mode=0o700)
    remove_stale(path)
    os.environ[ENV] = str(path)
    values.ValueClass = values.MultiProcessValue(process_id)  # type: ignore[no-untyped-call]
    _enabled["path"] = str(path)
    atexit.register(mark_dead)
    return path


def multiprocess_path() -> Path | None:
    """The directory this process writes to, when enable_multiprocess() ran."""
    p = _enabled.get("path")
    return Path(p) if p else None


def mark_dead() -> None:
    """This process is stopping: its live gauges (open chat sessions) stop counting."""
    path = _enabled.get("path")
    if path:
        with contextlib.suppress(OSError):
            mp.mark_process_dead(process_id(), path)  # type: ignore[no-untyped-call]


def registry() -> CollectorRegistry:
    """What a scrape reads: every process's files (multiprocess) or this process's values."""
    path = multiprocess_path()
    if path is None:
        from prometheus_client import REGISTRY

        return REGISTRY
    reg = CollectorRegistry()
    mp.MultiProcessCollector(reg, path=str(path))  # type: ignore[no-untyped-call]
    return reg
