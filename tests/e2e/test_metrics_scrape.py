"""/metrics scraped from a real chat server while a real Celery worker runs the pipeline.

The worker (a prefork pool) and the chat process write their metrics into DATA_DIR/metrics;
the chat's /metrics adds them up with the shared state. Scraped before and after the scout and
processor run and after a chat turn, parsed with prometheus-client's own parser: the numbers
move with what happened. The worker also sends Celery task events (what Flower shows).
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from celery import Celery

from tests.e2e.harness import ChatClient, ChatServer, login
from tests.e2e.seed import seed_all
from tests.unit.test_metrics import samples, total
from tools.db import dispose_engines
from tools.metrics_state import CACHE_S
from tools.settings import Settings

pytestmark = [pytest.mark.e2e, pytest.mark.integration, pytest.mark.timeout(300)]
REPO = Path(__file__).resolve().parents[2]
ENV = {
    "SANDBOX_PRODUCTS": "300",
    "SANDBOX_REFILL_RATE": "1000",
    "SANDBOX_SEED": "7",
    "SCOUT_ON_START": "false",
    "PYTHONUNBUFFERED": "1",
}


@pytest.fixture
def stack(tmp_path: Path, redis_url: str) -> Iterator[tuple[ChatServer, Celery]]:
    data = tmp_path / "stack"
    seed_all(Settings(data_dir=data))
    dispose_engines()
    env = {**ENV, "REDIS_URL": redis_url}
    worker_env = {
        k: v for k, v in os.environ.items() if k not in ("CI", "PROMETHEUS_MULTIPROC_DIR")
    }
    worker_env.update(env, DATA_DIR=str(data), SECRET_KEY="e2e-metrics-secret-key-0123456789")
    with open(tmp_path / "worker.log", "ab") as log:
        worker = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "celery",
                "-A",
                "workers.celery_app",
                "worker",
                "--concurrency=1",  # the prefork pool: tasks run in a forked child
                "--loglevel=INFO",
                "-Q",
                "scout,processor,maintenance",
                "-n",
                "metrics@%h",
                "--without-gossip",
                "--without-mingle",
            ],
            env=worker_env,
            cwd=REPO,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    server = ChatServer(data_dir=data, extra_env=env)
    try:
        server.start(timeout=120)
        yield server, Celery("metrics-test", broker=redis_url, backend=redis_url)
    finally:
        server.stop()
        os.killpg(worker.pid, signal.SIGTERM)
        try:
            worker.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(worker.pid, signal.SIGKILL)
            worker.wait()


def scrape(server: ChatServer) -> dict[Any, float]:
    time.sleep(CACHE_S + 0.1)  # the shared state is read again, not the last scrape's
    r = httpx.get(server.url + "/metrics", timeout=30)
    assert r.status_code == 200, r.text
    return samples(r.text)


def run(app: Celery, name: str, queue: str) -> Any:
    return app.send_task(f"workers.tasks.{name}", queue=queue).get(timeout=90)


def test_metrics_follow_the_pipeline_and_the_chat(
    stack: tuple[ChatServer, Celery], credentials: dict[str, str]
) -> None:
    server, app = stack
    events: list[str] = []
    listening = threading.Event()

    def listen() -> None:  # what Flower reads: the worker's task events
        with app.connection() as conn:
            recv = app.events.Receiver(conn, handlers={"*": lambda e: events.append(e["type"])})
            listening.set()
            # ends by timeout: the assertions below say what was missing
            with contextlib.suppress(Exception):
                recv.capture(limit=None, timeout=60, wakeup=False)

    threading.Thread(target=listen, daemon=True).start()
    listening.wait(10)
    before = scrape(server)
    assert total(before, "arbitrage_state_up", source="redis") == 1
    assert total(before, "arbitrage_state_up", source="database") == 1
    deals_before = total(before, "arbitrage_deals")

    run(app, "scout", "scout")
    run(app, "processor", "processor")
    after = scrape(server)
    for task in ("scout", "processor"):
        grew = total(after, "arbitrage_task_runs_total", task=task, outcome="success") - total(
            before, "arbitrage_task_runs_total", task=task, outcome="success"
        )
        assert grew == 1, task
        assert total(after, "arbitrage_task_duration_seconds_count", task=task) >= 1
        assert total(after, "arbitrage_task_last_success_timestamp_seconds", task=task) > 0
    assert total(after, "arbitrage_keepa_requests_total", endpoint="deal", status="2xx") > 0
    assert total(after, "arbitrage_keepa_requests_total", endpoint="product", status="2xx") > 0
    assert total(after, "arbitrage_keepa_tokens_spent_total", purpose="scout") > 0
    assert total(after, "arbitrage_keepa_tokens_spent_total", purpose="processor") > 0
    assert total(after, "arbitrage_keepa_tokens_balance") > 0
    assert total(after, "arbitrage_deals") > deals_before
    assert total(after, "arbitrage_keepa_http_429_total") == 0

    async def one_turn() -> None:
        cookie = login(server.url, "seller", credentials["seller"])
        client = ChatClient(server.url, cookie)
        await client.connect(wait_start=30)
        turn = await client.send("Best textbook deals I can sell right now", timeout=60)
        assert turn.answer.strip()
        opened = scrape(server)
        assert total(opened, "arbitrage_chat_sessions_open") >= 1
        await client.close()

    asyncio.run(one_turn())
    chat = scrape(server)
    assert (
        total(chat, "arbitrage_chat_turns_total", outcome="ok")
        == total(after, "arbitrage_chat_turns_total", outcome="ok") + 1
    )
    assert total(chat, "arbitrage_chat_turn_seconds_count") == (
        total(after, "arbitrage_chat_turn_seconds_count") + 1
    )
    assert total(chat, "arbitrage_chat_tool_calls_total", tool="search_deals") >= 1
    # through a proxy every visitor looks local: such requests are refused without a token
    proxied = httpx.get(
        server.url + "/metrics", headers={"X-Forwarded-For": "203.0.113.9"}, timeout=10
    )
    assert proxied.status_code == 403
    assert {"task-received", "task-started", "task-succeeded"} <= set(events), events
