"""Each seller's sync streams' checkpoints (spapi_sync): where a walk stands, what is known.

A stream walks a window of time page by page. The checkpoint holds the window, the nextToken
of the page to fetch next (None: the window's first page) and the watermark, below which every
record is stored. A page's rows and the checkpoint that moves past it are written in one
transaction, so a crash (even kill -9) either keeps both or neither: the next run asks for the
same page again, and the natural-key upserts make that harmless.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlmodel import Session, col, select

from tools.models import SpapiSync, User, utcnow

FULL, INCREMENTAL = "full", "incremental"


def load(session: Session, user_id: int, stream: str) -> SpapiSync:
    """The stream's checkpoint (a fresh one, not yet stored, when it never ran)."""
    row = session.get(SpapiSync, (user_id, stream))
    return row if row is not None else SpapiSync(user_id=user_id, stream=stream)


def store(session: Session, row: SpapiSync, now: datetime | None = None) -> None:
    row.updated_at = now or utcnow()
    session.add(row)
    session.flush()


def start_window(row: SpapiSync, start: datetime, end: datetime | None, phase: str) -> None:
    row.phase = phase
    row.window_start = start
    row.window_end = end
    row.next_token = None
    row.pages = 0
    row.rows = 0


def finish_window(row: SpapiSync, watermark: datetime | None) -> None:
    """The window is stored in full: the watermark moves to its end (never backwards)."""
    if watermark is not None and (row.watermark is None or watermark > row.watermark):
        row.watermark = watermark
    row.window_start = None
    row.window_end = None
    row.next_token = None


def record_run(
    session: Session,
    user_id: int,
    stream: str,
    *,
    now: datetime,
    ok: bool,
    info: dict[str, Any],
    error: str | None = None,
) -> None:
    row = load(session, user_id, stream)
    row.runs += 1
    row.last_run_at = now
    row.info = info
    if ok:
        row.last_success_at = now
    else:
        row.last_error = (error or "unknown error")[:1000]
        row.last_error_at = now
    store(session, row, now)


@dataclass(frozen=True)
class StreamStatus:
    """What `arbitrage status` shows of one seller's stream."""

    user: str
    stream: str
    phase: str
    watermark: datetime | None
    in_window: bool  # a walk is under way (resumes from its checkpoint)
    pages: int
    last_success_at: datetime | None
    last_error: str | None
    last_error_at: datetime | None
    info: dict[str, Any]


def statuses(session: Session) -> list[StreamStatus]:
    """Every seller's streams, for the status screen (admins see every seller's health)."""
    rows = session.exec(
        select(SpapiSync, User.name)
        .join(User, col(User.id) == col(SpapiSync.user_id))
        .order_by(col(User.name), col(SpapiSync.stream))
    ).all()
    return [
        StreamStatus(
            user=name,
            stream=r.stream,
            phase=r.phase,
            watermark=r.watermark,
            in_window=r.window_start is not None,
            pages=r.pages,
            last_success_at=r.last_success_at,
            last_error=r.last_error
            if r.last_error_at and (not r.last_success_at or r.last_error_at > r.last_success_at)
            else None,
            last_error_at=r.last_error_at,
            info=dict(r.info or {}),
        )
        for r, name in rows
    ]
