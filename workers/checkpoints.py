"""Durable progress in `system_state`: the scout watermark, the backfill page, task runs.

Everything a restarted worker needs to continue lives in the database, not in Redis, so a
crash, a kill -9 or a Redis restart never loses it (and nobody ever needs FLUSHALL).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlmodel import Session, col, select

from tools.ingestion import TASK_PREFIX
from tools.models import SystemState, utcnow

WATERMARK_KEY = "scout_watermark"
BACKFILL_KEY = "backfill"
SCOUT_BACKLOG_KEY = "scout_backlog"
TASKS = ("scout", "processor", "refresher", "janitor", "backfill")


def get_state(session: Session, key: str, default: Any = None) -> Any:
    row = session.get(SystemState, key)
    return default if row is None or row.value is None else row.value


def set_state(session: Session, key: str, value: Any, now: datetime | None = None) -> None:
    row = session.get(SystemState, key) or SystemState(key=key)
    row.value = value
    row.updated_at = now or utcnow()
    session.add(row)
    session.flush()


# ---- watermark -------------------------------------------------------------------------------


def get_watermark(session: Session) -> int:
    """Newest Keepa `lastUpdate` (Keepa minutes) the scout has fully taken in; 0 when none."""
    return int(get_state(session, WATERMARK_KEY, 0) or 0)


def advance_watermark(session: Session, candidate: int, now: datetime | None = None) -> int:
    """Move the watermark forward to `candidate`; an older value is ignored (never backward)."""
    current = get_watermark(session)
    if candidate > current:
        set_state(session, WATERMARK_KEY, int(candidate), now)
        return int(candidate)
    return current


# ---- backfill checkpoint ---------------------------------------------------------------------


def get_backfill(session: Session) -> dict[str, Any]:
    """{"next_page": int, "done": bool, "pages_done": int, "rows": int, "selection": {...}}."""
    value = get_state(session, BACKFILL_KEY, None)
    base: dict[str, Any] = {"next_page": 0, "done": False, "pages_done": 0, "rows": 0}
    if isinstance(value, dict):
        base.update(value)
    return base


def set_backfill(session: Session, state: dict[str, Any], now: datetime | None = None) -> None:
    set_state(session, BACKFILL_KEY, state, now)


# ---- task runs -------------------------------------------------------------------------------


def record_run(
    session: Session,
    task: str,
    *,
    now: datetime,
    ok: bool,
    error: str | None = None,
    info: dict[str, Any] | None = None,
) -> None:
    """Remember the last run (and the last success / last error) of one task."""
    key = TASK_PREFIX + task
    state = dict(get_state(session, key, {}) or {})
    stamp, wall = now.isoformat(), utcnow().isoformat()  # `now` may be market time
    state["last_run"] = stamp
    state["last_ok"] = ok
    if ok:
        state["last_success"] = stamp
        state["last_success_wall"] = wall  # tools/ingestion.py: ages people can read
        state["last_info"] = info or {}
        state.pop("failing_since_wall", None)
    else:
        state["last_error"] = (error or "unknown error")[:500]
        state["last_error_at"] = stamp
        state.setdefault("failing_since_wall", wall)
    set_state(session, key, state, now)


def task_runs(session: Session) -> dict[str, dict[str, Any]]:
    rows = session.exec(
        select(SystemState).where(col(SystemState.key).startswith(TASK_PREFIX))
    ).all()
    out: dict[str, dict[str, Any]] = {t: {} for t in TASKS}
    for row in rows:
        out[row.key[len(TASK_PREFIX) :]] = dict(row.value) if isinstance(row.value, dict) else {}
    return out


def last_success(session: Session, task: str) -> datetime | None:
    value = (get_state(session, TASK_PREFIX + task, {}) or {}).get("last_success")
    return datetime.fromisoformat(value) if value else None
