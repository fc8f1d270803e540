"""Backfill: walk every page of the deal selection once, inserting what the scout never saw.

The page checkpoint lives in system_state and is written in the same transaction as that
page's rows, so after a crash or kill -9 the walk resumes exactly where it stopped: a page is
either fully recorded (and skipped next time) or not at all (and redone; inserts are
idempotent). One backfill at a time is the caller's job (workers.locks.TaskLock); `should_stop`
lets the caller end the walk when its lock is lost.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import asdict, dataclass
from typing import Any

from sqlmodel import Session

from tools.clock import Clock
from tools.deal_selection import get_deal_selection, selection_page
from workers import checkpoints
from workers.pipeline.common import (
    BACKFILL_PRIORITY,
    DEALS_PER_PAGE,
    deal_rows,
    insert_pending,
    now_dt,
)
from workers.pipeline.scout import DealsClient, _bump_known, selection_price_type

log = logging.getLogger(__name__)
Progress = Callable[[dict[str, Any]], None]


@dataclass
class BackfillResult:
    start_page: int = 0
    next_page: int = 0
    pages: int = 0
    rows: int = 0
    inserted: int = 0
    done: bool = False
    stopped: str | None = None

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def reset_backfill(session: Session, clock: Clock) -> None:
    """Start over from page 0 (`arbitrage backfill --restart`)."""
    checkpoints.set_backfill(
        session, {"next_page": 0, "done": False, "pages_done": 0, "rows": 0}, now_dt(clock)
    )
    session.commit()


def run_backfill(
    client: DealsClient,
    session: Session,
    clock: Clock,
    *,
    max_pages: int | None = None,
    on_page: Progress | None = None,
    should_stop: Callable[[], bool] | None = None,
    pause: Callable[[], None] | None = None,
) -> BackfillResult:
    """Walk pages from the checkpoint until a short page (the end) or `max_pages` this run."""
    state = checkpoints.get_backfill(session)
    sel = get_deal_selection(session)
    if state.get("selection") not in (None, sel):
        log.info("deal selection changed since the last backfill; starting from page 0")
        state = {"next_page": 0, "done": False, "pages_done": 0, "rows": 0}
    page = int(state["next_page"])
    result = BackfillResult(start_page=page, next_page=page, done=bool(state.get("done")))
    if result.done:
        result.stopped = "already complete (use --restart to walk again)"
        return result
    while max_pages is None or result.pages < max_pages:
        if should_stop and should_stop():
            result.stopped = "lock lost or stop requested"
            break
        rows = deal_rows(client.deals(selection_page(sel, page), purpose="backfill").body)
        now = now_dt(clock)
        fresh = {str(r["asin"]).upper(): r for r in rows}
        _, known = _bump_known(session, fresh, now, selection_price_type(sel))
        result.inserted += insert_pending(
            session,
            [r for a, r in fresh.items() if a not in known],
            now=now,
            priority=BACKFILL_PRIORITY,
        )
        done = len(rows) < DEALS_PER_PAGE
        page += 1
        state = {
            "next_page": page,
            "done": done,
            "pages_done": int(state["pages_done"]) + 1,
            "rows": int(state["rows"]) + len(rows),
            "selection": sel,
        }
        checkpoints.set_backfill(session, state, now)
        session.commit()  # rows and checkpoint together: resumable, no skipped page
        result.pages += 1
        result.rows += len(rows)
        result.next_page = page
        result.done = done
        if on_page:
            on_page({**state, "page_rows": len(rows), "inserted": result.inserted})
        if done:
            break
        if pause:
            pause()
    return result
