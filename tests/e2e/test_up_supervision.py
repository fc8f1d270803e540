"""`arbitrage up` as an operator meets it: parts killed under it come back, a stop is quick.

A real `up` on its own DATA_DIR and a non-default port (embedded Redis, a Celery worker, beat,
the chat server, the Keepa sandbox in the worker): kill -9 of the worker, then beat, then the
embedded Redis; each comes back, a deal is processed after each restart, and the chat answers
all along (a /health poll every 0.3 s, and a chat turn before and after). Then a stop while
tasks wait for Keepa tokens: every process is gone within 15 s and the tasks are back in
their queues. `arbitrage status` is asked along the way.
"""

from __future__ import annotations

import asyncio
import json
import os
import re
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.e2e.harness import SCRUBBED_ENV, ChatClient, free_port, login
from tools.runstate import pid_alive

pytestmark = [pytest.mark.e2e, pytest.mark.integration, pytest.mark.timeout(420)]
REPO = Path(__file__).resolve().parents[2]


@dataclass
class Up:
    """One `arbitrage up --port N` process and what it recorded."""

    data: Path
    port: int
    proc: subprocess.Popen[bytes]
    out: Path
    health_failures: list[str] = field(default_factory=list)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def record(self) -> dict[str, Any]:
        (path,) = (self.data / "run").glob(f"up-{self.proc.pid}.json")
        return dict(json.loads(path.read_text()))

    def service(self, name: str) -> dict[str, Any]:
        return dict(self.record()["services"][name])

    def admin_password(self) -> str:
        found = re.search(r"user admin, password (\S+)", self.out.read_text())
        assert found, self.out.read_text()
        return found.group(1)

    def status(self) -> dict[str, Any]:
        res = subprocess.run(
            [sys.executable, "-m", "chat_ui.cli", "status", "--json"],
            env=_env(self.data),
            cwd=REPO,
            capture_output=True,
            text=True,
            timeout=60,
        )
        return dict(json.loads(res.stdout), exit_code=res.returncode)

    def pids(self) -> list[int]:
        rec = self.record()
        return [self.proc.pid] + [int(s["pid"]) for s in rec["services"].values() if s["pid"]]

    def log(self, name: str) -> str:
        path = self.data / "logs" / name
        return path.read_text(errors="replace")[-4000:] if path.exists() else ""


def _env(data: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in (*SCRUBBED_ENV, "REDIS_URL")}
    env.update(DATA_DIR=str(data), SECRET_KEY="e2e-up-secret-key-0123456789-0123456789", **extra)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO), env.get("PYTHONPATH")]))
    return env


def wait_for(cond: Callable[[], Any], timeout: float, what: str, up: Up | None = None) -> Any:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        value = cond()
        if value:
            return value
        time.sleep(0.25)
    logs = "" if up is None else up.out.read_text() + up.log("worker.out")
    raise AssertionError(f"timed out waiting for {what}\n{logs}")


