"""The seller's loop through the agent graph with the offline model: words in, tool calls,
answers a seller can act on; and one seller never reaches another's rows."""

from __future__ import annotations

from typing import Any

import pytest
from langgraph.checkpoint.memory import InMemorySaver

from agent.context import AgentContext
from agent.graph import build_graph
from agent.runner import run_turn
from tests.unit.agent_helpers import add_user, make_deal, seed
from tools.db import session_scope
from tools.settings import Settings
from tools.tracking.purchases import list_purchases
from tools.users import get_user

ASIN = "0131103628"


def no_knowledge(ctx: AgentContext, question: str) -> list[dict[str, Any]]:
    return []


@pytest.fixture
def sellers(settings: Settings) -> tuple[AgentContext, AgentContext]:
    seed(settings, make_deal(ASIN, title="The C Programming Language"))
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


async def test_buy_list_add_show_and_clear_in_words(
    graph: Any, sellers: tuple[AgentContext, AgentContext]
) -> None:
    sam, _ = sellers
    r = await run_turn(graph, "add 0131103628 to my buy list", thread_id="t", user=sam)
    assert _calls(r) == [("buy_list_add", {"asin": ASIN})]
    assert "Added The C Programming Language" in r.answer and "profit $34.96" in r.answer
    r = await run_turn(graph, "show my buy list", thread_id="t", user=sam)
    assert "1 deal, all as good as when you added them" in r.answer
    r = await run_turn(graph, "clear the ones that are gone", thread_id="t", user=sam)
    assert "none of your 1 buy list deals is gone" in r.answer
    r = await run_turn(graph, "take it off my buy list", thread_id="t", user=sam)
    assert _calls(r) == [("buy_list_remove", {"asins": [ASIN]})]


async def test_a_purchase_in_words_answers_with_its_minimum_list_price(
    graph: Any, sellers: tuple[AgentContext, AgentContext], settings: Settings
) -> None:
    sam, _ = sellers
    r = await run_turn(
        graph,
        "I bought 3 of 0131103628 at $12.40, used good, order 112-1234567-1234567",
        thread_id="t",
        user=sam,
    )
    assert _calls(r) == [
        (
            "record_purchase",
            {
                "asin": ASIN,
                "order_number": "112-1234567-1234567",
                "quantity": 3,
                "unit_cost": 12.4,
                "condition": "used_good",
            },
        )
    ]
    assert "3 × The C Programming Language (0131103628) at $12.40 each (used good" in r.answer
    assert "minimum list price $33.41 (break-even $29.48" in r.answer
    assert "List at $80.00" in r.answer and "predicted profit $42.94 a unit" in r.answer
    with session_scope(settings) as s:
        user = get_user(s, "sam")
        assert user is not None
        [p] = list_purchases(s, user)
    r = await run_turn(graph, f"change purchase #{p.id} cost to $11.50", thread_id="t", user=sam)
    assert "Updated purchase" in r.answer and "at $11.50 each" in r.answer
    r = await run_turn(graph, "show my purchases", thread_id="t", user=sam)
    assert f"#{p.id}" in r.answer and "none sold" in r.answer
    r = await run_turn(graph, f"delete purchase #{p.id}", thread_id="t", user=sam)
    assert f"Deleted purchase #{p.id} (3 × {ASIN})" in r.answer


async def test_a_purchase_without_a_price_is_asked_for(
    graph: Any, sellers: tuple[AgentContext, AgentContext]
) -> None:
    r = await run_turn(graph, "I bought 2 of 0131103628", thread_id="t", user=sellers[0])
    assert r.tool_calls == [] and "What did you pay per copy of 0131103628?" in r.answer


async def test_one_seller_cannot_see_or_change_anothers_buy_list_or_purchases(
    graph: Any, sellers: tuple[AgentContext, AgentContext]
) -> None:
    sam, kim = sellers
    await run_turn(graph, "add 0131103628 to my buy list", thread_id="s", user=sam)
    r = await run_turn(graph, "I bought 1 of 0131103628 at $5", thread_id="s", user=sam)
    pid = r.tool_results[0]["id"]
    r = await run_turn(graph, "show my buy list", thread_id="k", user=kim)
    assert "Your buy list is empty" in r.answer
    r = await run_turn(graph, "show my purchases", thread_id="k", user=kim)
    assert "no purchases recorded" in r.answer
    for text in (f"delete purchase #{pid}", f"change purchase #{pid} cost to $1"):
        r = await run_turn(graph, text, thread_id="k", user=kim)
        assert f"you have no purchase #{pid}" in r.answer
    r = await run_turn(graph, "show my purchases", thread_id="s", user=sam)
    assert f"#{pid}" in r.answer and "at $5.00" in r.answer


async def test_a_guest_is_told_to_sign_in(graph: Any, settings: Settings) -> None:
    guest = AgentContext(settings=settings)
    r = await run_turn(graph, "show my buy list", thread_id="g", user=guest)
    assert "sign in first" in r.answer
