"""Scout: cheap discovery through `/deal/` (5 tokens per page of up to 150 deals).

New ASINs go in as pending with top priority; known ASINs whose price Keepa saw change since
we last fetched them are bumped (due now, or earlier if they were overdue already: the
refresher's age boost counts from the due time, so a bump must never reset it). A watermark (Keepa
minutes of the newest deal taken in, by creationDate, the sortType 1 order) never moves
backward, and paging stops once rows are older than it. Load shedding: at most `max_new`
inserts per run, the deepest price drops first (an hour of waiting counts like 10 points of
drop, so nothing waits for ever); the rest wait in a durable backlog (system_state) for the
next runs: nothing is dropped silently. A run that hits `max_pages` before reaching the
watermark leaves a cursor so the next run continues deeper instead of skipping.
"""

from __future__ import annotations

import logging
from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Any, Protocol

from sqlalchemy import bindparam, select, update
from sqlmodel import Session

from tools.clock import Clock
from tools.db import table_of
from tools.deal_selection import get_deal_selection, selection_page
from tools.keepa.budget import KeepaPurpose
from tools.keepa.conventions import to_keepa_minutes
from tools.models import Deal
from workers import checkpoints
from workers.pipeline.common import (
    BUMP_PRIORITY,
    DEALS_PER_PAGE,
    PENDING_PRIORITY,
    deal_rows,
    insert_pending,
    minutes_to_dt,
    now_dt,
    row_stamp,
    row_update_minutes,
)

log = logging.getLogger(__name__)
CURSOR_KEY = "scout_cursor"
MAX_BACKLOG = 50_000
# intake order: the deepest price drops first (they hold the profitable deals), but each hour
# in the backlog counts like 10 points of drop, so a shallow deal waits at most ~10 h more
AGE_POINTS_PER_H = 10.0


class DealsClient(Protocol):
    def deals(
        self,
        selection: dict[str, Any],
        *,
        purpose: KeepaPurpose | None = None,
    ) -> Any: ...


@dataclass
class ScoutResult:
    pages: int = 0
    seen: int = 0
    inserted: int = 0
    bumped: int = 0
    backlog: int = 0
    watermark: int = 0
    reached_watermark: bool = False

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def row_price_since(row: dict[str, Any], price_type: int) -> int:
    """Keepa minutes since which the row's price of `price_type` has held (0 when unknown)."""
    since = row.get("currentSince")
    if isinstance(since, list) and 0 <= price_type < len(since):
        v = since[price_type]
        if isinstance(v, int | float) and v > 0:
            return int(v)
    return 0


def drop_percent(row: dict[str, Any], selection: dict[str, Any]) -> int:
    """How far the deal's price is below its average, in %, for the selection's price type and
    date range (Keepa's deltaPercent); 0 when unknown or a rise."""
    try:
        v = row["deltaPercent"][int(selection.get("dateRange", 1))][selection_price_type(selection)]
    except (KeyError, IndexError, TypeError, ValueError):
        return 0
    return max(0, min(100, int(v))) if isinstance(v, int | float) else 0


def intake_order(backlog: list[dict[str, Any]], now_min: int) -> list[dict[str, Any]]:
    """The backlog, most promising first: drop % plus AGE_POINTS_PER_H per hour waited."""

    def score(b: dict[str, Any]) -> float:
        # an entry queued before entries carried "since" has waited longest: it goes first
        waited_h = max(0, now_min - int(b.get("since") or 0)) / 60
        return int(b.get("drop") or 0) + AGE_POINTS_PER_H * waited_h

    return sorted(backlog, key=score, reverse=True)  # stable: ties stay oldest first


def selection_price_type(selection: dict[str, Any]) -> int:
    """The selection's price type (csv index; Keepa takes exactly one): used (2) by default."""
    types = selection.get("priceTypes") or [2]
    return int(types[0] if isinstance(types, list) else types)


