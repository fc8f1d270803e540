"""The one place the chat UI touches the agent package: graph lifetime, inputs and run context.

One compiled graph (with its async checkpointer) per server process, opened on first use and
closed on shutdown. The Chainlit thread id is the LangGraph thread id, so a resumed chat
continues the same checkpointed conversation.
"""

from __future__ import annotations

import asyncio
import contextlib
from typing import Any

from tools.settings import Settings, get_settings

_graph: Any = None
_stack: contextlib.AsyncExitStack | None = None
_lock = asyncio.Lock()


async def get_graph(settings: Settings | None = None) -> Any:
    """The process's compiled graph (opened once: the checkpointer connection is shared)."""
    global _graph, _stack
    if _graph is not None:
        return _graph
    async with _lock:
        if _graph is None:
            from agent.graph import open_graph

            stack = contextlib.AsyncExitStack()
            _graph = await stack.enter_async_context(open_graph(settings or get_settings()))
            _stack = stack
    return _graph


async def close_graph() -> None:
    global _graph, _stack
    if _stack is not None:
        await _stack.aclose()
    _graph, _stack = None, None


async def forget_thread(thread_id: str) -> None:
    """Delete a chat's agent checkpoints (the chat was deleted: nobody may resume them)."""
    from agent.runner import forget_thread as forget

    await forget(await get_graph(), thread_id)


def make_context(*, user_id: int | None, user_name: str, role: str, persona: str | None) -> Any:
    """The agent's run context (user id, role, persona) for this turn.

    Ava's profile passes no persona: the router then decides (a question addressed to a
    mentor by name still reaches that mentor); a mentor profile pins the persona. The chat
    draws deal lists as a DealTable element, so answers summarize them (`renders_tables`).
    """
    from agent.context import AgentContext

    return AgentContext(
        user_id=user_id,
        user_name=user_name,
        role=role,
        persona=None if persona in (None, "ava") else persona,
        settings=get_settings(),
        renders_tables=True,
    )
