"""A seller's saved searches and alert settings: every read and write is scoped to the owner.

Another seller's search is reported as not found (not "forbidden"), so ids cannot be probed.
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy import func
from sqlmodel import Session, col, select

from tools.alerts.errors import AlertError as AlertError  # re-exported for callers
from tools.deals.search import DealSearch, DealSearchError, validate_search
from tools.models import AlertOutbox, AlertSettings, SavedSearch, utcnow

MAX_SEARCHES_PER_SELLER = 50
MAX_NAME = 80
DIGEST_MODES = ("off", "hourly", "daily")
# A plain address: one @, no spaces or angle brackets (bounded, no backtracking).
_EMAIL = re.compile(r"[^@\s<>]{1,64}@[^@\s<>]{1,190}\.[A-Za-z]{2,24}")


def alert_query(query: DealSearch | dict[str, Any]) -> dict[str, Any]:
    """The filters an alert keeps: sorting and paging do not apply to "tell me when"."""
    try:
        search = validate_search(query)
    except DealSearchError as err:
        raise AlertError(str(err)) from None
    return search.model_dump(exclude_defaults=True, exclude={"sort", "limit", "offset"})


def _clean_name(name: str) -> str:
    name = " ".join((name or "").split())[:MAX_NAME]
    if not name:
        raise AlertError("an alert needs a name")
    return name


def describe(query: dict[str, Any]) -> str:
    """A short human name for a search, e.g. "nursing, ≤ $30, ROI ≥ 50%"."""
    parts: list[str] = []
    for key in ("text", "category"):
        if query.get(key):
            parts.append(str(query[key]))
    if "max_price" in query:
        parts.append(f"≤ ${query['max_price']:g}")
    if "min_price" in query:
        parts.append(f"≥ ${query['min_price']:g}")
    if "min_roi" in query:
        parts.append(f"ROI ≥ {query['min_roi']:g}%")
    if "min_profit" in query:
        parts.append(f"profit ≥ ${query['min_profit']:g}")
    if "max_rank" in query:
        parts.append(f"rank ≤ {query['max_rank']:,}")
    rest = len(query) - len(parts)
    if rest > 0:
        parts.append(f"+{rest} more")
    return ", ".join(parts) or "all deals"


def create_search(
    session: Session,
    owner_id: int,
    query: DealSearch | dict[str, Any],
    *,
    name: str | None = None,
    text: str | None = None,
) -> SavedSearch:
    filters = alert_query(query)
    count = session.exec(
        select(func.count()).select_from(SavedSearch).where(SavedSearch.owner_id == owner_id)
    ).one()
    if count >= MAX_SEARCHES_PER_SELLER:
        raise AlertError(
            f"you already have {count} alerts (the most a seller can keep); delete one first"
        )
    base = _clean_name(name or describe(filters))
    final, n = base, 2
    while find_search(session, owner_id, final) is not None:
        final = f"{base[: MAX_NAME - 4]} ({n})"
        n += 1
    row = SavedSearch(owner_id=owner_id, name=final, query=filters, text=(text or "")[:500] or None)
    session.add(row)
    session.flush()
    return row


def list_searches(session: Session, owner_id: int) -> list[SavedSearch]:
    return list(
        session.exec(
            select(SavedSearch)
            .where(SavedSearch.owner_id == owner_id)
            .order_by(col(SavedSearch.created_at), col(SavedSearch.id))
        )
    )


def find_search(session: Session, owner_id: int, ref: str | int) -> SavedSearch | None:
    """By id ("3", 3, "#3") or by name (case-insensitive), only among the owner's searches."""
    text = str(ref).strip()
    stmt = select(SavedSearch).where(SavedSearch.owner_id == owner_id)
    if text.lstrip("#").isdigit():
        return session.exec(stmt.where(SavedSearch.id == int(text.lstrip("#")))).first()
    return session.exec(stmt.where(func.lower(SavedSearch.name) == text.lower())).first()