@contextmanager
def arbitrage_up(tmp: Path, **settings: str) -> Iterator[Up]:
    data, port = tmp / "data", free_port()
    out = tmp / "up.out"
    with open(out, "wb") as fh:
        proc = subprocess.Popen(
            [sys.executable, "-m", "chat_ui.cli", "up", "--port", str(port)],
            env=_env(data, **settings),
            cwd=REPO,
            stdout=fh,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    up = Up(data, port, proc, out)
    try:
        wait_for(lambda: "is up in" in out.read_text() or proc.poll() is not None, 120, "up")
        assert proc.poll() is None, out.read_text()
        yield up
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(30)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()


@contextmanager
def health_watch(up: Up) -> Iterator[None]:
    """GET /health every 0.3 s in the background; every failure is kept."""
    done = threading.Event()

    def poll() -> None:
        with httpx.Client(timeout=3) as http:
            while not done.wait(0.3):
                try:
                    status = http.get(up.url + "/health").status_code
                    if status != 200:
                        up.health_failures.append(f"{time.strftime('%X')} HTTP {status}")
                except httpx.HTTPError as err:
                    up.health_failures.append(f"{time.strftime('%X')} {err!r}")

    thread = threading.Thread(target=poll, daemon=True)
    thread.start()
    try:
        yield
    finally:
        done.set()
        thread.join(5)


def chat_turn(up: Up, token: str) -> str:
    async def go() -> str:
        client = ChatClient(up.url, token)
        await client.connect()
        turn = await client.send("Best textbook deals I can sell right now", timeout=60)
        await client.close()
        return turn.answer

    return asyncio.run(go())


def newest_fetch(up: Up) -> datetime | None:
    with sqlite3.connect(up.data / "arbitrage.db", timeout=10) as db:
        (value,) = db.execute("SELECT max(fetched_at) FROM deal").fetchone()
    if not value:
        return None
    stamp = datetime.fromisoformat(value)
    return stamp if stamp.tzinfo else stamp.replace(tzinfo=UTC)


def kill_and_see_it_back(up: Up, name: str) -> None:
    """kill -9 one part; `up` starts it again and the pipeline processes a deal after that."""
    before = up.service(name)
    os.kill(int(before["pid"]), signal.SIGKILL)
    killed = datetime.now(UTC)
    back = wait_for(
        lambda: (
            (s := up.service(name))["restarts"] == before["restarts"] + 1
            and s["state"] == "running"
            and s
        ),
        30,
        f"{name} to be started again",
        up,
    )
    assert back["pid"] != before["pid"]
    assert back["last_exit"] == "killed by signal 9 (SIGKILL)"
    assert f"{name} (pid {before['pid']}) stopped (killed by signal 9" in up.out.read_text()
    wait_for(
        lambda: (t := newest_fetch(up)) is not None and t > killed,
        90,
        f"a deal processed after {name} was killed",
        up,
    )


PIPELINE = {
    "SANDBOX_PRODUCTS": "2000",
    "SANDBOX_REFILL_RATE": "1000",
    "SCOUT_INTERVAL_S": "10",
    "SCOUT_MAX_NEW": "5",  # new deals keep arriving: each scout tick has work for the processor
    "PROCESSOR_INTERVAL_S": "2",
    "REFRESHER_INTERVAL_S": "10",
}


def test_killed_parts_come_back_and_the_chat_answers_throughout(tmp_path: Path) -> None:
    with arbitrage_up(tmp_path, **PIPELINE) as up:
        with health_watch(up):
            token = login(up.url, "admin", up.admin_password())
            assert chat_turn(up, token).strip()
            wait_for(lambda: newest_fetch(up), 90, "the first processed deal", up)
            for name in ("worker", "beat", "redis"):
                kill_and_see_it_back(up, name)
            assert chat_turn(up, token).strip()  # the same sign-in, after all of it
        assert up.health_failures == []
        status = up.status()
        parts = status["parts"]
        assert status["exit_code"] == 0, parts
        assert parts["chat"]["detail"].startswith(up.url)  # up's port, not the default 8000
        for name in ("beat", "redis"):
            assert "restarted 1x (last stop: killed by signal 9" in parts[name]["detail"]
        # the worker may also stop on its own when Redis goes (its broker connection ends):
        # the supervisor brings it back either way
        assert re.search(r"restarted [1-9]\d*x \(last stop: ", parts["worker"]["detail"])
        assert parts["worker"]["workers"] == ["arbitrage@" + os.uname().nodename]
        pids = up.pids()
        asked = time.monotonic()
        up.proc.send_signal(signal.SIGTERM)
        up.proc.wait(20)
        wait_for(lambda: not any(pid_alive(p) for p in pids), 15, "every process to exit")
        assert time.monotonic() - asked < 15


def test_a_stop_during_token_waits_is_quick_and_requeues_and_status_tells(
    tmp_path: Path,
) -> None:
    """1 token a minute and the floor at the bucket's top: the scout that runs at start-up
    and an enqueued backfill both wait for tokens. Status still calls the worker alive (it
    answers a ping while its tasks wait) and says who waits; a stop ends the waits."""
    import redis
    from celery import Celery

    from tools.redis_embedded import ensure_redis
    from tools.settings import Settings

    with arbitrage_up(
        tmp_path,
        SANDBOX_PRODUCTS="2000",
        SANDBOX_REFILL_RATE="1",
        KEEPA_TOKEN_FLOOR="60",
        KEEPA_TOKEN_RESUME="61",
    ) as up:
        url = json.loads((up.data / "redis" / "server.json").read_text())["url"]
        backfill = Celery("e2e", broker=url).send_task("workers.tasks.backfill", queue="backfill")
        client = redis.Redis.from_url(url)

        def waiting() -> list[str]:
            keys = [k for k in client.keys("keepa:budget:*:waiting")]
            return sorted(json.loads(v)["purpose"] for k in keys for v in client.hvals(k))

        wait_for(lambda: waiting() == ["backfill", "scout"], 60, "both to wait for tokens", up)
        status = up.status()
        assert status["parts"]["worker"]["ok"] is True, status["parts"]["worker"]
        assert status["parts"]["chat"]["ok"] and str(up.port) in status["parts"]["chat"]["detail"]
        assert sorted(w["purpose"] for w in status["pipeline"]["tokens"]["waiting"]) == [
            "backfill",
            "scout",
        ]
        pids = up.pids()
        client.close()
        asked = time.monotonic()
        up.proc.send_signal(signal.SIGTERM)
        up.proc.wait(20)
        wait_for(lambda: not any(pid_alive(p) for p in pids), 15, "every process to exit")
        took = time.monotonic() - asked
    assert took < 15, up.log("up.log")
    # the embedded Redis kept what was queued (append-only file): both tasks wait there
    url, owner = ensure_redis(Settings(data_dir=up.data))
    assert owner is not None
    try:
        queued = redis.Redis.from_url(url)
        ids = {
            q: [json.loads(m)["headers"]["id"] for m in queued.lrange(q, 0, -1)]
            for q in ("scout", "backfill")
        }
        assert backfill.id in ids["backfill"] and len(ids["scout"]) == 1, ids
        assert queued.hlen("unacked") == 0
    finally:
        owner.stop()
