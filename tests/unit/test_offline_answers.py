"""What a seller reads in the offline model's answers (issue 17, items 2 and 7): the part of a
question no filter used is named, titles are cut with an ellipsis, counts agree with their
nouns, sentences never run together, numbers read the same in prose and table, and a question
the assistant cannot help with gets what it can help with instead of random knowledge."""

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


@pytest.fixture
def sam(settings: Settings) -> AgentContext:
    with session_scope(settings) as session:
        user = add_user(session, "sam")
        return AgentContext.for_user(user, settings=settings)


def no_knowledge(ctx: AgentContext, question: str) -> list[dict[str, Any]]:
    return []


async def test_an_answer_names_the_part_of_the_question_it_did_not_use(
    settings: Settings, sam: AgentContext
) -> None:
    seed(
        settings,
        make_deal("B0AAAAAAA1", publisher="Pearson Education"),
        make_deal("B0AAAAAAA2", publisher="Wiley"),
    )
    graph = build_graph(InMemorySaver(), retrieve=no_knowledge)
    r = await run_turn(graph, "hardcover books from Pearson under $30", thread_id="t", user=sam)
    assert r.tool_calls == [
        {"name": "search_deals", "args": {"publisher": "pearson", "max_price": 30.0}}
    ]
    assert "B0AAAAAAA1" in r.answer and "B0AAAAAAA2" not in r.answer
    assert "\n\nI did not use: 'hardcover'.\n\n" in r.answer
    full = await run_turn(graph, "Pearson books under $30", thread_id="u", user=sam)
    assert "did not use" not in full.answer
