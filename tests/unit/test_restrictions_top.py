"""Each seller's top deals get their gating checked soon after the worker starts, then on beat.

The checks run against the restrictions sandbox through the real client, rate limiter (a real
Redis) and store; the Celery wiring is checked by what the tasks send.
"""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from sqlmodel import select

from tests.unit.agent_helpers import make_deal, seed
from tools.db import session_scope
from tools.models import RestrictionStatus, UserRestriction
from tools.restrictions.service import embedded_sandbox_app
from tools.restrictions.top import check_top_deals, top_unchecked
from tools.sandbox.spapi import sandbox_reason
from tools.settings import Settings, get_settings
from tools.users import add_user

ASINS = [a for a in (f"B0TP{i:06d}" for i in range(400)) if sandbox_reason(a) is None][:8]


@pytest.fixture
def uid(settings: Settings, redis_url: str) -> int:
    with session_scope() as session:
        user_id = add_user(session, "seller1", "password123").id
        assert user_id is not None
    return user_id


def test_only_the_sellers_top_deals_without_an_answer_are_checked(uid: int) -> None:
    # ROI falls with the price: the first five are the top by ROI
    seed(get_settings(), *(make_deal(a, price_now=10.0 + 5 * i) for i, a in enumerate(ASINS)))
    with session_scope() as session:  # one top deal was checked before
        session.add(
            UserRestriction(user_id=uid, asin=ASINS[0], status=RestrictionStatus.restricted)
        )
    todo = top_unchecked(get_settings(), uid, 5)
    assert [a for a, _ in todo][:4] == ASINS[1:5]  # by ROI, without the checked one
    assert set(a for a, _ in todo) <= set(ASINS)
    calls = len(embedded_sandbox_app().state.sandbox.requests)
    done = asyncio.run(check_top_deals(get_settings(), uid, 5))
    assert done["state"] == "done" and done["checked_now"] == len(todo)
    assert len(embedded_sandbox_app().state.sandbox.requests) - calls == len(todo)
    with session_scope() as session:
        answered = {r.asin for r in session.exec(select(UserRestriction))}
    assert {a for a, _ in todo} | {ASINS[0]} == answered
    again = asyncio.run(check_top_deals(get_settings(), uid, 5))
    assert again["checked_now"] == 0  # nothing new: one search, no SP-API call
    assert len(embedded_sandbox_app().state.sandbox.requests) - calls == len(todo)


def test_the_worker_checks_every_sellers_top_deals_soon_after_start(
    monkeypatch: pytest.MonkeyPatch, settings: Settings, redis_url: str
) -> None:
    from workers import restrictions as tasks
    from workers.celery_app import make_celery

    schedule = make_celery().conf.beat_schedule["restrictions_top"]
    assert schedule["task"] == "workers.restrictions.check_top_deals_for_all_users"
    assert schedule["schedule"] == settings.restrictions_top_interval_s
    sent: list[tuple[str, Any, dict[str, Any]]] = []

    def capture(name: str) -> Any:
        def apply_async(args: Any = None, **kw: Any) -> None:
            sent.append((name, args, kw))

        return apply_async

    monkeypatch.setattr(tasks.check_top_deals_for_all_users, "apply_async", capture("all"))
    monkeypatch.setattr(tasks.check_top_deals_for_user, "apply_async", capture("one"))
    tasks._top_deals_soon()
    assert sent == [
        (
            "all",
            None,
            {"countdown": settings.restrictions_top_start_delay_s, "queue": "restrictions"},
        )
    ]
    with session_scope() as session:
        ids = [add_user(session, n, "password123").id for n in ("ann", "bob")]
    assert tasks.check_top_deals_for_all_users() == ids
    assert [(name, args) for name, args, _ in sent[1:]] == [("one", (i,)) for i in ids]
