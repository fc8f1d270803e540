"""Janitor: delete deals unseen for 72 h, but never while ingestion is stalled.

"Seen" means Keepa still lists the deal: the scout or backfill got it from /deal/, or the
processor fetched it with a live used offer (Deal.last_seen_utc). If the scout or the processor
has not completed a run successfully within `ingestion_window_h`, nothing can have been seen,
so deleting would drain the database: the janitor skips and says why instead.
"""

from __future__ import annotations

import logging
from dataclasses import asdict, dataclass
from datetime import timedelta
from typing import Any

from sqlalchemy import delete
from sqlmodel import Session, col

from tools.clock import Clock
from tools.ingestion import INGESTION_TASKS
from tools.models import Deal
from workers import checkpoints
from workers.pipeline.common import now_dt

log = logging.getLogger(__name__)


@dataclass
class JanitorResult:
    deleted: int = 0
    skipped: bool = False
    reason: str | None = None

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def ingestion_stall_reason(session: Session, now: Any, window_h: float) -> str | None:
    """Why ingestion counts as stalled, or None when scout and processor both ran recently."""
    for task in INGESTION_TASKS:
        last = checkpoints.last_success(session, task)
        if last is None:
            return f"{task} has never completed successfully"
        age_h = (now - last).total_seconds() / 3600
        if age_h > window_h:
            return (
                f"{task} last succeeded {age_h:.1f} h ago (window {window_h:g} h): "
                "ingestion looks stalled"
            )
    return None


def run_janitor(
    session: Session, clock: Clock, *, unseen_h: float = 72.0, ingestion_window_h: float = 6.0
) -> JanitorResult:
    now = now_dt(clock)
    reason = ingestion_stall_reason(session, now, ingestion_window_h)
    if reason:
        log.warning("janitor skipped: %s; no deals deleted", reason)
        return JanitorResult(skipped=True, reason=reason)
    cutoff = now - timedelta(hours=unseen_h)
    res = session.execute(
        delete(Deal)
        .where(col(Deal.last_seen_utc) < cutoff)
        .execution_options(synchronize_session=False)
    )
    session.commit()
    deleted = max(0, res.rowcount or 0)  # type: ignore[attr-defined]
    if deleted:
        log.info("janitor deleted %d deals unseen since %s", deleted, cutoff.isoformat())
    return JanitorResult(deleted=deleted)
