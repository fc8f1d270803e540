"""Small pieces shared by the pipeline stages: deal rows, times, idempotent inserts."""

from __future__ import annotations

import logging
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any

from sqlmodel import Session

from tools.clock import Clock
from tools.db import upsert
from tools.keepa.conventions import keepa_minutes_to_unix
from tools.keepa.errors import MalformedProduct
from tools.keepa.parsing import validate_deal_row
from tools.models import Deal, DealStatus

PENDING_PRIORITY = 100  # never fetched: discovery first (coverage)
BACKFILL_PRIORITY = 90  # history found by backfill: right after the scout's fresh finds
BUMP_PRIORITY = 8  # scout saw a change on a known deal: ahead of routine refreshes
DEALS_PER_PAGE = 150
log = logging.getLogger(__name__)


def now_dt(clock: Clock) -> datetime:
    return datetime.fromtimestamp(clock.now(), UTC)


def deal_rows(body: dict[str, Any]) -> list[dict[str, Any]]:
    """The `deals.dr` list of a /deal/ answer. A row without a valid ASIN, or with numbers no
    Keepa answer holds, is left out and logged by field; the page's other rows are kept."""
    deals = body.get("deals") or {}
    rows = deals.get("dr") if isinstance(deals, dict) else None
    good: list[dict[str, Any]] = []
    for row in rows or []:
        try:
            good.append(validate_deal_row(row))
        except MalformedProduct as err:
            log.warning("skipped a /deal/ row: %s", err)
    return good


def row_update_minutes(row: dict[str, Any]) -> int:
    """Keepa minutes of the deal's lastUpdate (0 when absent)."""
    v = row.get("lastUpdate")
    return int(v) if isinstance(v, int | float) and v > 0 else 0


def row_stamp(row: dict[str, Any]) -> int:
    """The row's place in sortType 1 order (deal age): creationDate, else lastUpdate."""
    v = row.get("creationDate")
    return int(v) if isinstance(v, int | float) and v > 0 else row_update_minutes(row)


def minutes_to_dt(minutes: int) -> datetime | None:
    return datetime.fromtimestamp(keepa_minutes_to_unix(minutes), UTC) if minutes > 0 else None


def insert_pending(
    session: Session, rows: Iterable[dict[str, Any]], *, now: datetime, priority: int
) -> int:
    """Insert new ASINs as pending, due now; an ASIN that exists already is left untouched.
    A row's own "priority" overrides `priority`.

    ON CONFLICT DO NOTHING makes this safe with several scouts/backfills at once: the primary
    key decides, so no duplicate row can ever appear. Returns how many rows were new.
    """
    values = []
    seen: set[str] = set()
    for r in rows:
        asin = str(r["asin"]).strip().upper()
        if asin in seen or len(asin) != 10:
            continue
        seen.add(asin)
        title = r.get("title")
        values.append(
            {
                "asin": asin,
                "title": title if isinstance(title, str) else None,
                "status": DealStatus.pending.value,
                "priority": int(r.get("priority") or priority),
                "next_refresh_at": now,
                "last_seen_utc": now,
                "keepa_last_update": minutes_to_dt(row_update_minutes(r)),
                "created_at": now,
                "updated_at": now,
                "root_category_id": r.get("rootCat") if isinstance(r.get("rootCat"), int) else None,
            }
        )
    return upsert(session, Deal, values, on_conflict="nothing")
