"""One turn through the graph, for `arbitrage ask` and the Chainlit UI.

`run_turn` returns the answer with the tool calls and results of that turn; `stream_turn`
yields the same turn as events (answer tokens, tool calls, tool results, an interrupt);
`resume_turn` answers an interrupt (the admin's knowledge approval).

Each turn first checks that the caller owns the thread (agent/checkpoints.py: the thread's
state names its owner), and after it only the thread's latest checkpoint is kept.
`forget_thread` deletes a thread's checkpoints (a deleted chat).
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from dataclasses import asdict, dataclass, field
from typing import Any

from langchain_core.messages import AIMessage, AIMessageChunk, HumanMessage, ToolMessage
from langgraph.types import Command

from agent.checkpoints import check_owner, forget, keep_latest
from agent.context import AgentContext
from agent.personas import PERSONAS
from tools.models import User


@dataclass
class TurnResult:
    answer: str
    persona: str
    model: str
    tool_calls: list[dict[str, Any]] = field(default_factory=list)
    tool_results: list[Any] = field(default_factory=list)
    interrupt: Any = None
    thread_id: str | None = None
    search: dict[str, Any] | None = None  # the thread's current deal search after the turn

    def as_json(self) -> dict[str, Any]:
        """What `arbitrage ask --json` prints (plus the thread's current search, if any)."""
        out = asdict(self)
        out.pop("thread_id")
        if out["interrupt"] is None:
            out.pop("interrupt")
        if out["search"] is None:
            out.pop("search")
        return out


@dataclass
class TurnEvent:
    """kind: token | tool_call | tool_result | progress | interrupt | done."""

    kind: str
    data: Any
    persona: str | None = None


def make_context(user: AgentContext | User | None, persona: str | None = None) -> AgentContext:
    if isinstance(user, AgentContext):
        if persona and persona != user.persona:
            from dataclasses import replace

            return replace(user, persona=persona)
        return user
    return AgentContext.for_user(user, persona=persona)


def check_persona(persona: str | None) -> str | None:
    if persona is None:
        return None
    key = persona.strip().lower()
    if key not in PERSONAS:
        raise ValueError(f"unknown persona {persona!r}: one of {', '.join(PERSONAS)}")
    return key


# A chat turn is checkpointed once, when it ends (or stops at an interrupt): a crash mid-turn
# loses only that turn, and the turn skips a database write per step.
DURABILITY = "exit"


def _config(thread_id: str) -> dict[str, Any]:
    return {"configurable": {"thread_id": thread_id}}


def _result_data(msg: ToolMessage) -> Any:
    content = msg.content if isinstance(msg.content, str) else json.dumps(msg.content)
    try:
        data = json.loads(content)
    except ValueError:
        data = content
    if msg.status == "error":
        return {"error": content}
    return data


def _result(
    values: dict[str, Any], interrupts: Any, thread_id: str, turn_start_id: str | None
) -> TurnResult:
    """The TurnResult from the thread's values after a turn (the turn starts at the human
    message `turn_start_id`, or at the last human message when None)."""
    messages = list(values.get("messages") or [])
    start = 0
    for i, m in enumerate(messages):
        if isinstance(m, HumanMessage) and (turn_start_id is None or m.id == turn_start_id):
            start = i
    turn = messages[start + 1 :]
    calls = [
        {"name": c["name"], "args": c["args"]}
        for m in turn
        if isinstance(m, AIMessage)
        for c in m.tool_calls
    ]
    results = [_result_data(m) for m in turn if isinstance(m, ToolMessage)]
    answer_msg = next(
        (m for m in reversed(turn) if isinstance(m, AIMessage) and not m.tool_calls), None
    )
    model = ""
    for m in reversed(turn):
        if isinstance(m, AIMessage):
            meta = m.response_metadata or {}
            model = str(meta.get("model_name") or meta.get("model") or "")
            if model:
                break
    pending = [getattr(i, "value", i) for i in interrupts or ()]
    answer = "" if answer_msg is None or pending else str(answer_msg.content)
    return TurnResult(
        answer=answer,
        persona=str(values.get("persona") or "ava"),
        model=model,
        tool_calls=calls,
        tool_results=results,
        interrupt=pending[0] if pending else None,
        thread_id=thread_id,
        search=values.get("search"),
    )


async def _collect(graph: Any, thread_id: str, turn_start_id: str | None) -> TurnResult:
    """The TurnResult read back from the checkpoint (a resumed turn began before the resume)."""
    snap = await graph.aget_state(_config(thread_id))
    return _result(snap.values or {}, getattr(snap, "interrupts", ()), thread_id, turn_start_id)


async def run_turn(
    graph: Any,
    text: str,
    *,
    thread_id: str,
    user: AgentContext | User | None = None,
    persona: str | None = None,
) -> TurnResult:
    """Ask one question in a thread and wait for the answer (or an interrupt)."""
    ctx = make_context(user, check_persona(persona))
    owner = await check_owner(graph.checkpointer, thread_id, ctx)
    human = HumanMessage(content=text)
    out = await graph.ainvoke(
        {"messages": [human], **owner}, _config(thread_id), context=ctx, durability=DURABILITY
    )
    await keep_latest(graph.checkpointer, thread_id)
    # the final values are the thread's state: no second checkpoint read to collect the turn
    return _result(out, out.get("__interrupt__"), thread_id, human.id)


async def resume_turn(
    graph: Any,
    decision: Any,
    *,
    thread_id: str,
    user: AgentContext | User | None = None,
    persona: str | None = None,
) -> TurnResult:
    """Answer the pending interrupt (e.g. knowledge approval) and finish the turn."""
    ctx = make_context(user, check_persona(persona))
    await check_owner(graph.checkpointer, thread_id, ctx)
    await graph.ainvoke(
        Command(resume=decision), _config(thread_id), context=ctx, durability=DURABILITY
    )
    await keep_latest(graph.checkpointer, thread_id)
    return await _collect(graph, thread_id, None)


async def stream_turn(
    graph: Any,
    text: str | None,
    *,
    thread_id: str,
    user: AgentContext | User | None = None,
    persona: str | None = None,
    resume: Any = None,
) -> AsyncIterator[TurnEvent]:
    """The turn as events: answer tokens as they come, tool calls and results, an interrupt,
    and finally `done` with the TurnResult. Pass `resume=` (and text=None) to continue."""
    ctx = make_context(user, check_persona(persona))
    owner = await check_owner(graph.checkpointer, thread_id, ctx)
    human = HumanMessage(content=text) if text is not None else None
    payload: Any = {"messages": [human], **owner} if human is not None else Command(resume=resume)
    # the turn as it streams by, so a new turn's result needs no checkpoint read at the end
    # (its `search` is the one this turn made, if any: the chat does not need an older one)
    seen: dict[str, Any] = {"messages": [human] if human is not None else []}
    interrupts: list[Any] = []
    async for mode, chunk in graph.astream(
        payload,
        _config(thread_id),
        context=ctx,
        stream_mode=["messages", "updates", "custom"],
        durability=DURABILITY,
    ):
        if mode == "custom":  # a tool's progress (gating checked on the spot)
            if isinstance(chunk, dict):
                yield TurnEvent("progress", chunk)
            continue
        if mode == "messages":
            msg, meta = chunk
            node = meta.get("langgraph_node")
            if isinstance(msg, AIMessageChunk) and node in PERSONAS and msg.content:
                yield TurnEvent("token", msg.content, node)
            continue
        for node, update in (chunk or {}).items():
            if node == "__interrupt__":
                for it in update:
                    interrupts.append(it)
                    yield TurnEvent("interrupt", it.value)
                continue
            # a node's update is a dict; the tool node's, when tools return Commands, a list
            parts = update if isinstance(update, list) else [update]
            new: list[Any] = []
            for part in parts:
                if not isinstance(part, dict):
                    continue
                if part.get("persona"):
                    seen["persona"] = part["persona"]
                if part.get("search") is not None:
                    seen["search"] = part["search"]
                new.extend(part.get("messages") or [])
            seen["messages"].extend(new)
            for m in new:
                if isinstance(m, AIMessage) and m.tool_calls:
                    for c in m.tool_calls:
                        yield TurnEvent(
                            "tool_call", {"name": c["name"], "args": c["args"], "id": c["id"]}, node
                        )
                elif isinstance(m, ToolMessage):
                    yield TurnEvent(
                        "tool_result",
                        {
                            "name": m.name,
                            "id": m.tool_call_id,
                            "data": _result_data(m),
                            "artifact": m.artifact,
                            "status": m.status,  # "error" when the tool raised
                        },
                    )
    await keep_latest(graph.checkpointer, thread_id)
    if human is None:
        yield TurnEvent("done", await _collect(graph, thread_id, None))
    else:
        yield TurnEvent("done", _result(seen, interrupts, thread_id, human.id))


async def forget_thread(graph: Any, thread_id: str) -> None:
    """Delete every checkpoint of a thread: its history can not be resumed by anyone."""
    await forget(graph.checkpointer, thread_id)


async def ask_once(
    text: str,
    *,
    persona: str | None = None,
    user_name: str | None = None,
    settings: Any = None,
    thread_id: str | None = None,
) -> TurnResult:
    """One question through the real graph with its checkpointer (what `arbitrage ask` runs)."""
    import uuid

    from agent.graph import open_graph
    from tools.db import migrate, session_scope
    from tools.settings import get_settings
    from tools.users import get_user

    settings = settings or get_settings()
    migrate(settings)
    ctx = AgentContext(settings=settings)
    if user_name:
        with session_scope(settings) as session:
            user = get_user(session, user_name)
            if user is None:
                raise ValueError(f"no user named {user_name!r} (see `arbitrage users list`)")
            ctx = AgentContext.for_user(user, settings=settings)
    async with open_graph(settings) as graph:
        return await run_turn(
            graph, text, thread_id=thread_id or f"cli-{uuid.uuid4().hex}", user=ctx, persona=persona
        )
