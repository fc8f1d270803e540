"""Celery tasks. Each task is a thin shell over plain functions in workers/ and tools/."""

from __future__ import annotations

from celery.signals import worker_ready

from tools.db import session_scope
from tools.models import SystemState, utcnow
from workers.celery_app import app


@app.task(name="workers.tasks.heartbeat")
def heartbeat() -> str:
    """Proves the worker can reach the database; `arbitrage status` reads the timestamp."""
    now = utcnow()
    with session_scope() as session:
        row = session.get(SystemState, "worker_heartbeat") or SystemState(key="worker_heartbeat")
        row.value = now.isoformat()
        row.updated_at = now
        session.add(row)
    return now.isoformat()


@worker_ready.connect
def _first_heartbeat(**_: object) -> None:
    # Without this, `arbitrage status` would call a fresh worker "down" until beat's first tick.
    heartbeat.delay()
