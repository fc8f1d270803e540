"""Start-up benchmark: `arbitrage up` on the embedded default, from command to all parts healthy.

Prints one JSON document: seconds until `arbitrage status` reports every part ok (database,
embedded Redis, a worker answering a ping, beat, the chat server, ingestion), the resident
memory of every process of the app (up's supervisor, Valkey, the worker, beat, the chat)
after `--settle` seconds (default 20; the worker's sandbox caches fill during the first scout),
per process too, the CPU seconds they used until healthy (comparable across machine loads,
unlike the wall time), and how long a SIGINT (Ctrl-C) takes until every one has exited.
Targets (issue 20): healthy in <= 10 s, <= 800 MB for all processes, stopped in <= 15 s.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import psutil

ROOT = Path(__file__).resolve().parents[1]
ARBITRAGE = Path(sys.executable).parent / "arbitrage"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def tree(pid: int) -> list[psutil.Process]:
    """`up` and everything it started (Valkey, worker, beat, chat: all its descendants)."""
    proc = psutil.Process(pid)
    return [proc, *proc.children(recursive=True)]


def cpu_seconds(procs: list[psutil.Process]) -> float:
    total = 0.0
    for p in procs:
        with contextlib.suppress(psutil.Error):
            t = p.cpu_times()
            total += t.user + t.system
    return total


def rss_by_process(procs: list[psutil.Process]) -> dict[str, float]:
    out: dict[str, float] = {}
    for p in procs:
        with contextlib.suppress(psutil.Error):
            args = p.cmdline()
            name = next((a for a in args if a in ("worker", "beat")), None) or (
                "chat" if "chat_ui.serve" in args else "up"
            )
            if "valkey" in p.name():
                name = "redis"
            out[name] = round(out.get(name, 0.0) + p.memory_info().rss / 2**20, 1)
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--settle", type=float, default=20.0, help="seconds after healthy to wait")
    args = ap.parse_args()
    data = Path(tempfile.mkdtemp(prefix="aa-startup-")) / "data"
    port = free_port()
    env = {k: v for k, v in os.environ.items() if k not in ("CI", "REDIS_URL", "DATABASE_URL")}
    env.update(DATA_DIR=str(data), CHAINLIT_PORT=str(port))
    t0 = time.monotonic()
    up = subprocess.Popen(
        [str(ARBITRAGE), "up"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        cwd=ROOT,
        start_new_session=True,
    )
    healthy_s = stop_s = cpu_s = None
    status: dict = {}
    per: dict[str, float] = {}
    procs: list[psutil.Process] = []
    try:
        while time.monotonic() - t0 < 120:
            out = subprocess.run(
                [str(ARBITRAGE), "status", "--json"],
                env=env,
                cwd=ROOT,
                capture_output=True,
                text=True,
            )
            try:
                status = json.loads(out.stdout)
            except ValueError:
                status = {}
            if out.returncode == 0 and status:
                healthy_s = time.monotonic() - t0
                cpu_s = cpu_seconds(tree(up.pid))
                break
            time.sleep(0.5)
        time.sleep(args.settle)
        procs = tree(up.pid)
        per = rss_by_process(procs)
    finally:
        asked = time.monotonic()
        up.send_signal(signal.SIGINT)  # Ctrl-C
        up.wait(timeout=60)
        psutil.wait_procs(procs, timeout=30)
        stop_s = time.monotonic() - asked
    rss_mb = round(sum(per.values()), 1)
    met = (
        healthy_s is not None
        and healthy_s <= 10
        and rss_mb <= 800
        and stop_s is not None
        and stop_s <= 15
    )
    print(
        json.dumps(
            {
                "bench": "startup",
                "healthy_after_s": round(healthy_s, 2) if healthy_s else None,
                # CPU the app's processes used until then: what a busy machine has to share
                "cpu_s_until_healthy": round(cpu_s, 2) if cpu_s is not None else None,
                "rss_mb_all_processes": rss_mb,
                "rss_mb_by_process": per,
                "settle_s": args.settle,
                "stopped_after_s": round(stop_s, 2) if stop_s is not None else None,
                "target_healthy_s": 10,
                "target_rss_mb": 800,
                "target_stop_s": 15,
                "meets_target": met,
                "load_avg_1m": round(os.getloadavg()[0], 1),
                "parts": {k: v.get("ok") for k, v in status.get("parts", {}).items()},
            }
        )
    )
    sys.exit(0 if met else 1)


if __name__ == "__main__":
    main()
