"""Alerts and picks in words, through the agent graph with the offline model."""

from __future__ import annotations

from typing import Any

import pytest
from langgraph.checkpoint.memory import InMemorySaver
from sqlmodel import select

from agent.context import AgentContext
from agent.graph import build_graph
from agent.offline.alert_intents import plan
from agent.offline.tracking_intents import Call, Reply
from agent.runner import run_turn
from tests.unit.agent_helpers import add_user, make_deal, seed
from tools.alerts import store
from tools.db import session_scope
from tools.models import AlertState, SavedSearch
from tools.settings import Settings


def no_knowledge(ctx: AgentContext, question: str) -> list[dict[str, Any]]:
    return []


@pytest.fixture
def sellers(settings: Settings) -> tuple[AgentContext, AgentContext]:
    seed(settings, make_deal("0131103628", title="Nursing Fundamentals"))
    with session_scope(settings) as s:
        sam, kim = add_user(s, "sam"), add_user(s, "kim")
        return (
            AgentContext.for_user(sam, settings=settings),
            AgentContext.for_user(kim, settings=settings),
        )


@pytest.fixture
def graph() -> Any:
    return build_graph(InMemorySaver(), retrieve=no_knowledge)


def _calls(r: Any) -> list[tuple[str, dict[str, Any]]]:
    return [(c["name"], c["args"]) for c in r.tool_calls]


async def test_tell_me_when_saves_an_alert_then_list_pause_change_delete(
    graph: Any, sellers: tuple[AgentContext, AgentContext], settings: Settings
) -> None:
    sam, kim = sellers
    r = await run_turn(
        graph,
        "tell me when a nursing book under $30 with ROI over 50% shows up",
        thread_id="t",
        user=sam,
    )
    ((name, args),) = _calls(r)
    assert name == "alert_create"
    assert (args["text"], args["max_price"], args["min_roi"]) == ("nursing", 30.0, 50.0)
    assert "Saved alert #" in r.answer
    r = await run_turn(graph, "my alerts", thread_id="t", user=sam)
    assert "You have 1 alert" in r.answer and "nursing" in r.answer
    r = await run_turn(graph, "pause it", thread_id="t", user=sam)
    assert _calls(r)[0][0] == "alert_change" and "(paused)" in r.answer
    r = await run_turn(graph, "change it to under $25", thread_id="t", user=sam)
    assert _calls(r)[0][1]["max_price"] == 25.0
    with session_scope(settings) as s:
        (row,) = s.exec(select(SavedSearch)).all()
        assert row.query == {"text": "nursing", "max_price": 25.0, "min_roi": 50.0}
        assert row.active is False
    # another seller neither sees nor touches it
    r = await run_turn(graph, "my alerts", thread_id="k", user=kim)
    assert "no alerts yet" in r.answer
    r = await run_turn(graph, f"delete alert #{row.id}", thread_id="k", user=kim)
    assert "no alert named or numbered" in r.answer
    r = await run_turn(graph, f"delete alert #{row.id}", thread_id="t", user=sam)
    assert "Deleted the alert" in r.answer


async def test_deals_matching_at_creation_are_counted_and_not_sent_again(
    graph: Any, sellers: tuple[AgentContext, AgentContext], settings: Settings
) -> None:
    sam, _ = sellers
    r = await run_turn(graph, "watch for nursing books", thread_id="t", user=sam)
    assert "1 deal matches right now" in r.answer
    with session_scope(settings) as s:
        (state,) = s.exec(select(AlertState)).all()
        assert state.asin == "0131103628" and state.matching


async def test_delivery_settings_and_picks_in_words(
    graph: Any, sellers: tuple[AgentContext, AgentContext], settings: Settings
) -> None:
    sam, _ = sellers
    r = await run_turn(
        graph,
        "email my alerts to sam@example.com, quiet hours 10pm to 7am",
        thread_id="t",
        user=sam,
    )
    assert _calls(r) == [
        ("alert_settings", {"email": "sam@example.com", "quiet_start": 22, "quiet_end": 7})
    ]
    assert "email to sam@example.com" in r.answer and "quiet 22:00-07:00" in r.answer
    r = await run_turn(
        graph, "send my alerts to the webhook http://192.168.1.5/hook", thread_id="t", user=sam
    )
    assert "cannot be used" in r.answer and "internal address" in r.answer
    with session_scope(settings) as s:
        assert store.get_alert_settings(s, sam.user_id or 0).webhook_url is None
    r = await run_turn(graph, "show today's picks", thread_id="t", user=sam)
    assert _calls(r) == [("picks_show", {})]
    assert "Ava's picks (1)" in r.answer and "gating not checked yet" in r.answer


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("let me know if a biology textbook drops below $20", ("alert_create", "max_price")),
        ("alert me about cheap anatomy books under $15", ("alert_create", "max_price")),
        ("Notify me whenever a book with profit over $20 appears", ("alert_create", "min_profit")),
        ("what am I watching?", ("alert_list", None)),
        ("any new alerts?", ("alerts_inbox", None)),
        ("resume alert #4", ("alert_change", "active")),
        ("stop the nursing alert", ("alert_change", "active")),
        ("hourly digest please", ("alert_settings", "digest")),
        ("my time zone is America/Chicago", ("alert_settings", "timezone")),
        ("turn off the daily picks", ("alert_settings", "picks_count")),
        ("ava's picks", ("picks_show", None)),
    ],
)
def test_phrasings(text: str, expected: tuple[str, str | None]) -> None:
    step = plan(text, last_alert=None)
    assert isinstance(step, Call), step
    assert step.tool == expected[0]
    if expected[1]:
        assert expected[1] in step.args


@pytest.mark.parametrize(
    "text",
    [
        "show me nursing books under $30",  # a search, not an alert
        "change it to under $25",  # refines the thread's search when no alert was named
        "what is the ROI of 0131103628?",
        "add 0131103628 to my buy list",
    ],
)
def test_not_about_alerts(text: str) -> None:
    assert plan(text, last_alert=None) is None


def test_an_alert_without_filters_asks_what_to_watch() -> None:
    step = plan("tell me when", last_alert=None)
    assert isinstance(step, Reply) and "What should I watch for" in step.text


@pytest.mark.parametrize(
    "text", ["tell me about 0131103628", "let me know what sells in August", "tell me more"]
)
def test_questions_that_start_like_an_alert_are_questions(text: str) -> None:
    assert plan(text, last_alert=None) is None


@pytest.mark.parametrize("text", ["delete purchase #1", "remove #2 from my buy list"])
def test_numbered_things_that_are_not_alerts(text: str) -> None:
    assert plan(text, last_alert="1") is None
