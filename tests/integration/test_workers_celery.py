"""The pipeline through REAL Celery worker processes, real Redis and the Keepa sandbox.

Workers are `python -m celery -A workers.celery_app worker` subprocesses with REDIS_URL and
DATA_DIR of the test. Two kinds of sandbox: the worker's own in-process one (the embedded
default), and one served over HTTP from the test process on a frozen simulation clock, so the
test and several workers see exactly the same /deal/ pages (KEEPA_SANDBOX_URL).
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from celery import Celery
from sqlalchemy import func
from sqlmodel import select

from tools.clock import SimClock
from tools.db import dispose_engines, session_scope
from tools.deal_selection import DEFAULT_SELECTION, selection_page, set_deal_selection
from tools.models import Deal, DealStatus, SystemState, utcnow
from tools.settings import Settings
from workers import checkpoints

pytestmark = pytest.mark.integration
REPO = Path(__file__).resolve().parents[2]
SELECTION = {**DEFAULT_SELECTION, "isRangeEnabled": False}  # every recent book: more pages
T_MARKET = 1772452800.0  # 2026-03-02 12:00 UTC


def worker_env(settings: Settings, redis_url: str, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k != "CI"}
    env.update(
        REDIS_URL=redis_url,
        DATA_DIR=str(settings.data_dir.resolve()),
        SANDBOX_PRODUCTS="300",
        SANDBOX_REFILL_RATE="1000",
        SANDBOX_SEED="7",
        BACKFILL_PAGE_PAUSE_S="0",
        BACKFILL_LOCK_TTL_S="3",
        PYTHONUNBUFFERED="1",
        SCOUT_ON_START="false",
    )  # each test decides when the scout runs
    env.update(extra)
    return env


@contextmanager
def celery_worker(
    env: dict[str, str],
    log: Path,
    name: str = "w1",
    pool: str = "solo",
    queues: str = "scout,processor,maintenance,backfill",
) -> Iterator[subprocess.Popen[bytes]]:
    args = [
        sys.executable,
        "-m",
        "celery",
        "-A",
        "workers.celery_app",
        "worker",
        f"--pool={pool}",
        "--loglevel=INFO",
        "-Q",
        queues,
        "-n",
        f"{name}@%h",
        "--without-gossip",
        "--without-mingle",
        "--without-heartbeat",
    ]
    with open(log, "ab") as out:
        proc = subprocess.Popen(
            args, env=env, cwd=REPO, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
        )
    try:
        yield proc
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGTERM)
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()


def sender(redis_url: str) -> Celery:
    return Celery("test-sender", broker=redis_url, backend=redis_url)


def call(app: Celery, name: str, queue: str, timeout: float = 40.0, **kwargs: Any) -> Any:
    return app.send_task(f"workers.tasks.{name}", kwargs=kwargs, queue=queue).get(timeout=timeout)


def wait_for(cond: Callable[[], bool], timeout: float, what: str) -> None:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if cond():
            return
        time.sleep(0.2)
    raise AssertionError(f"timed out waiting for {what}")


def deal_asins() -> list[str]:
    dispose_engines()
    with session_scope() as session:
        return list(session.exec(select(Deal.asin)).all())


@pytest.fixture(scope="module")
def served_market() -> Iterator[tuple[str, Any]]:
    """A frozen sandbox market served over HTTP, its cache warmed by the expected walk."""
    from tools.sandbox.keepa.market import SandboxMarket
    from tools.sandbox.keepa.serve import serve_in_thread

    market = SandboxMarket(n_products=1500, seed=7, refill_rate=1000, clock=SimClock(T_MARKET))
    with serve_in_thread(market) as url:
        yield url, market


def expected_pages(market: Any) -> list[list[str]]:
    pages: list[list[str]] = []
    while True:
        rows = market.deals(selection_page(SELECTION, len(pages)))["dr"]
        pages.append([r["asin"] for r in rows])
        if len(rows) < 150:
            return pages


def test_janitor_waits_then_scout_and_processor_fill_deals(
    settings: Settings, redis_url: str, tmp_path: Path
) -> None:
    now = utcnow()
    with session_scope() as session:  # deals from a previous life, unseen for 100 h
        for i in range(5):
            session.add(
                Deal(
                    asin=f"B{i:09d}",
                    status=DealStatus.active,
                    last_seen_utc=now - timedelta(hours=100),
                )
            )
        checkpoints.record_run(session, "scout", now=now - timedelta(hours=30), ok=True)
    app = sender(redis_url)
    with celery_worker(worker_env(settings, redis_url), tmp_path / "worker.log"):
        # ingestion stalled (scout 30 h ago, processor never): the janitor must not drain
        out = call(app, "janitor", "maintenance")
        assert out["skipped"] and out["deleted"] == 0 and "stalled" in out["reason"]
        assert len(deal_asins()) == 5
        with session_scope() as session:
            for d in session.exec(select(Deal)).all():
                session.delete(d)
        scout = call(app, "scout", "scout")
        assert scout["inserted"] > 0 and scout["inserted"] == scout["seen"]
        with session_scope() as session:
            pending = session.exec(select(Deal).where(Deal.status == DealStatus.pending)).all()
            assert len(pending) == scout["inserted"]
            assert all(100 <= d.priority <= 109 for d in pending)  # pending, by drop
        proc = call(app, "processor", "processor")
        assert proc["upserted"] == scout["inserted"] and proc["failed"] == 0
    dispose_engines()
    with session_scope() as session:
        deals = session.exec(select(Deal)).all()
        assert deals and all(d.status == DealStatus.active for d in deals)
        assert all(
            d.fetched_at is not None
            and d.next_refresh_at is not None
            and d.next_refresh_at > d.fetched_at
            for d in deals
        )
        assert sum(d.price_now is not None for d in deals) > len(deals) // 2
        assert sum(d.title is not None for d in deals) == len(deals)
        runs = checkpoints.task_runs(session)
        assert runs["scout"]["last_ok"] and runs["processor"]["last_ok"]
        assert checkpoints.get_watermark(session) > 0
        row = session.get(SystemState, "task:janitor")
        assert row is not None and isinstance(row.value, dict)
        assert row.value["last_info"]["skipped"]


def test_kill9_mid_backfill_resumes_from_checkpoint(
    settings: Settings, redis_url: str, tmp_path: Path, served_market: Any
) -> None:
    url, market = served_market
    pages = expected_pages(market)
    assert len(pages) >= 3
    with session_scope() as session:
        set_deal_selection(session, SELECTION)
    env = worker_env(settings, redis_url, KEEPA_SANDBOX_URL=url, BACKFILL_PAGE_PAUSE_S="2")
    app = sender(redis_url)

    def pages_done() -> int:
        dispose_engines()
        with session_scope() as session:
            return int(checkpoints.get_backfill(session)["pages_done"])

    with celery_worker(env, tmp_path / "w1.log") as proc:
        app.send_task("workers.tasks.backfill", queue="backfill")
        wait_for(lambda: pages_done() >= 1, 40, "the first backfill page")
        os.killpg(proc.pid, signal.SIGKILL)  # mid-walk: in the pause or fetching page 2
        proc.wait()
    killed_at = pages_done()
    assert 1 <= killed_at < len(pages)
    with celery_worker(env, tmp_path / "w2.log"):
        result = call(app, "backfill", "backfill", timeout=60)
    assert result["start_page"] == killed_at  # resumed at the checkpoint, not at page 0
    assert result["done"] and result["next_page"] == len(pages)
    asins = deal_asins()
    assert len(asins) == len(set(asins))  # no duplicate rows
    assert set(asins) == {a for p in pages for a in p}  # no skipped page
    with session_scope() as session:
        state = checkpoints.get_backfill(session)
    assert state["pages_done"] == len(pages) and state["rows"] == sum(map(len, pages))


def test_two_workers_never_double_insert(
    settings: Settings, redis_url: str, tmp_path: Path, served_market: Any
) -> None:
    url, market = served_market
    pages = expected_pages(market)
    with session_scope() as session:
        set_deal_selection(session, SELECTION)
    env = worker_env(settings, redis_url, KEEPA_SANDBOX_URL=url, SCOUT_MAX_NEW="10000")
    app = sender(redis_url)
    with celery_worker(env, tmp_path / "a.log", "a"), celery_worker(env, tmp_path / "b.log", "b"):
        # scout and backfill insert the same ASINs at the same time on different workers;
        # processors then race over the same due rows
        results = [
            app.send_task("workers.tasks.backfill", queue="backfill"),
            app.send_task("workers.tasks.scout", queue="scout"),
        ]
        outs = [r.get(timeout=60) for r in results]
        procs = [
            app.send_task("workers.tasks.processor", queue="processor", kwargs={"max_batches": 2})
            for _ in range(2)
        ]
        pouts = [r.get(timeout=60) for r in procs]
    assert all(isinstance(o, dict) for o in outs + pouts)  # no task failed
    asins = deal_asins()
    assert len(asins) == len(set(asins)) == len({a for p in pages for a in p})
    with session_scope() as session:
        n = session.exec(select(func.count()).select_from(Deal)).one()
    assert n == len(asins)


def test_a_stopped_worker_puts_back_the_tasks_waiting_for_tokens(
    settings: Settings, redis_url: str, tmp_path: Path
) -> None:
    """SIGTERM while a scout waits for Keepa tokens: the worker is gone in seconds (not when
    the tokens come, minutes later) and the scout is back in its queue, not lost."""
    import json

    import redis

    from tools.keepa.budget import TokenBudget

    # 1 token a minute, 60 in the bucket and the floor at 60: the first /deal/ page waits
    env = worker_env(
        settings,
        redis_url,
        SANDBOX_REFILL_RATE="1",
        KEEPA_TOKEN_FLOOR="60",
        KEEPA_TOKEN_RESUME="61",
    )
    budget = TokenBudget.from_url(redis_url, name="sandbox-7")
    client = redis.Redis.from_url(redis_url)
    with celery_worker(env, tmp_path / "worker.log", pool="threads") as proc:
        sent = sender(redis_url).send_task("workers.tasks.scout", queue="scout")
        wait_for(lambda: bool(budget.waiting_now()), 60, "the scout to wait for tokens")
        assert client.llen("scout") == 0  # taken: running, not queued
        asked = time.monotonic()
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(timeout=15)
        assert time.monotonic() - asked < 5, (tmp_path / "worker.log").read_text()[-3000:]
    queued = [json.loads(m) for m in client.lrange("scout", 0, -1)]
    assert [m["headers"]["id"] for m in queued] == [sent.id]
    assert client.hlen("unacked") == 0
    assert budget.waiting_now() == [] and budget.snapshot()["inflight"] == 0


def test_a_saved_search_fires_on_new_deals_from_a_real_worker(
    settings: Settings, redis_url: str, tmp_path: Path
) -> None:
    """scout + processor in a worker process queue the deals; the processor sends the alert
    match; the seller's inbox gets one message per alert, and a re-run sends nothing new."""
    from tools.alerts import store
    from tools.models import AlertOutbox, User

    with session_scope() as session:
        seller = User(name="nina", password_hash="x")
        session.add(seller)
        session.flush()
        # every deal with a price: the point is the path from the worker, not the filter
        store.create_search(session, seller.id or 0, {"include_unprofitable": True}, name="all")
        owner = seller.id

    def inbox() -> list[AlertOutbox]:
        dispose_engines()
        with session_scope() as session:
            return list(session.exec(select(AlertOutbox).where(AlertOutbox.owner_id == owner)))

    app = sender(redis_url)
    with celery_worker(worker_env(settings, redis_url), tmp_path / "worker.log"):
        assert call(app, "scout", "scout")["inserted"] > 0
        proc = call(app, "processor", "processor")
        assert proc["queued_for_alerts"] == proc["upserted"] > 0
        wait_for(lambda: bool(inbox()), 60, "the alert from the worker's match task")
        (msg,) = inbox()
        assert msg.channel == "app" and msg.payload["search"] == "all"
        assert msg.payload["matched"] > 0
        with session_scope() as session:  # everything due again: a refresh of the same deals
            for d in session.exec(select(Deal)).all():
                d.next_refresh_at = utcnow() - timedelta(minutes=1)
                session.add(d)
        again = call(app, "processor", "processor")
        assert again["queued_for_alerts"] > 0
        time.sleep(3)
        app.send_task("workers.alerts.match", queue="maintenance").get(timeout=40)
        assert len(inbox()) == 1  # unchanged deals do not fire twice
