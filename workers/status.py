"""Pipeline health for `arbitrage status`: plain data gathered here, rendered by the CLI.

Token balance and spend by purpose (the shared Redis budget), Celery queue depths, deals by
status, freshness of active deals (median and p95 age since the last Keepa fetch), and the last
run / last error of each task. Every part degrades to an "error" entry instead of raising:
status must report, not crash.
"""

from __future__ import annotations

import math
from datetime import datetime
from typing import Any

from sqlalchemy import func
from sqlmodel import col, select

from tools.db import session_scope
from tools.models import Deal, DealStatus, utcnow
from tools.settings import Settings, get_settings
from tools.status import Part
from workers import checkpoints


def percentile(values: list[float], q: float) -> float | None:
    """Nearest-rank percentile (q in 0..100) of unsorted values; None when empty."""
    if not values:
        return None
    ordered = sorted(values)
    k = max(0, min(len(ordered) - 1, math.ceil(q / 100 * len(ordered)) - 1))
    return ordered[k]


def freshness(ages_h: list[float]) -> dict[str, Any]:
    return {
        "active": len(ages_h),
        "median_age_h": _r(percentile(ages_h, 50)),
        "p95_age_h": _r(percentile(ages_h, 95)),
    }


def _r(v: float | None) -> float | None:
    return None if v is None else round(v, 2)


def active_ages_h(session: Any, now: datetime) -> list[float]:
    """Hours since the last Keepa fetch of every active deal (never fetched: since created)."""
    rows = session.exec(
        select(Deal.fetched_at, Deal.created_at).where(col(Deal.status) == DealStatus.active)
    ).all()
    return [max(0.0, (now - (f or c)).total_seconds() / 3600) for f, c in rows]


def token_status(settings: Settings) -> dict[str, Any]:
    try:
        from tools.keepa.budget import make_token_budget

        snap = make_token_budget(settings).snapshot()
        return {
            k: snap.get(k)
            for k in (
                "synced",
                "balance",
                "refill_rate",
                "cap",
                "floor",
                "resume",
                "refill_in_s",
                "spend_by_purpose",
                "waiting",
            )
        }
    except Exception as err:
        return {"error": f"{err.__class__.__name__}: {err}"}


def queue_depths(settings: Settings) -> dict[str, Any]:
    """Messages waiting per Celery queue (the Redis transport keeps each queue in a list)."""
    try:
        import redis

        from tools.redis_embedded import redis_url
        from workers.celery_app import QUEUES

        client = redis.Redis.from_url(
            redis_url(settings), socket_timeout=2, socket_connect_timeout=2
        )
        try:
            return {q: int(client.llen(q)) for q in QUEUES}
        finally:
            client.close()
    except Exception as err:
        return {"error": f"{err.__class__.__name__}: {err}"}


def gather(settings: Settings | None = None, now: datetime | None = None) -> dict[str, Any]:
    settings = settings or get_settings()
    now = now or utcnow()
    out: dict[str, Any] = {"tokens": token_status(settings), "queues": queue_depths(settings)}
    try:
        with session_scope(settings) as session:
            rows = session.exec(select(Deal.status, func.count()).group_by(Deal.status)).all()
            out["deals"] = {str(getattr(s, "value", s)): int(n) for s, n in rows}
            out["freshness"] = freshness(active_ages_h(session, now))
            out["tasks"] = checkpoints.task_runs(session)
            out["backfill"] = {
                k: v for k, v in checkpoints.get_backfill(session).items() if k != "selection"
            }
            out["watermark"] = checkpoints.get_watermark(session)
            out["scout_backlog"] = len(
                checkpoints.get_state(session, checkpoints.SCOUT_BACKLOG_KEY, []) or []
            )
    except Exception as err:
        out["error"] = f"{err.__class__.__name__}: {err}"
    out["seller_sync"] = seller_sync(settings)
    return out


def seller_sync(settings: Settings) -> list[dict[str, Any]] | dict[str, str]:
    """Each seller's SP-API streams (tools/spapi): where each stands and how its last run went."""
    from tools.spapi.checkpoint import statuses

    try:
        with session_scope(settings) as session:
            rows = statuses(session)
    except Exception as err:  # status must report (one line, not an SQL dump), not crash
        return {"error": f"{err.__class__.__name__}: {str(err).splitlines()[0][:160]}"}
    return [
        {
            "user": r.user,
            "stream": r.stream,
            "phase": r.phase,
            "state": f"walking ({r.pages} pages in)" if r.in_window else "caught up",
            "synced_to": r.watermark.isoformat() if r.watermark else None,
            "last_success": r.last_success_at.isoformat() if r.last_success_at else None,
            "last_error": r.last_error,
            "last_run": {k: r.info.get(k) for k in ("pages", "rows", "calls", "stopped")},
        }
        for r in rows
    ]


def ping_workers(settings: Settings, expected: int | None = None, timeout: float = 1.5) -> Any:
    """Ask the workers themselves: Celery's remote-control ping, answered by each worker's
    consumer thread, not by a task. A worker whose task threads all wait for Keepa tokens
    still answers; one that is gone, hung or cut off from Redis does not.

    Returns the names of the workers that answered (on any machine sharing this Redis).
    `expected`: stop listening once that many answered (else wait the whole `timeout`).
    """
    from workers.celery_app import app

    replies = app.control.ping(timeout=timeout, limit=expected)
    return sorted(name for reply in replies for name in reply)


def check_worker(settings: Settings, up: dict[str, Any] | None, redis_ok: bool) -> Part:
    """The worker part of `arbitrage status`: who answered a ping, and what `up` recorded."""
    from tools.status import describe_service

    svc = ((up or {}).get("services") or {}).get("worker")
    supervised = f"; {describe_service('worker', svc)}" if svc else ""
    if not redis_ok:
        return Part("worker", False, f"unknown: Redis is not reachable{supervised}")
    try:
        names = ping_workers(settings, expected=1 if svc else None)
    except Exception as err:  # status must report, not crash
        line = str(err).splitlines()[0][:120] if str(err) else ""
        return Part("worker", False, f"unknown: {err.__class__.__name__}: {line}{supervised}")
    if not names:
        return Part("worker", False, f"no worker answered a ping{supervised}", {"workers": []})
    return Part(
        "worker", True, f"{', '.join(names)} answered a ping{supervised}", {"workers": names}
    )
