"""Gating checked on the spot: "deals I can sell" on a fresh install answers with deals whose
gating was checked just now (within the SP-API rate, progress streamed), or shows unchecked
ones marked as such and says why; never "No deals match" because nothing was checked; a
verdict on an unchecked deal checks it first or says gating is not known yet.

The SP-API side is the restrictions sandbox (deterministic answers per ASIN), through the real
client, rate limiter (a real Redis) and store.
"""

from __future__ import annotations

import time
from typing import Any

import pytest
from langgraph.checkpoint.memory import InMemorySaver
from sqlmodel import select

from agent.context import AgentContext
from agent.graph import build_graph
from agent.runner import stream_turn
from tests.unit.agent_helpers import add_user, make_deal, seed
from tools.db import session_scope
from tools.models import RestrictionStatus, UserRestriction
from tools.restrictions.service import embedded_sandbox_app
from tools.restrictions.spot import check_now
from tools.sandbox.spapi import SandboxConfig, make_restrictions_sandbox_app, sandbox_reason
from tools.settings import Settings, get_settings, reset_settings_cache


def asins(kind: str, n: int, start: int = 0) -> list[str]:
    """n ASINs the sandbox answers as `kind` ("free" or "gated": APPROVAL_REQUIRED)."""
    want = None if kind == "free" else "APPROVAL_REQUIRED"
    out = [a for a in (f"B0GT{i:06d}" for i in range(start, 5000)) if sandbox_reason(a) == want]
    return out[:n]


FREE = asins("free", 14)
GATED = asins("gated", 6)


def no_knowledge(ctx: AgentContext, question: str) -> list[dict[str, Any]]:
    return []


@pytest.fixture
def seller(settings: Settings) -> AgentContext:
    """The signed-in seller, with the settings as they are when the test asks for it (after
    `redis_url`, when the test uses one: put it first)."""
    with session_scope(settings) as session:
        return AgentContext.for_user(add_user(session, "sam"), settings=get_settings())


def stock(settings: Settings, free: list[str], gated: list[str]) -> None:
    """Unchecked textbooks; the gated ones have the best ROI, so they come first."""
    seed(
        settings,
        *(make_deal(a, price_now=5.0 + i, list_at=150.0) for i, a in enumerate(gated)),
        *(make_deal(a, price_now=20.0 + i) for i, a in enumerate(free)),
    )


async def ask(graph: Any, text: str, ctx: AgentContext, thread: str = "t") -> tuple[Any, list]:  # type: ignore[type-arg]
    events = [e async for e in stream_turn(graph, text, thread_id=thread, user=ctx)]
    return events[-1].data, events


def sandbox_calls() -> int:
    return len(embedded_sandbox_app().state.sandbox.requests)


async def test_the_flagship_starter_checks_gating_on_the_spot(
    settings: Settings, redis_url: str, seller: AgentContext
) -> None:
    stock(settings, FREE[:12], GATED[:4])
    graph = build_graph(InMemorySaver(), retrieve=no_knowledge)
    before = sandbox_calls()
    done, events = await ask(graph, "Best textbook deals I can sell right now", seller)
    result = done.tool_results[0]
    assert [d["gated"] for d in result["items"]] == ["not_restricted"] * 10
    assert not set(GATED) & {d["asin"] for d in result["items"]}
    assert result["gating"]["checked_now"] >= 14 and result["gating"]["restricted"] == 4
    assert "No deals match" not in done.answer
    assert "I checked gating for" in done.answer and "4 gated" in done.answer
    progress = [e.data for e in events if e.kind == "progress"]
    assert progress and progress[-1]["kind"] == "gating"
    assert progress[-1]["restricted"] == 4 and progress[-1]["done"] == progress[-1]["asked"]
    assert sandbox_calls() - before == result["gating"]["checked_now"]
    with session_scope(settings) as session:  # stored like the background checks' answers
        rows = session.exec(select(UserRestriction)).all()
    assert {r.asin for r in rows if r.status == RestrictionStatus.restricted} == set(GATED[:4])
    again, _ = await ask(graph, "Best textbook deals I can sell right now", seller, "t2")
    assert sandbox_calls() - before == result["gating"]["checked_now"]  # answers reused
    assert "gating" not in again.tool_results[0] or not again.tool_results[0]["gating"].get(
        "checked_now"
    )


