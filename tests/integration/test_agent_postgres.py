"""Production shape: the agent's threads live in PostgreSQL (AsyncPostgresSaver) and resume."""

from __future__ import annotations

import asyncio

import pytest

from agent.graph import open_graph
from agent.runner import run_turn
from tests.unit.agent_helpers import make_deal, seed
from tools.db import migrate
from tools.settings import Settings

pytestmark = [pytest.mark.integration, pytest.mark.postgres]


def test_offline_thread_is_checkpointed_in_postgres_and_resumes(pg_settings: Settings) -> None:
    migrate(pg_settings)
    seed(pg_settings, *(make_deal(f"B0PGTEST{i:02d}", price_now=10.0 + i) for i in range(12)))

    async def two_turns() -> tuple:
        async with open_graph(pg_settings) as graph:
            first = await run_turn(graph, "top 3 deals under $40 by ROI", thread_id="pg-thread")
        # a new process would open the graph again: the thread must still be there
        async with open_graph(pg_settings) as graph:
            state = await graph.aget_state({"configurable": {"thread_id": "pg-thread"}})
            second = await run_turn(graph, "and the most profit?", thread_id="pg-thread")
            after = await graph.aget_state({"configurable": {"thread_id": "pg-thread"}})
        return first, state, second, after

    first, state, second, after = asyncio.run(two_turns())
    assert [c["name"] for c in first.tool_calls] == ["search_deals"]
    assert first.tool_calls[0]["args"].get("max_price") == 40
    assert state.values["messages"], "the first turn was saved in PostgreSQL"
    assert len(after.values["messages"]) > len(state.values["messages"])
    assert second.answer
