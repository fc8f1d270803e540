"""Check every active deal for one user: newest deals first, in small batches, with progress
in system_state so `arbitrage status`, the CLI and the chat can show how far it got.

A run stops early, with that state recorded, when the user's account needs (re)connecting:
every further call would fail the same way. A per-user Redis lock with a timeout keeps two
runs from overlapping without ever outliving a crashed worker for long.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from datetime import timedelta
from typing import Any

from redis.exceptions import LockError
from sqlmodel import Session, col, select

from tools import shutdown
from tools.db import session_scope
from tools.models import Deal, DealStatus, SystemState, User, UserRestriction, utcnow
from tools.restrictions.conditions import DEFAULT_CONDITION, UnknownCondition, to_condition_type
from tools.restrictions.progress import progress_key, restrictions_progress
from tools.restrictions.service import (
    DEFAULT_MAX_AGE,
    InvalidRequest,
    RestrictionChecker,
    run_sync,
)
from tools.restrictions.store import SPAPI_ERROR, RestrictionResult, error_result, upsert_result
from tools.settings import Settings, get_settings

log = logging.getLogger(__name__)

BATCH_SIZE = 5
RUN_LOCK_TIMEOUT_S = 300
_STOP_STATES = ("reconnect_required", "not_connected")


def _save(settings: Settings, user_id: int, value: dict[str, Any]) -> None:
    value["updated_at"] = utcnow().isoformat()
    with session_scope(settings) as session:
        key = progress_key(user_id)
        row = session.get(SystemState, key) or SystemState(key=key)
        row.value = dict(value)
        row.updated_at = utcnow()
        session.add(row)


def deals_to_check(
    session: Session, user_id: int, max_age: timedelta = DEFAULT_MAX_AGE
) -> list[tuple[str, str]]:
    """(ASIN, conditionType) of active deals without a fresh answer, newest deals first."""
    deals = session.exec(
        select(Deal.asin, Deal.condition)
        .where(Deal.status == DealStatus.active)
        .order_by(col(Deal.created_at).desc(), col(Deal.updated_at).desc())
    ).all()
    fresh = set(
        session.exec(
            select(UserRestriction.asin, UserRestriction.condition).where(
                UserRestriction.user_id == user_id,
                UserRestriction.status.in_((0, 1)),  # type: ignore[attr-defined]
                UserRestriction.checked_at >= utcnow() - max_age,
            )
        ).all()
    )
    out: list[tuple[str, str]] = []
    for asin, condition in deals:
        try:
            cond = to_condition_type(condition)
        except UnknownCondition:
            cond = DEFAULT_CONDITION
        if (asin, cond) not in fresh:
            out.append((asin, cond))
    return out


async def check_all_for_user(
    settings: Settings | None,
    user_id: int,
    *,
    batch_size: int = BATCH_SIZE,
    max_age: timedelta = DEFAULT_MAX_AGE,
    limit: int | None = None,
    redis_url: str | None = None,
    sandbox_app: Any = None,
) -> dict[str, Any]:
    """Check the user's unchecked or stale active deals; returns the final progress dict."""
    settings = settings or get_settings()
    with session_scope(settings) as session:
        if session.get(User, user_id) is None:
            raise InvalidRequest(f"no user with id {user_id}")
        todo = deals_to_check(session, user_id, max_age)
    if limit is not None:
        todo = todo[:limit]
    now = utcnow().isoformat()
    progress: dict[str, Any] = {
        "state": "running",
        "done": 0,
        "total": len(todo),
        "allowed": 0,
        "restricted": 0,
        "errors": 0,
        "started_at": now,
        "finished_at": None,
        "message": None,
    }
    async with RestrictionChecker(
        settings, redis_url=redis_url, sandbox_app=sandbox_app
    ) as checker:
        assert checker.redis is not None
        lock = checker.redis.lock(f"restrictions:run:{user_id}", timeout=RUN_LOCK_TIMEOUT_S)
        if not await lock.acquire(blocking=False):
            with session_scope(settings) as session:
                current = restrictions_progress(session, user_id)
            return {**(current or {}), "state": "already_running"}
        try:
            _save(settings, user_id, progress)
            for start in range(0, len(todo), batch_size):
                batch = todo[start : start + batch_size]
                results = await asyncio.gather(
                    *(
                        checker.check(user_id, asin, cond, max_age=max_age, force=True)
                        for asin, cond in batch
                    ),
                    return_exceptions=True,
                )
                stop = _tally(settings, user_id, progress, batch, results)
                await lock.extend(RUN_LOCK_TIMEOUT_S, replace_ttl=True)
                if stop:
                    break
                _save(settings, user_id, progress)
            if progress["state"] == "running":
                progress["state"] = "done"
        except shutdown.Stopped:
            progress["state"] = "interrupted"
            progress["message"] = "the worker stopped; the check runs again when it is back"
            raise
        except BaseException as err:
            progress["state"], progress["message"] = "failed", f"{type(err).__name__}: {err}"
            raise
        finally:
            progress["finished_at"] = utcnow().isoformat()
            _save(settings, user_id, progress)
            with contextlib.suppress(LockError):  # expired: nothing to release
                await lock.release()
    return progress


def _tally(
    settings: Settings,
    user_id: int,
    progress: dict[str, Any],
    batch: list[tuple[str, str]],
    results: list[Any],
) -> bool:
    """Count a batch into progress; True when the run must stop (account state)."""
    stop = False
    for res in results:
        if isinstance(res, shutdown.Stopped):
            raise res  # a stopping worker: not a failed check; the run goes back to its queue
    for (asin, cond), res in zip(batch, results, strict=True):
        progress["done"] += 1
        if isinstance(res, BaseException):
            log.error("restriction check %s failed: %r", asin, res)
            res = error_result(asin, cond, SPAPI_ERROR, f"{type(res).__name__}: {res}")
            with session_scope(settings) as session:
                upsert_result(session, user_id, res)
        assert isinstance(res, RestrictionResult)
        if res.state == "allowed":
            progress["allowed"] += 1
        elif res.status == 1:
            progress["restricted"] += 1
        else:
            progress["errors"] += 1
        if res.state in _STOP_STATES:
            progress["state"], progress["message"] = res.state, res.message
            stop = True
    return stop


def check_all_for_user_sync(
    settings: Settings | None, user_id: int, **kwargs: Any
) -> dict[str, Any]:
    return run_sync(check_all_for_user(settings, user_id, **kwargs))
