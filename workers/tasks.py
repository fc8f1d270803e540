"""Celery tasks. Each task is a thin shell over plain functions in workers/pipeline and tools/.

A shell: take the task's Redis lock (skip when another run holds it), build the per-process
Keepa client, run the pipeline function with a database session, record the run (and any
error) in system_state for `arbitrage status` and the janitor's stall check.
"""

from __future__ import annotations

import gc
import logging
import threading
from collections.abc import Callable
from typing import Any

import redis
from celery.signals import worker_ready

from tools import shutdown
from tools.db import session_scope
from tools.redis_embedded import redis_url
from tools.settings import get_settings
from workers import checkpoints
from workers.celery_app import app
from workers.locks import LockBusy, TaskLock

log = logging.getLogger(__name__)
_local = threading.local()  # this worker thread's Keepa client
_clock: list[Any] = []  # the pipeline's clock (the sandbox market's), once a client exists
_freeze = threading.Lock()
_redis: dict[str, redis.Redis] = {}


@worker_ready.connect
def _on_worker_ready(**_: object) -> None:
    # Without it, a fresh install would have no deals until beat's first scout tick.
    if get_settings().scout_on_start:
        scout.apply_async(queue="scout")


def redis_client() -> redis.Redis:
    url = redis_url(get_settings())
    if url not in _redis:
        _redis[url] = redis.Redis.from_url(url)
    return _redis[url]


def keepa_client() -> Any:
    """This worker thread's blocking Keepa client (live API or the embedded sandbox).

    One per thread: each runs its own event loop. They share the process's sandbox market
    and the Redis token budget.
    """
    client = getattr(_local, "keepa", None)
    if client is None:
        from tools.keepa.factory import make_sync_keepa_client

        client = make_sync_keepa_client(get_settings(), purpose="processor")
        _local.keepa = client
        with _freeze:
            if not _clock:
                _clock.append(clock_of(client))
                # keepa + numpy (+ the embedded sandbox market) live as long as the process:
                # keep them out of full GC passes, which cost ~0.1 s each over those objects.
                gc.collect()
                gc.freeze()
    return client


def pipeline_clock() -> Any:
    """The clock the pipeline stamps with: the Keepa client's (market time for the sandbox)."""
    from tools.clock import SystemClock

    return _clock[0] if _clock else SystemClock()


def clock_of(client: Any) -> Any:
    """The Keepa client's clock (market time for the sandbox); without a client yet, the
    shared sandbox clock (SANDBOX_CLOCK) when one is set, else wall time: a refresher or
    janitor in a process that never fetched must judge ages on the same clock."""
    from tools.clock import SystemClock
    from tools.keepa.factory import configured_clock

    inner = getattr(client, "client", client)
    return getattr(inner, "clock", None) or configured_clock(get_settings()) or SystemClock()


def run_locked(task: str, ttl_s: float, body: Callable[[Any], dict[str, Any]]) -> dict[str, Any]:
    """Run `body(lock)` under the task's lock and record the outcome; skip if locked."""
    settings = get_settings()
    lock = TaskLock(redis_client(), task, ttl_s)
    if not lock.acquire():
        log.info("%s skipped: another run holds its lock", task)
        return {"skipped": "another run holds the lock"}
    try:
        try:
            info = body(lock)
        except shutdown.Stopped:
            log.info("%s interrupted by the worker's stop; back in its queue", task)
            raise
        except Exception as err:
            with session_scope(settings) as session:
                checkpoints.record_run(
                    session, task, now=_now(), ok=False, error=f"{err.__class__.__name__}: {err}"
                )
            raise
        with session_scope(settings) as session:
            checkpoints.record_run(session, task, now=_now(), ok=True, info=info)
        return info
    finally:
        lock.release()


def _now() -> Any:
    from workers.pipeline.common import now_dt

    return now_dt(pipeline_clock())


@app.task(name="workers.tasks.scout")
def scout() -> dict[str, Any]:
    from workers.pipeline.scout import run_scout

    s = get_settings()

    def body(_: TaskLock) -> dict[str, Any]:
        client = keepa_client()
        with session_scope(s) as session:
            return run_scout(
                client,
                session,
                clock_of(client),
                max_new=s.scout_max_new,
                max_pages=s.scout_max_pages,
            ).as_dict()

    return run_locked("scout", max(60.0, s.scout_interval_s * 2), body)


