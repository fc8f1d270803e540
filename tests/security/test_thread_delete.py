"""A deleted chat's history is gone, and a chat's history is only its owner's (issue 16, item 7).

Deleting a chat used to delete Chainlit's rows only: the agent's checkpoints stayed, and
whoever knew the thread id could open a chat with that id and talk on top of the old history
(Chainlit checks a thread id against its own row, which was gone). Now deleting a chat deletes
its checkpoints, and each thread's state names its owner, so another user's turn is refused
even where Chainlit has no row to check.
"""

from __future__ import annotations

import asyncio
import sqlite3
import uuid
from collections.abc import Callable
from typing import Any

import httpx
import pytest

from agent.checkpoints import ThreadNotYours
from agent.context import AgentContext
from tests.e2e.harness import ChatClient, ChatServer, login
from tests.unit.chat_history import http_context
from tools.settings import Settings

SECRET = "My supplier code is ZEBRA-42"


async def _human_messages(graph: Any, thread_id: str) -> list[str]:
    snap = await graph.aget_state({"configurable": {"thread_id": thread_id}})
    return [str(m.content) for m in (snap.values or {}).get("messages", []) if m.type == "human"]


def test_deleting_a_chat_deletes_its_history_and_nobody_else_resumes_it(settings: Settings) -> None:
    from chainlit.user import User

    from agent.graph import open_graph
    from agent.runner import forget_thread, run_turn
    from chat_ui.actor import Actor, acting_as
    from chat_ui.data_layer import make_data_layer

    ann = AgentContext(user_id=1, user_name="ann", settings=settings)
    bob = AgentContext(user_id=2, user_name="bob", settings=settings)

    async def go() -> dict[str, Any]:
        out: dict[str, Any] = {}
        async with open_graph(settings) as graph:
            layer = make_data_layer(settings, forget_thread=lambda t: forget_thread(graph, t))
            http_context()
            user = await layer.create_user(User(identifier="ann", metadata={}))
            assert user is not None
            thread = str(uuid.uuid4())
            await layer.update_thread(thread, name="Ann's chat", user_id=user.id)
            await run_turn(graph, SECRET, thread_id=thread, user=ann)
            # Chainlit's row is not there (not written yet, or gone): the state still says whose
            await layer.execute_sql('DELETE FROM threads WHERE "id" = :id', {"id": thread})
            try:
                await run_turn(graph, "what is my supplier code?", thread_id=thread, user=bob)
                out["bob_before_delete"] = "answered"
            except ThreadNotYours as refused:
                out["bob_before_delete"] = str(refused)
            out["ann_history"] = await _human_messages(graph, thread)

            await layer.update_thread(thread, name="Ann's chat", user_id=user.id)
            with acting_as(Actor("ann")):
                await layer.delete_thread(thread)
            await layer.close()
            with sqlite3.connect(settings.data_dir / "checkpoints.db") as conn:
                out["checkpoints_left"] = conn.execute(
                    "SELECT count(*) FROM checkpoints WHERE thread_id = ?", (thread,)
                ).fetchone()[0]
            await run_turn(graph, "what is my supplier code?", thread_id=thread, user=bob)
            out["bob_history"] = await _human_messages(graph, thread)
        return out

    out = asyncio.run(go())
    assert out["ann_history"] == [SECRET]
    assert "belongs to another account" in out["bob_before_delete"]
    assert out["checkpoints_left"] == 0
    assert out["bob_history"] == ["what is my supplier code?"]  # a new chat, not Ann's history


@pytest.mark.e2e
@pytest.mark.timeout(180)
def test_a_deleted_chat_opened_by_id_has_no_history(
    chat: ChatServer, make_user: Callable[..., tuple[str, str]]
) -> None:
    server = chat
    seller, other_user = (login(server.url, *make_user()) for _ in range(2))

    async def go() -> tuple[int, list[bytes]]:
        client = ChatClient(server.url, seller, chat_profile="Ava")
        await client.connect()
        await client.send(SECRET)
        await client.close()
        await asyncio.sleep(0.5)  # history writes are batched
        async with httpx.AsyncClient(base_url=server.url, timeout=30) as http:
            r = await http.request(
                "DELETE",
                "/project/thread",
                headers={"Cookie": seller},
                json={"threadId": client.thread_id},
            )
        # someone else opens a chat with the deleted thread's id and asks about it
        other = ChatClient(server.url, other_user, chat_profile="Ava", thread_id=client.thread_id)
        await other.connect()
        await other.send("What did I tell you about my supplier?")
        await other.close()
        with sqlite3.connect(server.data_dir / "checkpoints.db") as conn:
            blobs = [
                row[0]
                for row in conn.execute(
                    "SELECT checkpoint FROM checkpoints WHERE thread_id = ? UNION ALL "
                    "SELECT value FROM writes WHERE thread_id = ?",
                    (client.thread_id, client.thread_id),
                )
            ]
        return r.status_code, blobs

    status, blobs = asyncio.run(go())
    assert status == 200
    assert blobs, "the new chat on that id was checkpointed"
    assert not any(b"ZEBRA-42" in blob for blob in blobs), "the deleted chat's history is back"
