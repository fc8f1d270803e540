"""Stored restriction results, one row per user, ASIN and condition (idempotent upserts).

Status values (docs/domain.md "Gating"): no row = pending, 0 = may list, 1 = restricted, -1 = error.
- Restricted rows keep the reason code (APPROVAL_REQUIRED, NOT_ELIGIBLE, ...), Amazon's
  message and an approval URL (Amazon's link, else the default approval request page).
- ASIN_NOT_FOUND is stored as status 1 with that reason code and no approval URL: the seller
  cannot list it, and no approval request would help.
- Errors are -1 with the message; the reason code names the kind of error so the UI can
  say what to do: RECONNECT_REQUIRED, NOT_CONNECTED, SPAPI_ERROR, RATE_LIMITED.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlmodel import Session, col, select

from tools.db import upsert
from tools.models import RestrictionStatus, UserCredential, UserRestriction, utcnow
from tools.restrictions.client import RestrictionsAnswer

DEFAULT_APPROVAL_URL = "https://sellercentral.amazon.com/hz/approvalrequest?asin={asin}"
RECONNECT_REQUIRED = "RECONNECT_REQUIRED"
NOT_CONNECTED = "NOT_CONNECTED"
SPAPI_ERROR = "SPAPI_ERROR"
RATE_LIMITED = "RATE_LIMITED"
ASIN_NOT_FOUND = "ASIN_NOT_FOUND"
# The reason shown when Amazon gives several: the one that blocks the seller most.
_SEVERITY = {"ASIN_NOT_FOUND": 0, "NOT_ELIGIBLE": 1, "APPROVAL_REQUIRED": 2}


@dataclass(frozen=True)
class RestrictionResult:
    """Can this user list this ASIN in this condition? `status` None means not checked yet."""

    asin: str
    condition: str
    status: int | None
    reason_code: str | None = None
    message: str | None = None
    approval_url: str | None = None
    checked_at: datetime | None = None
    from_cache: bool = False

    @property
    def state(self) -> str:
        """One word for the UI: pending, allowed, restricted, asin_not_found, error,
        reconnect_required or not_connected."""
        if self.status is None:
            return "pending"
        if self.status == RestrictionStatus.not_restricted:
            return "allowed"
        if self.status == RestrictionStatus.restricted:
            return "asin_not_found" if self.reason_code == ASIN_NOT_FOUND else "restricted"
        if self.reason_code == RECONNECT_REQUIRED:
            return "reconnect_required"
        if self.reason_code == NOT_CONNECTED:
            return "not_connected"
        return "error"

    @property
    def can_list(self) -> bool | None:
        if self.status in (RestrictionStatus.not_restricted, RestrictionStatus.restricted):
            return self.status == RestrictionStatus.not_restricted
        return None

    def as_dict(self) -> dict[str, Any]:
        return {
            "asin": self.asin,
            "condition": self.condition,
            "status": self.status,
            "state": self.state,
            "can_list": self.can_list,
            "reason_code": self.reason_code,
            "message": self.message,
            "approval_url": self.approval_url,
            "checked_at": self.checked_at.isoformat() if self.checked_at else None,
        }


def result_from_answer(answer: RestrictionsAnswer) -> RestrictionResult:
    asin, cond = answer.asin, answer.condition_type
    if not answer.reasons:
        return RestrictionResult(
            asin, cond, int(RestrictionStatus.not_restricted), checked_at=utcnow()
        )
    primary = min(answer.reasons, key=lambda r: _SEVERITY.get(r.reason_code, 3))
    if primary.reason_code == ASIN_NOT_FOUND:
        url = None
    else:
        url = next((r.approval_url for r in answer.reasons if r.approval_url), None)
        url = url or DEFAULT_APPROVAL_URL.format(asin=asin)
    message = " | ".join(dict.fromkeys(r.message for r in answer.reasons if r.message)) or None
    return RestrictionResult(
        asin, cond, int(RestrictionStatus.restricted), primary.reason_code, message, url, utcnow()
    )


def error_result(asin: str, condition: str, reason_code: str, message: str) -> RestrictionResult:
    return RestrictionResult(
        asin, condition, int(RestrictionStatus.error), reason_code, message, None, utcnow()
    )


def _row_result(row: UserRestriction, from_cache: bool = True) -> RestrictionResult:
    return RestrictionResult(
        row.asin,
        row.condition,
        row.status,
        row.reason_code,
        row.message,
        row.approval_url,
        row.checked_at,
        from_cache,
    )


def upsert_result(session: Session, user_id: int, result: RestrictionResult) -> None:
    """Insert or update the row for (user, ASIN, condition); safe under concurrent writers."""
    values = {
        "user_id": user_id,
        "asin": result.asin,
        "condition": result.condition,
        "status": result.status,
        "reason_code": result.reason_code,
        "message": result.message,
        "approval_url": result.approval_url,
        "checked_at": result.checked_at or utcnow(),
    }
    upsert(session, UserRestriction, values, key=("user_id", "asin", "condition"))


def load_result(
    session: Session, user_id: int, asin: str, condition: str
) -> RestrictionResult | None:
    row = session.exec(
        select(UserRestriction).where(
            UserRestriction.user_id == user_id,
            UserRestriction.asin == asin,
            UserRestriction.condition == condition,
        )
    ).first()
    return _row_result(row) if row else None


def is_fresh(result: RestrictionResult | None, max_age: timedelta) -> bool:
    """A stored answer from Amazon young enough to reuse; errors are never reused."""
    return bool(
        result
        and result.status in (0, 1)
        and result.checked_at
        and utcnow() - _aware(result.checked_at) <= max_age
    )


def _aware(dt: datetime) -> datetime:
    from datetime import UTC

    return dt if dt.tzinfo else dt.replace(tzinfo=UTC)


def stored_results(
    session: Session, user_id: int, asins: list[str], condition: str | None = None
) -> dict[str, RestrictionResult]:
    """What the UI shows per ASIN: stored rows, else pending, or the account's blocking state
    (reconnect required) instead of pending, so nothing waits forever in silence."""
    query = select(UserRestriction).where(
        UserRestriction.user_id == user_id, col(UserRestriction.asin).in_(asins)
    )
    if condition:
        query = query.where(UserRestriction.condition == condition)
    found: dict[str, RestrictionResult] = {}
    for row in session.exec(query.order_by(UserRestriction.checked_at)):  # type: ignore[arg-type]
        found[row.asin] = _row_result(row)
    cred = session.get(UserCredential, user_id)
    blocked = cred is not None and cred.state == "reconnect_required"
    cond = condition or "used_very_good"
    out: dict[str, RestrictionResult] = {}
    for asin in asins:
        if asin in found and not (blocked and found[asin].status != 0 and found[asin].status != 1):
            out[asin] = found[asin]
        elif blocked:
            out[asin] = RestrictionResult(
                asin,
                cond,
                int(RestrictionStatus.error),
                RECONNECT_REQUIRED,
                cred.last_error if cred else None,
            )
        else:
            out[asin] = RestrictionResult(asin, cond, None)
    return out
