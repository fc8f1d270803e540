"""One seller cannot fill the disk with chat history (issue 16, item 5).

Every turn used to store the whole conversation again: each checkpoint of a thread held all
its messages and every checkpoint was kept, so five 200 KB messages added 0.2, 0.4, 0.6, 0.8
and 1.0 MB. Now a message over the cap is refused (and not stored), only a thread's latest
checkpoint is kept, and the history in the agent's state is bounded.
"""

from __future__ import annotations

import asyncio
import re
import sqlite3
from collections.abc import Callable
from pathlib import Path

import pytest

from agent.context import AgentContext
from tests.e2e.harness import ChatClient, ChatServer, login
from tools.settings import Settings

QUESTIONS = (
    "what do you think about buying textbooks in October?",
    "and how long should I hold a used textbook before the January peak?",
    "which categories sell year-round?",
)


def _thread_bytes(db: Path, thread_id: str) -> int:
    """What the agent keeps for one thread: its checkpoints and their pending writes."""
    with sqlite3.connect(db) as conn:
        return int(
            conn.execute(
                "SELECT (SELECT coalesce(sum(length(checkpoint) + length(metadata)), 0) "
                "FROM checkpoints WHERE thread_id = :t) + (SELECT coalesce(sum(length(value)), 0) "
                "FROM writes WHERE thread_id = :t)",
                {"t": thread_id},
            ).fetchone()[0]
        )


def test_stored_size_per_turn_does_not_grow_with_the_conversation(settings: Settings) -> None:
    from agent.graph import open_graph
    from agent.runner import run_turn

    # a small history budget, so the test reaches it in a few turns (the default is 8,000)
    small = Settings(data_dir=settings.data_dir, chat_history_tokens=2_000)
    ctx = AgentContext(user_id=1, user_name="ann", settings=small)
    turns = 30

    async def go() -> tuple[list[int], list[str]]:
        sizes = []
        async with open_graph(small) as graph:
            for i in range(turns):
                await run_turn(
                    graph, f"{i}: {QUESTIONS[i % len(QUESTIONS)]}", thread_id="t-growth", user=ctx
                )
                sizes.append(_thread_bytes(small.checkpoints_path, "t-growth"))
            snap = await graph.aget_state({"configurable": {"thread_id": "t-growth"}})
        kept = snap.values["messages"]
        assert kept[0].type == "human", "the kept history starts at a question"
        return sizes, [str(m.content) for m in kept if m.type == "human"]

    sizes, questions = asyncio.run(go())
    added = [b - a for a, b in zip([0, *sizes], sizes, strict=False)]
    early, late = max(added[1:6]), max(added[-5:])
    # a turn costs about its own size: the 30th no more than the 2nd-6th (it used to cost the
    # whole conversation again, ~15x as much by then)
    assert late <= 2 * early, f"turn cost grew from {early:,} to {late:,} bytes"
    # and the thread stops growing once its history reaches the budget
    assert sizes[-1] <= 1.1 * sizes[19], f"{sizes[19]:,} B after 20 turns, {sizes[-1]:,} after 30"
    assert questions[-1].startswith(f"{turns - 1}: ") and not questions[0].startswith("0: ")


def test_status_shows_each_users_chat_storage(settings: Settings) -> None:
    import json

    from chainlit.user import User
    from typer.testing import CliRunner

    from agent.graph import open_graph
    from agent.runner import run_turn
    from chat_ui.cli import app
    from chat_ui.data_layer import make_data_layer
    from tests.unit.chat_history import http_context

    async def go() -> None:
        layer = make_data_layer(settings)
        http_context()
        for name, uid, turns in (("ann", 1, 3), ("bob", 2, 1)):
            user = await layer.create_user(User(identifier=name, metadata={}))
            assert user is not None
            await layer.update_thread(f"chat-{name}", user_id=user.id)
            await layer.create_step(
                {
                    "id": f"step-{name}",
                    "threadId": f"chat-{name}",
                    "name": name,
                    "type": "user_message",
                    "streaming": False,
                    "output": QUESTIONS[0],
                }
            )
            async with open_graph(settings) as graph:
                for i in range(turns):
                    await run_turn(
                        graph,
                        QUESTIONS[i],
                        thread_id=f"chat-{name}",
                        user=AgentContext(user_id=uid, user_name=name, settings=settings),
                    )
        await layer.close()

    asyncio.run(go())
    res = CliRunner().invoke(app, ["status", "--json"])
    storage = json.loads(res.stdout)["chat_storage"]
    assert list(storage) == ["ann", "bob"]  # biggest first
    assert storage["ann"]["chats"] == 1 and storage["ann"]["history_bytes"] >= len(QUESTIONS[0])
    assert storage["ann"]["agent_bytes"] > storage["bob"]["agent_bytes"] > 0
    text = CliRunner().invoke(app, ["status"], env={"COLUMNS": "200"}).output
    assert "Chat storage: ann " in text and "(1 chat)" in text


def _stored_bytes(server: ChatServer, thread_id: str) -> int:
    """All the chat keeps of one conversation: Chainlit's steps and the agent's checkpoints."""
    with sqlite3.connect(server.data_dir / "arbitrage.db") as conn:
        steps = conn.execute(
            "SELECT coalesce(sum(length(output) + length(coalesce(input, ''))),"
            ' 0) FROM steps WHERE "threadId" = ?',
            (thread_id,),
        ).fetchone()[0]
    return int(steps) + _thread_bytes(server.data_dir / "checkpoints.db", thread_id)


@pytest.mark.e2e
@pytest.mark.timeout(180)
def test_five_huge_messages_are_refused_and_not_stored(
    chat: ChatServer, make_user: Callable[..., tuple[str, str]]
) -> None:
    server = chat
    seller = login(server.url, *make_user())

    async def go() -> tuple[list[str], int, int]:
        client = ChatClient(server.url, seller, chat_profile="Ava")
        await client.connect()
        await client.send("hello")  # the thread exists
        await asyncio.sleep(0.5)
        before = _stored_bytes(server, client.thread_id)
        answers = []
        for i in range(5):
            turn = await client.send(f"{i} " + "deal " * 40_000, timeout=60)  # 200 KB
            answers.append(turn.answer)
        await asyncio.sleep(0.5)  # history writes are batched
        after = _stored_bytes(server, client.thread_id)
        await client.close()
        return answers, before, after

    answers, before, after = asyncio.run(go())
    assert all(re.search(r"Messages are limited to [\d,]+ characters", a) for a in answers)
    # a refused message keeps a short excerpt and the refusal, not 200 KB
    assert after - before < 5 * 2_000, f"stored {after - before:,} bytes"