def _bump_known(
    session: Session, rows: dict[str, dict[str, Any]], now: datetime, price_type: int
) -> tuple[int, set[str]]:
    """Refresh last_seen of known ASINs; make changed ones due now. Returns (bumped, known).

    "Changed" means the query's price (currentSince of its price type) moved after our last
    fetch; without currentSince, any Keepa update after it (lastUpdate). Keepa re-crawls a
    product every hour or two and every crawl advances lastUpdate: bumping on those alone asked
    for more refreshes a day than 20 tokens/min pays for, and the deals no crawl touched aged
    past a day behind them. Reads five columns and writes one executemany per chunk (loading
    and flushing whole Deal objects cost about a third of a scout run in the bench).
    """
    deal = table_of(Deal)
    known: set[str] = set()
    bumped = 0
    asins = list(rows)
    write = (
        update(deal)
        .where(deal.c.asin == bindparam("k"))
        .values(
            last_seen_utc=bindparam("seen"),
            keepa_last_update=bindparam("klu"),
            next_refresh_at=bindparam("due"),
            priority=bindparam("prio"),
        )
    )
    for i in range(0, len(asins), 500):
        chunk = asins[i : i + 500]
        found = session.execute(
            select(
                deal.c.asin,
                deal.c.keepa_last_update,
                deal.c.fetched_at,
                deal.c.next_refresh_at,
                deal.c.priority,
            ).where(deal.c.asin.in_(chunk))
        ).all()
        changes = []
        for asin, last_update, fetched, due, prio in found:
            known.add(asin)
            row = rows[asin]
            change = {"k": asin, "seen": now, "klu": last_update, "due": due, "prio": prio}
            updated_at = minutes_to_dt(row_update_minutes(row))
            if updated_at and (last_update is None or updated_at > last_update):
                change["klu"] = updated_at
            changed_at = minutes_to_dt(row_price_since(row, price_type)) or updated_at
            if changed_at and (fetched is None or fetched < changed_at):
                # due now, but never later than it already was: resetting an overdue
                # deal's due time to now zeroed its age boost on every scout run, so the
                # deals Keepa changes most starved behind everything else (bench week at
                # 1 token/min: fetched once, never again)
                change["due"] = now if due is None else min(due, now)
                change["prio"] = max(prio, BUMP_PRIORITY)
                bumped += (change["due"], change["prio"]) != (due, prio)
            changes.append(change)
        if changes:
            session.execute(write, changes)
    return bumped, known


def run_scout(
    client: DealsClient,
    session: Session,
    clock: Clock,
    *,
    selection: dict[str, Any] | None = None,
    max_new: int = 200,
    max_pages: int = 10,
) -> ScoutResult:
    """One scout run; commits its writes (new rows, bumps, backlog, watermark) at the end."""
    now = now_dt(clock)
    sel = selection or get_deal_selection(session)
    newest_first = sel.get("sortType", 1) == 1
    watermark = checkpoints.get_watermark(session)
    cursor = checkpoints.get_state(session, CURSOR_KEY, None)
    if cursor and newest_first:
        page, floor, high = int(cursor["page"]), int(cursor["floor"]), int(cursor["high"])
    else:
        page, floor, high = 0, watermark, watermark
    result = ScoutResult()
    fresh: dict[str, dict[str, Any]] = {}
    finished = False
    while result.pages < max_pages:
        body = client.deals(selection_page(sel, page), purpose="scout").body
        rows = deal_rows(body)
        result.pages += 1
        for r in rows:
            stamp = row_stamp(r)
            high = max(high, stamp)
            if newest_first and floor and stamp and stamp < floor:
                finished = True  # older than anything new: the rest was taken in before
                continue
            fresh.setdefault(str(r["asin"]).upper(), r)
        page += 1
        if finished or len(rows) < DEALS_PER_PAGE:
            finished = True
            break
    result.seen = len(fresh)
    bumped, known = _bump_known(session, fresh, now, selection_price_type(sel))
    result.bumped = bumped

    # load shedding: backlog (oldest first) then this run's new ASINs, at most max_new
    backlog: list[dict[str, Any]] = list(
        checkpoints.get_state(session, checkpoints.SCOUT_BACKLOG_KEY, []) or []
    )
    queued = {b["asin"] for b in backlog}
    now_min = to_keepa_minutes(clock.now())
    for asin, r in fresh.items():
        if asin not in known and asin not in queued:
            backlog.append(
                {
                    "asin": asin,
                    "title": r.get("title"),
                    "lastUpdate": row_update_minutes(r),
                    "rootCat": r.get("rootCat"),
                    "drop": drop_percent(r, sel),
                    "since": now_min,
                }
            )
            queued.add(asin)
    backlog = intake_order(backlog, now_min)
    take, rest = backlog[:max_new], backlog[max_new:]
    for b in take:  # the processor, too, takes the deepest drops first among new deals
        b["priority"] = PENDING_PRIORITY + min(9, int(b.get("drop") or 0) // 10)
    result.inserted = insert_pending(session, take, now=now, priority=PENDING_PRIORITY)
    if len(rest) > MAX_BACKLOG:  # never silent: say what was dropped
        log.error(
            "scout backlog over %d; dropping the %d least promising entries",
            MAX_BACKLOG,
            len(rest) - MAX_BACKLOG,
        )
        rest = rest[:MAX_BACKLOG]
    if rest:
        log.info(
            "scout load shedding: inserted %d, %d wait for the next runs", len(take), len(rest)
        )
    checkpoints.set_state(session, checkpoints.SCOUT_BACKLOG_KEY, rest, now)
    result.backlog = len(rest)

    if finished or not newest_first:
        result.watermark = checkpoints.advance_watermark(session, high, now)
        checkpoints.set_state(session, CURSOR_KEY, None, now)
        result.reached_watermark = finished
    else:  # out of pages before reaching the old watermark: continue deeper next run
        checkpoints.set_state(
            session, CURSOR_KEY, {"page": page, "floor": floor, "high": high}, now
        )
        result.watermark = watermark
    session.commit()
    return result