def _get(session: Session, owner_id: int, ref: str | int) -> SavedSearch:
    row = find_search(session, owner_id, ref)
    if row is None:
        raise AlertError(f"no alert named or numbered {str(ref)[:80]!r}")
    return row


def set_active(session: Session, owner_id: int, ref: str | int, active: bool) -> SavedSearch:
    row = _get(session, owner_id, ref)
    row.active = active
    row.updated_at = utcnow()
    session.add(row)
    return row


def update_search(
    session: Session, owner_id: int, ref: str | int, changes: dict[str, Any]
) -> SavedSearch:
    """Merge filter changes into a search ("change it to under $25"); None removes a filter."""
    row = _get(session, owner_id, ref)
    merged = {**row.query, **changes}
    merged = {k: v for k, v in merged.items() if v is not None}
    row.query = alert_query(merged)
    row.updated_at = utcnow()
    session.add(row)
    return row


def delete_search(session: Session, owner_id: int, ref: str | int) -> str:
    row = _get(session, owner_id, ref)
    name = row.name
    session.delete(row)
    return name


def get_alert_settings(session: Session, user_id: int) -> AlertSettings:
    return session.get(AlertSettings, user_id) or AlertSettings(user_id=user_id)


def check_timezone(name: str) -> str:
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise AlertError(f"unknown time zone {name[:64]!r} (e.g. America/New_York)") from None
    return name


def check_email(address: str) -> str:
    address = address.strip()
    if len(address) > 254 or not _EMAIL.fullmatch(address):
        raise AlertError(f"{address[:80]!r} is not an email address")
    return address


def update_alert_settings(session: Session, user_id: int, **changes: Any) -> AlertSettings:
    """Validated changes to where and when alerts go (the caller checks webhook URLs)."""
    row = get_alert_settings(session, user_id)
    for key, value in changes.items():
        if key == "timezone":
            value = check_timezone(str(value))
        elif key == "email" and value is not None:
            value = check_email(str(value))
            row.email_failures, row.email_disabled_at = 0, None
        elif key == "webhook_url":
            row.webhook_failures, row.webhook_disabled_at = 0, None
        elif key == "digest" and value not in DIGEST_MODES:
            raise AlertError(f"digest must be one of {', '.join(DIGEST_MODES)}")
        elif key in ("quiet_start", "quiet_end", "picks_hour") and value is not None:
            if not 0 <= int(value) <= 23:
                raise AlertError(f"{key} is an hour of the day, 0-23")
        elif key == "picks_count" and not 0 <= int(value) <= 20:
            raise AlertError("picks_count is 0 (off) to 20")
        elif key not in AlertSettings.model_fields or key in ("user_id", "updated_at"):
            raise AlertError(f"unknown alert setting {key!r}")
        setattr(row, key, value)
    row.updated_at = utcnow()
    session.add(row)
    return row


def inbox(
    session: Session, owner_id: int, *, unread_only: bool = False, limit: int = 20
) -> list[AlertOutbox]:
    """The seller's in-app alerts, newest first."""
    stmt = select(AlertOutbox).where(AlertOutbox.owner_id == owner_id, AlertOutbox.channel == "app")
    if unread_only:
        stmt = stmt.where(col(AlertOutbox.read_at).is_(None))
    return list(session.exec(stmt.order_by(col(AlertOutbox.id).desc()).limit(limit)))


def unread_since(session: Session, owner_id: int) -> tuple[int, datetime | None]:
    """How many in-app alerts the seller has not seen, and since when."""
    count, first = session.exec(
        select(func.count(), func.min(AlertOutbox.created_at)).where(
            AlertOutbox.owner_id == owner_id,
            AlertOutbox.channel == "app",
            col(AlertOutbox.read_at).is_(None),
        )
    ).one()
    return int(count), first


def mark_read(session: Session, owner_id: int, ids: list[int], now: datetime) -> None:
    for row in session.exec(
        select(AlertOutbox).where(
            AlertOutbox.owner_id == owner_id, col(AlertOutbox.id).in_(ids[:500])
        )
    ):
        row.read_at = row.read_at or now
        session.add(row)