async def test_spot_checks_keep_to_the_sp_api_rate(
    settings: Settings, redis_url: str, seller: AgentContext
) -> None:
    """Burst 3, 4 a second: 14 checks take at least (14 - 3) / 4 s, and no second holds more
    than burst + rate requests."""
    fast = seller.settings.model_copy(update={"spapi_rate_per_s": 4.0, "spapi_burst": 3})
    app = make_restrictions_sandbox_app()
    assert seller.user_id is not None
    start = time.monotonic()
    spot = await check_now(
        fast, seller.user_id, [(a, "used_good") for a in FREE], sandbox_app=app, deadline_s=30
    )
    took = time.monotonic() - start
    assert spot.checked == 14 and not spot.unchecked and spot.stopped is None
    assert took >= (14 - 3) / 4 - 0.3
    times = [r.at for r in app.state.sandbox.requests if r.asin]
    assert max(sum(1 for u in times if t <= u < t + 1.0) for t in times) <= 3 + 4


async def test_a_deadline_leaves_the_rest_unchecked_by_name(
    settings: Settings, redis_url: str, seller: AgentContext
) -> None:
    slow = make_restrictions_sandbox_app(SandboxConfig(latency_s=0.5))
    assert seller.user_id is not None
    spot = await check_now(
        seller.settings,
        seller.user_id,
        [(a, None) for a in FREE[:12]],
        sandbox_app=slow,
        deadline_s=1.2,
    )
    # batches of five take 0.5 s each: the first is done, the third can not be
    assert spot.checked in (5, 10)
    assert spot.unchecked == FREE[spot.checked : 12]
    assert spot.stopped and "ran out" in spot.stopped


async def test_without_redis_the_answer_shows_unchecked_deals_and_says_so(
    settings: Settings, seller: AgentContext
) -> None:
    stock(settings, FREE[:5], [])
    graph = build_graph(InMemorySaver(), retrieve=no_knowledge)
    done, _ = await ask(graph, "textbooks I can sell", seller)
    result = done.tool_results[0]
    assert {d["asin"] for d in result["items"]} == set(FREE[:5])
    assert {d["gated"] for d in result["items"]} == {"pending"}
    assert (
        result["gating"]["shown_unchecked"] and "cannot be checked" in result["gating"]["stopped"]
    )
    assert "No deals match" not in done.answer
    assert done.answer.startswith("Not checked for gating yet (gating cannot be checked right")
    assert ", ".join(d["asin"] for d in result["items"]) in done.answer
    assert "No best pick" in done.answer  # an unchecked deal is never the pick


async def test_a_seller_without_an_account_is_told_to_connect_it(
    settings: Settings, redis_url: str, seller: AgentContext, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SPAPI_CLIENT_ID", "amzn1.application-oa2-client.x")
    monkeypatch.setenv("SPAPI_CLIENT_SECRET", "secret")
    reset_settings_cache()
    live = AgentContext(
        user_id=seller.user_id, user_name="sam", settings=get_settings(), renders_tables=True
    )
    stock(settings, FREE[:3], [])
    graph = build_graph(InMemorySaver(), retrieve=no_knowledge)
    done, _ = await ask(graph, "which deals can I sell?", live)
    gating = done.tool_results[0]["gating"]
    assert "connect your Amazon seller account" in gating["stopped"]
    assert len(done.tool_results[0]["items"]) == 3 and "connect your Amazon" in done.answer


async def test_when_every_match_is_gated_the_answer_says_gating_is_why(
    settings: Settings, redis_url: str, seller: AgentContext
) -> None:
    stock(settings, [], GATED[:3])
    graph = build_graph(InMemorySaver(), retrieve=no_knowledge)
    done, _ = await ask(graph, "textbooks I can sell", seller)
    assert done.tool_results[0]["items"] == []
    assert "No deals match" not in done.answer
    assert done.answer.startswith(
        "None of the 3 deals that match the rest of your search is one you can sell"
    )
    assert "include the gated ones" in done.answer


async def test_a_verdict_checks_an_unchecked_deal_first(
    settings: Settings, redis_url: str, seller: AgentContext
) -> None:
    stock(settings, FREE[:1], GATED[:1])
    graph = build_graph(InMemorySaver(), retrieve=no_knowledge)
    done, _ = await ask(graph, f"should I buy {GATED[0]}?", seller)
    assert done.tool_calls == [{"name": "deal_advice", "args": {"asin": GATED[0]}}]
    assert done.answer.startswith("Pass:") and "gated" in done.answer
    free, _ = await ask(graph, f"should I buy {FREE[0]}?", seller)
    assert free.tool_results[0]["deal"]["gated"] == "not_restricted"
    assert "not known yet" not in free.answer


async def test_a_verdict_on_a_deal_that_cannot_be_checked_says_gating_is_unknown(
    settings: Settings, seller: AgentContext
) -> None:
    stock(settings, FREE[:1], [])
    graph = build_graph(InMemorySaver(), retrieve=no_knowledge)
    for persona_question in (f"should I buy {FREE[0]}?", f"Joel, would you flip {FREE[0]}?"):
        done, _ = await ask(graph, persona_question, seller)
        assert "Gating is not known yet for you" in done.answer, done.answer
        assert "cannot be checked right now" in done.answer
