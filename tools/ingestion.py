"""Is ingestion alive? The age of the newest successful scout and processor runs.

Every worker task records its runs in `system_state` (`task:<name>`, workers/checkpoints.py).
Deals only come in and get fresh while both the scout (discovery) and the processor (fetch
and analysis) keep succeeding, so their newest successes say whether ingestion works, on any
machine, whatever killed it: a dead worker, a dead beat, an unreachable Redis, Keepa errors.
`arbitrage status` shows it, and the chat tells an admin when it is stalled.

Ages are wall time (a run's `last_success_wall`): a sandbox market may run faster than the
clock, and its market-time stamps would make a healthy pipeline look hours old.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlmodel import Session

from tools.models import SystemState, utcnow

TASK_PREFIX = "task:"
INGESTION_TASKS = ("scout", "processor")


@dataclass(frozen=True)
class TaskAge:
    task: str
    last_success: datetime | None  # wall time
    age_s: float | None
    last_error: str | None
    failing: bool  # the newest run failed
    failing_for_s: float | None  # since the first failure after the last success


@dataclass(frozen=True)
class Ingestion:
    tasks: tuple[TaskAge, ...]
    stall_after_s: float
    stalled_for_s: float | None  # None: not stalled
    reason: str | None

    @property
    def stalled(self) -> bool:
        return self.stalled_for_s is not None

    def as_dict(self) -> dict[str, Any]:
        return {
            "stalled": self.stalled,
            "stalled_for_min": None
            if self.stalled_for_s is None
            else round(self.stalled_for_s / 60, 1),
            "reason": self.reason,
            "stall_after_min": round(self.stall_after_s / 60, 1),
            "tasks": {
                t.task: {
                    "last_success": t.last_success.isoformat() if t.last_success else None,
                    "age_s": None if t.age_s is None else round(t.age_s),
                    "failing": t.failing,
                    "last_error": t.last_error,
                }
                for t in self.tasks
            },
        }

    def warning(self) -> str | None:
        """One sentence for people, or None when ingestion is fine."""
        if self.stalled_for_s is None:
            return None
        return f"ingestion stalled for {self.stalled_for_s / 60:.0f} min: {self.reason}"


def _when(value: Any) -> datetime | None:
    if not value:
        return None
    stamp = datetime.fromisoformat(str(value))
    return stamp if stamp.tzinfo else stamp.replace(tzinfo=UTC)


def _age(session: Session, task: str, now: datetime) -> TaskAge:
    row = session.get(SystemState, TASK_PREFIX + task)
    state = row.value if row is not None and isinstance(row.value, dict) else {}
    last = _when(state.get("last_success_wall") or state.get("last_success"))
    failing_since = _when(state.get("failing_since_wall"))
    return TaskAge(
        task=task,
        last_success=last,
        age_s=None if last is None else max(0.0, (now - last).total_seconds()),
        last_error=state.get("last_error"),
        failing=state.get("last_ok") is False,
        failing_for_s=None
        if failing_since is None
        else max(0.0, (now - failing_since).total_seconds()),
    )


def ingestion(session: Session, stall_after_s: float, now: datetime | None = None) -> Ingestion:
    """How long ago scout and processor last succeeded; stalled once either is older than
    `stall_after_s`, or has failed without ever succeeding."""
    now = now or utcnow()
    ages = tuple(_age(session, t, now) for t in INGESTION_TASKS)
    worst: tuple[float, str] | None = None
    for a in ages:
        if a.age_s is not None and a.age_s > stall_after_s:
            why = f"the {a.task} last succeeded {a.age_s / 60:.0f} min ago" + (
                f" (last error: {a.last_error[:160]})" if a.failing and a.last_error else ""
            )
            if worst is None or a.age_s > worst[0]:
                worst = (a.age_s, why)
        elif a.age_s is None and a.failing_for_s is not None:
            why = f"the {a.task} has never succeeded (last error: {(a.last_error or '?')[:160]})"
            since = a.failing_for_s
            if since > stall_after_s and (worst is None or since > worst[0]):
                worst = (since, why)
    return Ingestion(
        tasks=ages,
        stall_after_s=stall_after_s,
        stalled_for_s=None if worst is None else worst[0],
        reason=None if worst is None else worst[1],
    )
