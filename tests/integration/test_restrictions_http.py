"""Restriction checks over real HTTP against the restrictions sandbox served by uvicorn."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import pytest
from sqlmodel import select

from tests.helpers.live_server import serve_asgi
from tools.db import session_scope
from tools.models import Deal, DealStatus, UserCredential, UserRestriction, utcnow
from tools.restrictions import (
    check_all_for_user_sync,
    check_restriction,
    check_restriction_sync,
    connect_account,
    restrictions_progress,
    stored_results,
)
from tools.restrictions.lwa import clear_token_cache
from tools.sandbox.spapi import (
    BAD_REFRESH_TOKEN,
    SANDBOX_CLIENT_ID,
    SANDBOX_CLIENT_SECRET,
    SandboxConfig,
    SandboxState,
    make_restrictions_sandbox_app,
    sandbox_reason,
)
from tools.settings import Settings, get_settings, reset_settings_cache
from tools.users import add_user

pytestmark = pytest.mark.integration
REPO = Path(__file__).resolve().parents[2]


@dataclass
class Sandbox:
    state: SandboxState
    url: str

    def statuses(self, asin: str) -> list[int]:
        return [r.status for r in self.state.requests if r.asin == asin]


def asins_with(reason: str | None, n: int = 1, start: int = 0) -> list[str]:
    out: list[str] = []
    i = start
    while len(out) < n:
        asin = f"B{i:09d}"
        if sandbox_reason(asin) == reason:
            out.append(asin)
        i += 1
    return out


def _configure(monkeypatch: pytest.MonkeyPatch, **env: str) -> Settings:
    for k, v in env.items():
        monkeypatch.setenv(k, v)
    reset_settings_cache()
    return get_settings()


@pytest.fixture
def sandbox(redis_url: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[Sandbox]:
    app = make_restrictions_sandbox_app(SandboxConfig())
    clear_token_cache()
    with serve_asgi(app) as url:
        _configure(
            monkeypatch,
            SPAPI_ENDPOINT=url,
            SPAPI_RETRY_BASE_S="0.01",
            SPAPI_RETRY_MAX_S="0.05",
            SPAPI_MAX_ATTEMPTS="3",
        )
        yield Sandbox(app.state.sandbox, url)
    clear_token_cache()


@pytest.fixture
def user_id(settings: Settings) -> int:
    with session_scope(settings) as session:
        user = add_user(session, "seller1", "password123")
        assert user.id is not None
        return user.id


def _rows(user_id: int) -> list[UserRestriction]:
    with session_scope() as session:
        return list(session.exec(select(UserRestriction).where(UserRestriction.user_id == user_id)))


def test_each_reason_code_is_stored_right(sandbox: Sandbox, user_id: int) -> None:
    (gated,) = asins_with("APPROVAL_REQUIRED")
    (ineligible,) = asins_with("NOT_ELIGIBLE")
    (missing,) = asins_with("ASIN_NOT_FOUND")
    (free,) = asins_with(None)

    r = check_restriction_sync(None, user_id, gated, "Used - Very Good")
    assert (r.status, r.reason_code, r.state) == (1, "APPROVAL_REQUIRED", "restricted")
    assert r.approval_url == (
        "https://sellercentral.amazon.com/hz/approvalrequest/restrictions/"
        f"approve?asin={gated}&itemcondition=used_very_good"
    )
    assert "approval" in (r.message or "")

    r = check_restriction_sync(None, user_id, ineligible)
    assert (r.status, r.reason_code) == (1, "NOT_ELIGIBLE")
    assert (
        r.approval_url == f"https://sellercentral.amazon.com/hz/approvalrequest?asin={ineligible}"
    )

    r = check_restriction_sync(None, user_id, missing)
    assert (r.status, r.reason_code, r.approval_url, r.state) == (
        1,
        "ASIN_NOT_FOUND",
        None,
        "asin_not_found",
    )
    assert r.can_list is False

    r = check_restriction_sync(None, user_id, free.lower(), "good")
    assert (r.status, r.reason_code, r.approval_url, r.can_list) == (0, None, None, True)
    assert r.condition == "used_good"

    stored = {(row.asin, row.condition): row for row in _rows(user_id)}
    assert stored[(gated, "used_very_good")].reason_code == "APPROVAL_REQUIRED"
    assert stored[(missing, "used_very_good")].status == 1
    assert stored[(free, "used_good")].status == 0
    assert len(stored) == 4

    # A fresh stored answer is reused without a call; a forced re-check updates the same row.
    calls = len(sandbox.state.requests)
    again = check_restriction_sync(None, user_id, gated)
    assert again.from_cache and again.reason_code == "APPROVAL_REQUIRED"
    assert len(sandbox.state.requests) == calls
    check_restriction_sync(None, user_id, gated, force=True)
    assert len(sandbox.state.requests) == calls + 1
    assert len(_rows(user_id)) == 4
    # ... and an old answer counts as stale.
    check_restriction_sync(None, user_id, gated, max_age=timedelta(0))
    assert len(sandbox.state.requests) == calls + 2


def test_429_then_success_honours_retry_after(sandbox: Sandbox, user_id: int) -> None:
    (asin,) = asins_with("APPROVAL_REQUIRED")
    sandbox.state.config.retry_after_s = 0.4
    sandbox.state.inject(asin, 429)
    result = check_restriction_sync(None, user_id, asin)
    assert result.reason_code == "APPROVAL_REQUIRED"
    assert sandbox.statuses(asin) == [429, 200]
    first, second = (r.at for r in sandbox.state.requests if r.asin == asin)
    assert second - first >= 0.38


def test_500_becomes_error_with_its_message(sandbox: Sandbox, user_id: int) -> None:
    (asin,) = asins_with(None)
    sandbox.state.inject(asin, *[500] * 5)
    result = check_restriction_sync(None, user_id, asin)
    assert result.status == -1 and result.state == "error"
    assert "HTTP 500" in (result.message or "")
    assert "We encountered an internal error" in (result.message or "")
    assert sandbox.statuses(asin) == [500, 500, 500]  # SPAPI_MAX_ATTEMPTS=3
    (row,) = _rows(user_id)
    assert (row.status, row.reason_code) == (-1, "SPAPI_ERROR")
    assert "HTTP 500" in (row.message or "")
    # Errors are not reused: the next check asks again, and one transient 500 is retried away.
    sandbox.state._plan[asin] = [500]
    result = check_restriction_sync(None, user_id, asin)
    assert result.status == 0
    (row,) = _rows(user_id)
    assert row.status == 0 and row.message is None


def test_failed_lwa_refresh_gives_reconnect_state(
    sandbox: Sandbox, user_id: int, settings: Settings
) -> None:
    (asin, other) = asins_with(None, 2)
    with session_scope() as session:
        connect_account(
            session,
            get_settings(),
            user_id,
            "A1SELLER0001",
            BAD_REFRESH_TOKEN,
            SANDBOX_CLIENT_ID,
            SANDBOX_CLIENT_SECRET,
        )
    result = check_restriction_sync(None, user_id, asin)
    assert result.state == "reconnect_required" and result.status == -1
    assert "reconnect your Amazon seller account" in (result.message or "")
    assert "invalid_grant" in (result.message or "")
    with session_scope() as session:
        cred = session.get(UserCredential, user_id)
        assert cred is not None and cred.state == "reconnect_required"
        # Unchecked ASINs show the same state, not pending.
        shown = stored_results(session, user_id, [asin, other])
    assert shown[other].state == "reconnect_required"
    assert shown[asin].state == "reconnect_required"

    # No more token refreshes or API calls until the seller reconnects; a bulk run stops at once.
    tokens_before, calls_before = sandbox.state.token_requests, len(sandbox.state.requests)
    with session_scope() as session:
        session.add(Deal(asin=other, status=DealStatus.active))
    progress = check_all_for_user_sync(None, user_id)
    assert progress["state"] == "reconnect_required"
    assert sandbox.state.token_requests == tokens_before
    assert len(sandbox.state.requests) == calls_before

    with session_scope() as session:
        connect_account(
            session,
            get_settings(),
            user_id,
            "A1SELLER0001",
            "Atzr|good-token",
            SANDBOX_CLIENT_ID,
            SANDBOX_CLIENT_SECRET,
        )
    assert check_restriction_sync(None, user_id, asin).state == "allowed"


def test_live_mode_without_account_asks_to_connect(
    sandbox: Sandbox, user_id: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    _configure(
        monkeypatch,
        SPAPI_CLIENT_ID="amzn1.application-oa2-client.x",
        SPAPI_CLIENT_SECRET="live-secret",
    )
    (asin,) = asins_with(None)
    result = check_restriction_sync(None, user_id, asin)
    assert result.state == "not_connected"
    assert "connect your Amazon seller account" in (result.message or "")
    assert sandbox.state.requests == [] and sandbox.state.token_requests == 0


def test_token_refreshed_once_under_concurrency(sandbox: Sandbox, user_id: int) -> None:
    asins = asins_with(None, 15)

    failures: list[BaseException] = []

    def run(chunk: list[str]) -> None:
        async def go() -> None:
            await asyncio.gather(*(check_restriction(None, user_id, a) for a in chunk))

        try:
            asyncio.run(go())
        except BaseException as err:
            failures.append(err)

    threads = [threading.Thread(target=run, args=(asins[i::3],)) for i in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert failures == []
    assert sandbox.state.token_requests == 1
    assert [r.status for r in sandbox.state.requests] == [200] * 15

    # A token SP-API stops accepting (here: the sandbox rotates its key) is replaced once.
    sandbox.state.config.signing_key = "rotated"
    (asin,) = asins_with("NOT_ELIGIBLE")
    assert check_restriction_sync(None, user_id, asin).reason_code == "NOT_ELIGIBLE"
    assert sandbox.statuses(asin) == [403, 200]
    assert sandbox.state.token_requests == 2


def test_concurrency_does_not_exceed_the_rate(
    sandbox: Sandbox, user_id: int, settings: Settings
) -> None:
    """Two threads here and one other process, all sharing Redis: 5/s with a burst of 10."""
    rate, burst = get_settings().spapi_rate_per_s, get_settings().spapi_burst
    asins = asins_with(None, 30)
    child_asins = asins[20:]
    code = (
        "import asyncio; from tools.restrictions import check_restriction as c\n"
        "async def main():\n"
        f"    await asyncio.gather(*(c(None, {user_id}, a) for a in {child_asins!r}))\n"
        "asyncio.run(main())\n"
    )
    child = subprocess.Popen([sys.executable, "-c", code], cwd=REPO, env=dict(os.environ))

    failures: list[BaseException] = []

    def run(chunk: list[str]) -> None:
        async def go() -> None:  # all in flight at once: only the limiter spaces them
            await asyncio.gather(*(check_restriction(None, user_id, a) for a in chunk))

        try:
            asyncio.run(go())
        except BaseException as err:
            failures.append(err)

    threads = [threading.Thread(target=run, args=(asins[i:20:2],)) for i in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert child.wait(timeout=120) == 0
    assert failures == []
    times = sorted(r.at for r in sandbox.state.requests)
    assert len(times) == 30
    # Slack for differences in grant-to-arrival delay on a loaded 2-core machine; without the
    # limiter all 30 arrive within about a second, far above 10 + 5 * (1 + 0.5).
    jitter = 0.5
    for i in range(len(times)):
        for j in range(i, len(times)):
            assert j - i + 1 <= burst + rate * (times[j] - times[i] + jitter), (i, j)
    assert times[-1] - times[0] >= (30 - burst) / rate - 0.5
    assert len(_rows(user_id)) == 30


def test_bulk_checks_newest_deals_first_with_progress(sandbox: Sandbox, user_id: int) -> None:
    asins = asins_with(None, 9) + asins_with("APPROVAL_REQUIRED", 3)
    now = utcnow()
    with session_scope() as session:
        for i, asin in enumerate(asins):
            session.add(
                Deal(
                    asin=asin,
                    status=DealStatus.active,
                    condition="used_good",
                    created_at=now - timedelta(minutes=i),
                )
            )
        session.add(Deal(asin="B0PENDING1", status=DealStatus.pending))
    progress = check_all_for_user_sync(None, user_id)
    assert progress["state"] == "done"
    assert (progress["done"], progress["total"]) == (12, 12)
    assert (progress["allowed"], progress["restricted"], progress["errors"]) == (9, 3, 0)
    first_batch = {r.asin for r in sandbox.state.requests[:5]}
    assert first_batch == set(asins[:5])
    with session_scope() as session:
        shown = restrictions_progress(session, user_id)
    assert shown is not None and shown["state"] == "done" and shown["done"] == 12
    assert all(row.condition == "used_good" for row in _rows(user_id))
    # Fresh answers are not asked again.
    assert check_all_for_user_sync(None, user_id)["total"] == 0


def test_worker_task_runs_the_bulk_check(sandbox: Sandbox, user_id: int) -> None:
    from workers.restrictions import check_all_restrictions_for_user

    (asin,) = asins_with("ASIN_NOT_FOUND")
    with session_scope() as session:
        session.add(Deal(asin=asin, status=DealStatus.active))
    progress = check_all_restrictions_for_user.apply(args=(user_id,)).get()
    assert progress["state"] == "done" and progress["restricted"] == 1
    assert sandbox.statuses(asin) == [200]
    (row,) = _rows(user_id)
    assert row.reason_code == "ASIN_NOT_FOUND"


def test_beat_keeps_every_sellers_gating_current(
    sandbox: Sandbox, user_id: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Without the beat task, "deals I can sell" would stay empty until someone ran the CLI."""
    from workers.celery_app import app
    from workers.restrictions import check_restrictions_for_all_users

    monkeypatch.setenv("RESTRICTIONS_PER_RUN", "2")
    reset_settings_cache()
    now = utcnow()
    with session_scope() as session:
        second = add_user(session, "seller2", "password123").id
        assert second is not None
        for i, asin in enumerate(("B0BEATNEW1", "B0BEATNEW2", "B0BEATOLD3")):
            session.add(
                Deal(asin=asin, status=DealStatus.active, created_at=now - timedelta(hours=i))
            )
    app.conf.task_always_eager = True  # the per-user runs it enqueues run inline
    try:
        ran_for = check_restrictions_for_all_users.apply().get()
    finally:
        app.conf.task_always_eager = False
    assert sorted(ran_for) == sorted([user_id, second])
    for uid in (user_id, second):
        assert {r.asin for r in _rows(uid)} == {"B0BEATNEW1", "B0BEATNEW2"}  # newest first, cap