@app.task(name="workers.tasks.processor")
def processor(max_batches: int = 20, max_seconds: float = 25.0) -> dict[str, Any]:
    """Batches until nothing is due, the budget is at its floor or the time slice is over."""
    import time

    from workers.pipeline.processor import batch_size_for, run_processor

    s = get_settings()

    def body(lock: TaskLock) -> dict[str, Any]:
        client = keepa_client()
        total: dict[str, Any] = {
            "batches": 0,
            "claimed": 0,
            "upserted": 0,
            "offers": 0,
            "failed": 0,
            "queued_for_alerts": 0,
        }
        started = time.monotonic()
        while (
            total["batches"] < max_batches
            and time.monotonic() - started < max_seconds
            and not lock.lost
            and not shutdown.requested()
        ):
            n = _batch_size(client, s, batch_size_for)
            if n <= 0:
                break
            with session_scope(s) as session:
                r = run_processor(client, session, clock_of(client), batch_size=n)
            total["batches"] += 1
            total["claimed"] += r.claimed
            total["upserted"] += r.upserted
            total["offers"] += r.offers_fetched
            total["failed"] += r.failed
            total["queued_for_alerts"] += r.queued_for_alerts
            if r.claimed < n:
                break
        if total["queued_for_alerts"]:  # new deals reach sellers' alerts now, not at the next tick
            app.send_task("workers.alerts.match")
        return total

    return run_locked("processor", 120.0, body)


def _batch_size(client: Any, s: Any, batch_size_for: Callable[..., int]) -> int:
    budget = getattr(client, "budget", None)
    snap = budget.snapshot() if budget is not None else {}
    return batch_size_for(
        snap.get("balance"),
        snap.get("refill_rate"),
        floor=s.keepa_token_floor,
        max_batch=s.processor_max_batch,
    )


@app.task(name="workers.tasks.refresher")
def refresher() -> dict[str, Any]:
    from workers.pipeline.refresher import run_refresher

    s = get_settings()

    def body(_: TaskLock) -> dict[str, Any]:
        with session_scope(s) as session:
            return run_refresher(session, pipeline_clock()).as_dict()

    return run_locked("refresher", 300.0, body)


@app.task(name="workers.tasks.janitor")
def janitor() -> dict[str, Any]:
    from workers.pipeline.janitor import run_janitor

    s = get_settings()

    def body(_: TaskLock) -> dict[str, Any]:
        with session_scope(s) as session:
            return run_janitor(
                session,
                pipeline_clock(),
                unseen_h=s.janitor_unseen_hours,
                ingestion_window_h=s.janitor_ingestion_window_hours,
            ).as_dict()

    return run_locked("janitor", 600.0, body)


@app.task(name="workers.tasks.backfill", bind=True, max_retries=None, acks_late=True)
def backfill(self: Any, max_pages: int | None = None, restart: bool = False) -> dict[str, Any]:
    """Walk the deal query's pages from the checkpoint; retried later while another holds it."""
    try:
        return run_backfill_locked(max_pages=max_pages, restart=restart)
    except LockBusy as err:
        left = TaskLock(redis_client(), "backfill", 1).ttl_left_s() or 1.0
        log.info("%s; retrying in %.0fs", err, left)
        raise self.retry(countdown=min(60.0, left + 0.5)) from None


def run_backfill_locked(
    *,
    max_pages: int | None = None,
    restart: bool = False,
    on_page: Callable[[dict[str, Any]], None] | None = None,
) -> dict[str, Any]:
    """The whole backfill shell, shared by the task and `arbitrage backfill` (in-process).

    Raises LockBusy when another backfill holds the lock (it expires if that one crashed).
    """
    from workers.pipeline.backfill import reset_backfill, run_backfill
    from workers.pipeline.common import now_dt

    s = get_settings()
    client = keepa_client()
    clock = clock_of(client)
    with TaskLock(redis_client(), "backfill", s.backfill_lock_ttl_s) as lock:
        try:
            with session_scope(s) as session:
                if restart:
                    reset_backfill(session, clock)
                result = run_backfill(
                    client,
                    session,
                    clock,
                    max_pages=max_pages,
                    on_page=on_page,
                    should_stop=lambda: lock.lost,
                    pause=(lambda: shutdown.pause(s.backfill_page_pause_s))
                    if s.backfill_page_pause_s
                    else None,
                )
        except shutdown.Stopped:
            raise  # not a failure: the pages done are saved, the task runs again
        except Exception as err:
            with session_scope(s) as session:
                checkpoints.record_run(
                    session,
                    "backfill",
                    now=now_dt(clock),
                    ok=False,
                    error=f"{err.__class__.__name__}: {err}",
                )
            raise
        with session_scope(s) as session:
            checkpoints.record_run(
                session, "backfill", now=now_dt(clock), ok=True, info=result.as_dict()
            )
        return result.as_dict()
