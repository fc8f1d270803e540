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


def test_postgres_threads_keep_one_checkpoint_an_owner_and_are_forgotten(
    pg_settings: Settings,
) -> None:
    """On PostgreSQL too: only the latest checkpoint stays, another user's turn is refused, a
    forgotten thread is gone, and `arbitrage status` counts the checkpoints per thread."""
    from sqlalchemy import text

    from agent.checkpoints import ThreadNotYours
    from agent.context import AgentContext
    from agent.runner import forget_thread
    from tools.db import get_engine
    from tools.status import NO_CHAT, chat_storage

    migrate(pg_settings)
    ann = AgentContext(user_id=1, user_name="ann", settings=pg_settings)
    bob = AgentContext(user_id=2, user_name="bob", settings=pg_settings)

    def checkpoints() -> int:
        with get_engine(pg_settings).connect() as conn:
            return int(
                conn.execute(
                    text("SELECT count(*) FROM checkpoints WHERE thread_id = 'pg-owned'")
                ).scalar_one()
            )

    async def go() -> tuple[int, str, dict[str, dict[str, int]], int]:
        async with open_graph(pg_settings) as graph:
            for question in ("what sells in October?", "and in January?", "and in August?"):
                await run_turn(graph, question, thread_id="pg-owned", user=ann)
            kept = checkpoints()
            try:
                await run_turn(graph, "what did ann ask?", thread_id="pg-owned", user=bob)
                refused = "answered"
            except ThreadNotYours as err:
                refused = str(err)
            with get_engine(pg_settings).begin() as conn:  # Chainlit's rows of another chat
                conn.execute(
                    text("""INSERT INTO users ("id", "identifier", "metadata")
                                     VALUES ('u-ann', 'ann', '{}')""")
                )
                conn.execute(
                    text("""INSERT INTO threads ("id", "userId", "userIdentifier")
                                     VALUES ('pg-chat', 'u-ann', 'ann')""")
                )
                conn.execute(
                    text("""INSERT INTO steps ("id", "threadId", "name", "type",
                                     "streaming", "output", "metadata") VALUES ('s1',
                                     'pg-chat', 'ann', 'user_message', false, 'hello', '{}')""")
                )
            storage = chat_storage(pg_settings)
            await forget_thread(graph, "pg-owned")
        return kept, refused, storage, checkpoints()

    kept, refused, storage, left = asyncio.run(go())
    assert kept == 1
    assert "belongs to another account" in refused
    assert storage[NO_CHAT]["agent_bytes"] > 0  # no Chainlit thread: counted as "(no chat)"
    assert storage["ann"]["chats"] == 1 and storage["ann"]["history_bytes"] >= len("hello")
    assert left == 0
