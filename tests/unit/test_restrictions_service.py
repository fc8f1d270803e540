"""The embedded default: with no SP-API settings, checks run against the in-process sandbox
through the same client code; bad input is refused clearly."""

from __future__ import annotations

from datetime import timedelta

import pytest

from tools.db import session_scope
from tools.models import SystemState, utcnow
from tools.restrictions import InvalidRequest, check_restriction_sync, restrictions_progress
from tools.restrictions.progress import progress_key
from tools.restrictions.service import embedded_sandbox_app
from tools.sandbox.spapi import sandbox_reason
from tools.settings import Settings
from tools.users import add_user


@pytest.fixture
def uid(settings: Settings, redis_url: str) -> int:
    with session_scope() as session:
        user_id = add_user(session, "seller1", "password123").id
        assert user_id is not None
        return user_id


def test_embedded_default_needs_no_configuration(uid: int) -> None:
    asin = next(
        f"B{i:09d}" for i in range(1000) if sandbox_reason(f"B{i:09d}") == "APPROVAL_REQUIRED"
    )
    result = check_restriction_sync(None, uid, asin, "Used - Good")
    assert (result.status, result.reason_code, result.condition) == (
        1,
        "APPROVAL_REQUIRED",
        "used_good",
    )
    assert result.approval_url and asin in result.approval_url
    seen = embedded_sandbox_app().state.sandbox.requests
    assert seen and seen[-1].asin == asin


def test_bad_input_is_refused(uid: int) -> None:
    with pytest.raises(InvalidRequest, match="not an ASIN"):
        check_restriction_sync(None, uid, "123")
    with pytest.raises(InvalidRequest, match="unknown condition"):
        check_restriction_sync(None, uid, "0131103628", "shiny")
    with pytest.raises(InvalidRequest, match="no user"):
        check_restriction_sync(None, 999, "0131103628")


def test_progress_of_a_dead_run_reads_interrupted(uid: int) -> None:
    old = (utcnow() - timedelta(hours=1)).isoformat()
    with session_scope() as session:
        session.add(
            SystemState(
                key=progress_key(uid),
                value={"state": "running", "done": 5, "total": 50, "updated_at": old},
            )
        )
    with session_scope() as session:
        progress = restrictions_progress(session, uid)
    assert progress is not None and progress["state"] == "interrupted"
    assert progress["done"] == 5


def test_status_screen_shows_each_users_checks(uid: int, settings: Settings) -> None:
    from tools.status import collect

    with session_scope() as session:
        session.add(
            SystemState(
                key=progress_key(uid),
                value={
                    "state": "running",
                    "done": 40,
                    "total": 120,
                    "updated_at": utcnow().isoformat(),
                },
            )
        )
    (sp,) = [p for p in collect(settings) if p.name == "sp-api"]
    assert "checks: seller1 running 40/120" in sp.detail
