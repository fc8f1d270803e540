"""Alert tasks: match the deals the processor queued, deliver the outbox, make daily picks.

The processor sends `match` after each run that wrote deals; beat sends `match`, `deliver` and
`daily_picks` as a backstop every ALERTS_INTERVAL_S, so a lost message or a restart only delays
them. Each task holds its own lock (ticks never pile up) and records its runs for
`arbitrage status`.
"""

from __future__ import annotations

import time
from typing import Any

from tools.db import session_scope
from tools.models import utcnow
from tools.settings import get_settings
from workers.celery_app import app
from workers.locks import TaskLock
from workers.tasks import run_locked

MATCH_SLICE = 500  # queued deals per transaction
MAX_SECONDS = 25.0  # a run stops after this; the next tick goes on


@app.task(name="workers.alerts.match")
def match() -> dict[str, Any]:
    from tools.alerts.engine import load_searches, match_queued

    s = get_settings()

    def body(lock: TaskLock) -> dict[str, Any]:
        total: dict[str, Any] = {"deals": 0, "fired": 0, "gone": 0, "messages": 0, "skipped": []}
        started = time.monotonic()
        searches = None
        while time.monotonic() - started < MAX_SECONDS and not lock.lost:
            with session_scope(s) as session:
                searches = searches or load_searches(session)
                report = match_queued(session, utcnow(), limit=MATCH_SLICE, searches=searches)
            if not report.deals:
                break
            for key in ("deals", "fired", "gone", "messages"):
                total[key] += getattr(report, key)
            total["skipped"] = report.skipped_searches
        if total["messages"]:
            deliver.apply_async()
        return total

    return run_locked("alerts-match", 120.0, body)


@app.task(name="workers.alerts.deliver")
def deliver() -> dict[str, Any]:
    from tools.alerts.delivery import deliver_due

    s = get_settings()

    def body(_: TaskLock) -> dict[str, Any]:
        with session_scope(s) as session:
            return deliver_due(session, s, utcnow()).as_dict()

    return run_locked("alerts-deliver", 300.0, body)


@app.task(name="workers.alerts.daily_picks")
def daily_picks() -> dict[str, Any]:
    from tools.alerts.picks import make_due_picks

    s = get_settings()

    def body(_: TaskLock) -> dict[str, Any]:
        with session_scope(s) as session:
            info = make_due_picks(session, utcnow())
        if info.get("messages"):
            deliver.apply_async()
        return info

    return run_locked("alerts-picks", 600.0, body)
