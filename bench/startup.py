"""Start-up benchmark: `arbitrage up` on the embedded default, from command to all parts healthy.

Prints one JSON document: seconds until `arbitrage status` reports every part ok (database,
embedded Redis, worker heartbeat, chat server), and the resident memory of the whole process
tree (up + Valkey + worker + beat + chat) after 20 s idle. Targets: <= 30 s, <= 1.5 GB.
"""

from __future__ import annotations

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


def tree_rss(pid: int) -> int:
    proc = psutil.Process(pid)
    procs = [proc, *proc.children(recursive=True)]
    total = 0
    for p in procs:
        with contextlib.suppress(psutil.Error):
            total += p.memory_info().rss
    # the embedded Valkey is started by `up` itself, so it is in the tree too
    return total


def main() -> None:
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
    healthy_s = None
    status: dict = {}
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
                break
            time.sleep(0.5)
        time.sleep(20)
        rss = tree_rss(up.pid)
    finally:
        os.killpg(up.pid, signal.SIGINT)
        up.wait(timeout=60)
    rss_mb = round(rss / 2**20, 1)
    met = healthy_s is not None and healthy_s <= 30 and rss_mb <= 1536
    print(
        json.dumps(
            {
                "bench": "startup",
                "healthy_after_s": round(healthy_s, 2) if healthy_s else None,
                "idle_rss_mb_all_processes": rss_mb,
                "target_healthy_s": 30,
                "target_rss_mb": 1536,
                "meets_target": met,
                "parts": {k: v.get("ok") for k, v in status.get("parts", {}).items()},
            }
        )
    )
    sys.exit(0 if met else 1)


if __name__ == "__main__":
    main()
