"""Progress of bulk restriction checks, kept in system_state for the status screen and chat.

Light on imports on purpose: `arbitrage status` reads it without loading the HTTP stack.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlmodel import Session, col, select

from tools.models import SystemState, User, utcnow

PREFIX = "restrictions_progress:"
STALE_AFTER = timedelta(minutes=10)


def progress_key(user_id: int) -> str:
    return f"{PREFIX}{user_id}"


def _with_liveness(value: dict[str, Any]) -> dict[str, Any]:
    value = dict(value)
    if value.get("state") == "running":
        try:
            updated = datetime.fromisoformat(str(value.get("updated_at")))
        except ValueError:
            updated = None
        if updated is None or utcnow() - updated > STALE_AFTER:
            value["state"] = "interrupted"  # its worker died; do not wait for it
    return value


def restrictions_progress(session: Session, user_id: int) -> dict[str, Any] | None:
    """The last run's progress: {state, done, total, allowed, restricted, errors, started_at,
    updated_at, finished_at, message}; state is running, done, reconnect_required,
    not_connected, failed, or interrupted (a run marked running that has not moved for 10
    minutes)."""
    row = session.get(SystemState, progress_key(user_id))
    if row is None or not isinstance(row.value, dict):
        return None
    return _with_liveness(row.value)


def all_progress(session: Session) -> dict[str, dict[str, Any]]:
    """Every user's last run by user name (for `arbitrage status`)."""
    rows = session.exec(select(SystemState).where(col(SystemState.key).startswith(PREFIX)))
    names = {u.id: u.name for u in session.exec(select(User))}
    out: dict[str, dict[str, Any]] = {}
    for row in rows:
        if isinstance(row.value, dict):
            uid = int(row.key[len(PREFIX) :])
            out[names.get(uid, f"user {uid}")] = _with_liveness(row.value)
    return out


def summary_line(progress: dict[str, dict[str, Any]]) -> str:
    """`seller1 running 40/120, bob reconnect_required` style text."""
    parts = []
    for name, p in sorted(progress.items()):
        counts = f" {p.get('done', 0)}/{p.get('total', 0)}" if p.get("total") else ""
        parts.append(f"{name} {p.get('state')}{counts}")
    return ", ".join(parts)
