"""Gating checked now, for the few deals a seller is looking at.

The background checks (bulk.py) reach every deal eventually; a seller who asks "what can I
sell?" in their first minutes should not wait for them. This checks a handful of ASINs on the
spot: through the same RestrictionChecker (so the same shared SP-API rate limit, 5/s with a
burst of 10, and the same stored answers), in small concurrent batches, within a deadline and
a cap, reporting progress after each batch. Whatever it could not check is returned by name,
with the reason it stopped (the account needs connecting, no Redis for the rate limit, the
deadline), so the answer can show those deals as unchecked and say why.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from redis.exceptions import RedisError

from tools.restrictions.conditions import DEFAULT_CONDITION, UnknownCondition, to_condition_type
from tools.restrictions.service import RestrictionChecker
from tools.restrictions.store import RestrictionResult
from tools.settings import Settings

log = logging.getLogger(__name__)

SPOT_BATCH = 5
SPOT_MAX_CHECKS = 30  # about 4 s at 5 requests/s after the burst of 10
SPOT_DEADLINE_S = 10.0
_STOP_STATES = ("not_connected", "reconnect_required")

Progress = Callable[["SpotCheck"], Any]


@dataclass
class SpotCheck:
    """What a spot check did: counts, the ASINs still without an answer, and why it stopped
    early (None: it checked everything it was given)."""

    asked: int = 0
    checked: int = 0
    allowed: int = 0
    restricted: int = 0
    errors: int = 0
    unchecked: list[str] = field(default_factory=list)
    stopped: str | None = None

    def add(self, other: SpotCheck) -> None:
        self.asked += other.asked
        self.checked += other.checked
        self.allowed += other.allowed
        self.restricted += other.restricted
        self.errors += other.errors
        self.unchecked = [a for a in self.unchecked if a not in other.unchecked] + list(
            other.unchecked
        )
        self.stopped = other.stopped or self.stopped

    def as_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "checked_now": self.checked,
            "allowed": self.allowed,
            "restricted": self.restricted,
        }
        if self.errors:
            out["errors"] = self.errors
        if self.unchecked:
            out["unchecked"] = list(self.unchecked)
        if self.stopped:
            out["stopped"] = self.stopped
        return out


def condition_type(condition: str | None) -> str:
    """A deal's stored condition as SP-API's conditionType (the default when unknown)."""
    try:
        return to_condition_type(condition)
    except UnknownCondition:
        return DEFAULT_CONDITION


def _tally(report: SpotCheck, asin: str, res: Any) -> bool:
    """Count one answer into the report; True when checking must stop (the account)."""
    if isinstance(res, BaseException):
        report.errors += 1
        report.unchecked.append(asin)
        if isinstance(res, RedisError):
            report.stopped = "the SP-API rate limiter (Redis) is not reachable"
            return True
        log.warning("spot gating check %s failed: %r", asin, res)
        return False
    assert isinstance(res, RestrictionResult)
    if res.state == "allowed":
        report.allowed += 1
    elif res.status == 1:
        report.restricted += 1
    else:
        report.errors += 1
        report.unchecked.append(asin)
        if res.state in _STOP_STATES:
            report.stopped = res.message or "connect your Amazon seller account"
            return True
        return False
    report.checked += 1
    return False


async def check_now(
    settings: Settings,
    user_id: int,
    items: Sequence[tuple[str, str | None]],
    *,
    max_checks: int = SPOT_MAX_CHECKS,
    deadline_s: float = SPOT_DEADLINE_S,
    on_progress: Progress | None = None,
    redis_url: str | None = None,
    sandbox_app: Any = None,
) -> SpotCheck:
    """Check (ASIN, stored condition) pairs for one user now, in order, within the cap and the
    deadline. Answers are stored as the background checks store theirs."""
    from tools.redis_embedded import RedisUnavailable

    todo = list(dict.fromkeys((a, condition_type(c)) for a, c in items))
    report = SpotCheck(asked=len(todo))
    if len(todo) > max_checks:
        report.unchecked = [a for a, _ in todo[max_checks:]]
        report.stopped = f"I check at most {max_checks} deals at a time"
        todo = todo[:max_checks]
    start = time.monotonic()
    # a rate-limit wait longer than the deadline would only end in a timeout here
    quick = settings.model_copy(
        update={"spapi_rate_wait_deadline_s": max(1.0, min(deadline_s, 120.0))}
    )
    try:
        checker = RestrictionChecker(quick, redis_url=redis_url, sandbox_app=sandbox_app)
        await checker.__aenter__()
    except (RedisUnavailable, RedisError) as err:
        report.unchecked = [a for a, _ in todo] + report.unchecked
        report.stopped = f"gating cannot be checked right now: {err}"
        return report
    try:
        for i in range(0, len(todo), SPOT_BATCH):
            batch = todo[i : i + SPOT_BATCH]
            left = deadline_s - (time.monotonic() - start)
            if left <= 0:
                report.unchecked[:0] = [a for a, _ in todo[i:]]
                report.stopped = f"the {deadline_s:g} s I give a chat answer ran out"
                break
            calls = [checker.check(user_id, a, c) for a, c in batch]
            try:
                results = await asyncio.wait_for(
                    asyncio.gather(*calls, return_exceptions=True), left
                )
            except TimeoutError:
                report.unchecked[:0] = [a for a, _ in todo[i:]]
                report.stopped = f"the {deadline_s:g} s I give a chat answer ran out"
                break
            stop = False
            for (asin, _), res in zip(batch, results, strict=True):
                stop = _tally(report, asin, res) or stop
            if on_progress is not None:
                on_progress(report)
            if stop:
                report.unchecked += [a for a, _ in todo[i + SPOT_BATCH :]]
                break
    finally:
        await checker.__aexit__(None, None, None)
    return report
