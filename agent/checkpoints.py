"""A thread's checkpoints: whose they are, only the latest kept, all gone when it is deleted.

Ownership. The chat's thread ids come from the browser, and Chainlit checks them against its
own thread row only, which is gone once the thread is deleted (or not written yet). So each
thread's state records its owner (the `owner` channel, set by the first turn of a signed-in
user), and a turn by anyone else is refused before anything runs or is written.

Size. Every turn checkpoints the whole conversation again (the messages channel is stored
whole), so each older checkpoint of a thread is a copy of its past and a thread's storage grew
with the square of its length. After each turn only the latest checkpoint is kept: LangGraph's
`aprune(keep_latest)` on PostgreSQL, the same deletes by hand on SQLite (its async saver has no
prune). The graph's channels are plain (no DeltaChannel), so the latest checkpoint is whole.
"""

from __future__ import annotations

from typing import Any

from agent.context import AgentContext

OWNER = "owner"


class ThreadNotYours(PermissionError):
    """A turn in a thread that belongs to another user."""


def owner_of(ctx: AgentContext) -> str | None:
    """The owner a caller's threads are recorded with (None: an anonymous caller)."""
    return None if ctx.user_id is None else f"user:{ctx.user_id}"


def _config(thread_id: str) -> dict[str, Any]:
    return {"configurable": {"thread_id": thread_id, "checkpoint_ns": ""}}


async def check_owner(saver: Any, thread_id: str, ctx: AgentContext) -> dict[str, Any]:
    """Refuse (ThreadNotYours) a caller who does not own the thread; else the state update
    that records the caller as its owner (empty for an anonymous caller)."""
    owner = owner_of(ctx)
    if saver is not None:
        saved = await saver.aget_tuple(_config(thread_id))
        values = (saved.checkpoint.get("channel_values") or {}) if saved else {}
        recorded = values.get(OWNER)
        if recorded is not None and recorded != owner:
            raise ThreadNotYours(
                "This conversation belongs to another account: start a new chat instead."
            )
    return {} if owner is None else {OWNER: owner}


_SQLITE_KEEP_LATEST = (
    """DELETE FROM checkpoints WHERE thread_id = :t AND checkpoint_id NOT IN (
           SELECT max(checkpoint_id) FROM checkpoints WHERE thread_id = :t
           GROUP BY checkpoint_ns)""",
    """DELETE FROM writes WHERE thread_id = :t AND NOT EXISTS (
           SELECT 1 FROM checkpoints c WHERE c.thread_id = writes.thread_id
           AND c.checkpoint_ns = writes.checkpoint_ns
           AND c.checkpoint_id = writes.checkpoint_id)""",
)


async def keep_latest(saver: Any, thread_id: str) -> None:
    """Delete every checkpoint of the thread but the latest (and their pending writes)."""
    if saver is None:
        return
    from langgraph.checkpoint.sqlite.aio import AsyncSqliteSaver

    if isinstance(saver, AsyncSqliteSaver):
        async with saver.lock, saver.conn.cursor() as cur:
            for statement in _SQLITE_KEEP_LATEST:
                await cur.execute(statement, {"t": str(thread_id)})
            await saver.conn.commit()
        return
    try:
        await saver.aprune([str(thread_id)], strategy="keep_latest")
    except NotImplementedError:  # a saver without pruning (the in-memory one in tests)
        return


async def forget(saver: Any, thread_id: str) -> None:
    """Delete all of a thread's checkpoints: a deleted chat's history is gone for good."""
    if saver is not None:
        await saver.adelete_thread(str(thread_id))
