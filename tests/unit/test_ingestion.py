"""Ingestion health: the newest successful scout and processor runs, in wall time."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlmodel import Session

from tools.db import session_scope
from tools.ingestion import ingestion
from tools.models import utcnow
from workers import checkpoints

STALL_S = 15 * 60


def _runs(session: Session, task: str, **wall: datetime | None) -> None:
    """A task's run record as workers/checkpoints.record_run leaves it, at chosen wall times."""
    success, failing_since = wall.get("success"), wall.get("failing_since")
    state: dict[str, Any] = {"last_ok": failing_since is None}
    if success is not None:
        state["last_success"] = state["last_success_wall"] = success.isoformat()
    if failing_since is not None:
        state["failing_since_wall"] = failing_since.isoformat()
        state["last_error"] = "RedisConnectionError: Connection refused"
    checkpoints.set_state(session, f"task:{task}", state)


def test_a_fresh_install_is_not_stalled() -> None:
    with session_scope() as session:
        ing = ingestion(session, STALL_S)
    assert not ing.stalled and ing.warning() is None
    assert {t.task: t.age_s for t in ing.tasks} == {"scout": None, "processor": None}


def test_stalled_when_a_task_has_not_succeeded_for_the_threshold() -> None:
    now = utcnow()
    with session_scope() as session:
        _runs(session, "scout", success=now - timedelta(minutes=2))
        _runs(session, "processor", success=now - timedelta(minutes=14))
        assert not ingestion(session, STALL_S, now=now).stalled
        _runs(
            session,
            "processor",
            success=now - timedelta(minutes=40),
            failing_since=now - timedelta(minutes=39),
        )
        ing = ingestion(session, STALL_S, now=now)
    assert ing.stalled and round((ing.stalled_for_s or 0) / 60) == 40
    assert ing.warning() == (
        "ingestion stalled for 40 min: the processor last succeeded 40 min ago "
        "(last error: RedisConnectionError: Connection refused)"
    )
    assert ing.as_dict()["tasks"]["processor"]["failing"] is True


def test_a_task_that_never_succeeded_is_stalled_from_its_first_failure() -> None:
    now = utcnow()
    with session_scope() as session:
        _runs(session, "scout", success=now)
        _runs(session, "processor", failing_since=now - timedelta(minutes=5))
        assert not ingestion(session, STALL_S, now=now).stalled  # 5 min of failures: not yet
        _runs(session, "processor", failing_since=now - timedelta(minutes=30))
        ing = ingestion(session, STALL_S, now=now)
    assert ing.stalled and str(ing.reason).startswith("the processor has never succeeded")


def test_record_run_keeps_wall_time_and_when_failures_began() -> None:
    """A sandbox at 60x stamps runs hours ahead of the clock: ages stay in wall time."""
    with session_scope() as session:
        ahead = utcnow() + timedelta(hours=5)
        checkpoints.record_run(session, "scout", now=ahead, ok=True)
        checkpoints.record_run(session, "processor", now=ahead, ok=False, error="boom")
        first = checkpoints.get_state(session, "task:processor")["failing_since_wall"]
        checkpoints.record_run(session, "processor", now=ahead, ok=False, error="boom")
        assert checkpoints.get_state(session, "task:processor")["failing_since_wall"] == first
        checkpoints.record_run(session, "processor", now=ahead, ok=True)
        assert "failing_since_wall" not in checkpoints.get_state(session, "task:processor")
        ing = ingestion(session, STALL_S)
    assert not ing.stalled and all(t.age_s is not None and t.age_s < 60 for t in ing.tasks)