def test_secrets_never_reach_the_logs(
    sandbox: Sandbox, user_id: int, caplog: pytest.LogCaptureFixture
) -> None:
    import logging

    secret = "amzn1.oa2-cs.v1.log-canary-client-secret"
    caplog.set_level(logging.DEBUG)
    (asin, other) = asins_with("APPROVAL_REQUIRED", 2)
    with session_scope() as session:
        connect_account(
            session,
            get_settings(),
            user_id,
            "A1SELLER0001",
            "Atzr|log-canary-good",
            SANDBOX_CLIENT_ID,
            secret,
        )
    assert check_restriction_sync(None, user_id, asin).state == "restricted"
    with session_scope() as session:
        connect_account(
            session,
            get_settings(),
            user_id,
            "A1SELLER0001",
            BAD_REFRESH_TOKEN,
            SANDBOX_CLIENT_ID,
            secret,
        )
    clear_token_cache()
    assert check_restriction_sync(None, user_id, other).state == "reconnect_required"
    assert "LWA refresh rejected" in caplog.text  # the logs did record what happened
    issued = [r.getMessage() for r in caplog.records]
    for canary in (secret, "log-canary", BAD_REFRESH_TOKEN, "Atza|sbx."):
        assert not any(canary in m for m in issued), canary


def test_sandbox_mounted_under_a_prefix_serves_both_endpoints(
    redis_url: str, user_id: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    """How `arbitrage sandbox serve` can host it beside other sandboxes: one URL setting."""
    from starlette.applications import Starlette
    from starlette.routing import Mount

    inner = make_restrictions_sandbox_app()
    outer = Starlette(routes=[Mount("/restrictions", app=inner)])
    clear_token_cache()
    with serve_asgi(outer) as url:
        _configure(monkeypatch, SPAPI_ENDPOINT=f"{url}/restrictions")
        (asin,) = asins_with("NOT_ELIGIBLE")
        assert check_restriction_sync(None, user_id, asin).reason_code == "NOT_ELIGIBLE"
    assert inner.state.sandbox.token_requests == 1
    assert [r.asin for r in inner.state.sandbox.requests] == [asin]
