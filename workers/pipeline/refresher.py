"""Refresher: re-queue active deals by age and value so the whole catalogue stays fresh.

Two passes: (1) any deal older than its tier's maximum age (hot 4 h ... unprofitable 24 h)
becomes due now, whatever its schedule said (a long failure backoff, an old policy); (2) every
due deal gets priority = value tier + an age boost, so under a tight budget the processor
serves hot deals first but long-waiting cheap ones still climb and never starve. Stale status
marks active deals whose data is older than `stale_after_h`, so users can tell.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import timedelta
from typing import Any

from sqlalchemy import bindparam, or_, select, update
from sqlmodel import Session, col

from tools.clock import Clock
from tools.models import Deal, DealStatus
from workers.pipeline import policy
from workers.pipeline.common import PENDING_PRIORITY, now_dt


@dataclass
class RefresherResult:
    requeued: int = 0
    reprioritised: int = 0
    marked_stale: int = 0

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def run_refresher(
    session: Session,
    clock: Clock,
    *,
    stale_after_h: float = 48.0,
) -> RefresherResult:
    now = now_dt(clock)
    result = RefresherResult()
    # seven columns: past sqlmodel's typed select() (four), so SQLAlchemy's select on the
    # session's connection, after the flush session.exec would have done (autoflush)
    session.flush()
    rows = (
        session.connection()
        .execute(
            select(
                col(Deal.asin),
                col(Deal.profit_default),
                col(Deal.roi_default),
                col(Deal.price_now),
                col(Deal.fetched_at),
                col(Deal.next_refresh_at),
                col(Deal.priority),
            )
            .where(col(Deal.status) != DealStatus.pending)
            .where(col(Deal.priority) < PENDING_PRIORITY)
            .where(
                or_(
                    col(Deal.next_refresh_at).is_(None),
                    col(Deal.next_refresh_at) <= now,
                    col(Deal.fetched_at).is_(None),
                    col(Deal.fetched_at) < now - timedelta(hours=min(policy.MAX_AGE_H.values())),
                )
            )
        )
        .all()
    )
    changes: list[dict[str, Any]] = []
    for asin, profit, roi, price, fetched, due, prio in rows:
        t = policy.tier(profit, roi, price)
        new_due = due
        too_old = fetched is None or now - fetched > timedelta(hours=policy.MAX_AGE_H[t])
        if too_old and (due is None or due > now):
            new_due = now
            result.requeued += 1
        if new_due is not None and new_due <= now:
            overdue_h = (now - new_due).total_seconds() / 3600
            new_prio = max(
                policy.aged_priority(t, overdue_h), prio if prio < PENDING_PRIORITY else 0
            )
        else:
            new_prio = prio
        if new_due != due or new_prio != prio:
            changes.append({"k": asin, "due": new_due, "prio": new_prio})
    if changes:
        stmt = (
            update(Deal)
            .where(col(Deal.asin) == bindparam("k"))
            .values(next_refresh_at=bindparam("due"), priority=bindparam("prio"))
            .execution_options(synchronize_session=False)
        )
        session.connection().execute(stmt, changes)
        result.reprioritised = len(changes)
    stale_before = now - timedelta(hours=stale_after_h)
    res = session.execute(
        update(Deal)
        .where(col(Deal.status) == DealStatus.active)
        .where(or_(col(Deal.fetched_at).is_(None), col(Deal.fetched_at) < stale_before))
        .values(status=DealStatus.stale)
        .execution_options(synchronize_session=False)
    )
    result.marked_stale = max(0, res.rowcount or 0)  # type: ignore[attr-defined]
    session.commit()
    return result
