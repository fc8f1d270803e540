"""The LangGraph graph: router -> Ava | Olyvia | Joel | Evelyn | Errol, a tool node, the
knowledge approval step, and a per-thread checkpointer.

Each turn: the router picks the persona (named in the message > the chat profile > Ava); the
persona node retrieves knowledge for the question and calls its model with the tools its
caller may use; tool calls run in the ToolNode (errors become messages the model can fix) and
come back to the same persona. `propose_knowledge` parks candidates in the state, and the
approval node interrupts for the admin's decisions before anything is saved. A model that keeps
calling tools gets TURN_STEPS steps: then its persona says politely that it could not finish,
and the thread stays ready for the next question.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import AsyncIterator, Callable, Mapping
from contextlib import asynccontextmanager
from typing import Any

from langchain_core.language_models.chat_models import BaseChatModel
from langchain_core.messages import AIMessage, HumanMessage, SystemMessage, ToolMessage
from langchain_core.runnables import Runnable
from langgraph.graph import END, START, StateGraph
from langgraph.prebuilt import ToolNode
from langgraph.runtime import Runtime
from langgraph.types import interrupt

from agent.context import AgentContext
from agent.history import trim_update
from agent.knowledge_tools import CHANGE_TOOLS
from agent.offline.model import OfflineChatModel
from agent.offline.parser import persona_in
from agent.personas import PERSONAS, persona
from agent.prompts import system_prompt
from agent.state import AgentState
from agent.tools import all_tools, tool_error_message, tools_for
from tools.db import session_scope
from tools.settings import Settings, get_settings

log = logging.getLogger(__name__)

PERSONA_KEYS = tuple(PERSONAS)
# Reading a persona's name takes milliseconds; past this the turn goes on without it.
ROUTE_TIMEOUT_S = 2.0
ModelFactory = Callable[[str, Settings], BaseChatModel]

# Steps one run of the graph may take: the router, then about 11 tool rounds (LangGraph's own
# default is 10,007: a model stuck in a loop would make thousands of paid calls first).
TURN_STEPS = 25
OUT_OF_STEPS = (
    "Sorry, I could not finish this one: it needed more lookups than one turn "
    "allows. Ask me a narrower question (one ASIN, or fewer filters) and I will "
    "try again."
)


def default_model_factory(key: str, settings: Settings) -> BaseChatModel:
    """ChatOpenAI (per-purpose temperature) when an LLM is configured, else the offline model."""
    from tools.llm import make_chat_model

    model = make_chat_model(persona(key).purpose, settings)  # type: ignore[arg-type]
    return model if model is not None else OfflineChatModel(persona=key)


class Models:
    """Chat models per persona, bound to the tools of a role once and then reused."""

    def __init__(self, models: Mapping[str, BaseChatModel] | ModelFactory | None = None) -> None:
        self._given = models
        self._base: dict[str, BaseChatModel] = {}
        self._bound: dict[tuple[str, bool], Runnable[Any, Any]] = {}

    def base(self, key: str, settings: Settings) -> BaseChatModel:
        if key not in self._base:
            given = self._given
            if isinstance(given, Mapping):
                model = given.get(key) or given.get("*") or given.get("ava")
                if model is None:
                    raise KeyError(f"no model for persona {key!r}")
            elif callable(given):
                model = given(key, settings)
            else:
                model = default_model_factory(key, settings)
            self._base[key] = model
        return self._base[key]

    def bound(self, key: str, ctx: AgentContext) -> Runnable[Any, Any]:
        slot = (key, ctx.is_admin)
        if slot not in self._bound:
            self._bound[slot] = self.base(key, ctx.settings).bind_tools(tools_for(ctx))
        return self._bound[slot]


def _ctx(runtime: Runtime[AgentContext] | None) -> AgentContext:
    ctx = getattr(runtime, "context", None)
    return ctx if isinstance(ctx, AgentContext) else AgentContext()


def _text(msg: Any) -> str:
    c = getattr(msg, "content", "")
    return (
        c
        if isinstance(c, str)
        else " ".join(p.get("text", "") if isinstance(p, dict) else str(p) for p in c)
    )


def retrieve_knowledge(ctx: AgentContext, question: str, k: int = 4) -> list[dict[str, Any]]:
    """Knowledge for this turn (cached until the knowledge base changes); a broken knowledge
    store must not break the chat."""
    from knowledge import retrieve
    from knowledge.cache import cached

    def load() -> list[dict[str, Any]]:
        with session_scope(ctx.settings) as session:
            return [h.as_dict() for h in retrieve(session, question, k=k)]

    try:
        return cached((ctx.settings.database_url, ctx.settings.data_dir, "q", question, k), load)
    except Exception as err:
        log.warning("knowledge retrieval failed: %s", err)
        return []


async def _named_persona(text: str) -> str | None:
    """persona_in off the event loop and under a deadline: it runs on every message, with a
    real model too, and the loop serves every other chat session."""
    try:
        return await asyncio.wait_for(asyncio.to_thread(persona_in, text), ROUTE_TIMEOUT_S)
    except TimeoutError:
        log.warning(
            "router: no persona read within %.1f s; using the chat profile's", ROUTE_TIMEOUT_S
        )
        return None


async def route(state: AgentState, runtime: Runtime[AgentContext]) -> dict[str, Any]:
    """Pick this turn's persona: named in the message > chosen chat profile > Ava; and drop
    the oldest turns beyond CHAT_HISTORY_TOKENS (agent/history.py)."""
    ctx = _ctx(runtime)
    messages = list(state.get("messages") or [])
    last = messages[-1] if messages else None
    named = await _named_persona(_text(last)) if isinstance(last, HumanMessage) else None
    chosen = (ctx.persona or "").lower()
    key = named or (chosen if chosen in PERSONAS else "ava")
    return {
        "persona": key,
        "knowledge": [],
        "pending_knowledge": None,
        **trim_update(messages, ctx.settings.chat_history_tokens),
    }


def _persona_node(
    key: str, models: Models, retrieve: Callable[..., list[dict[str, Any]]]
) -> Callable[..., Any]:
    async def node(state: AgentState, runtime: Runtime[AgentContext]) -> dict[str, Any]:
        ctx = _ctx(runtime)
        messages = list(state["messages"])
        update: dict[str, Any] = {}
        knowledge = state.get("knowledge") or []
        if messages and isinstance(messages[-1], HumanMessage):
            knowledge = retrieve(ctx, _text(messages[-1]))
            update["knowledge"] = knowledge
        model = models.bound(key, ctx)
        prompt = [
            SystemMessage(
                system_prompt(
                    key,
                    user_name=ctx.user_name,
                    role=ctx.role,
                    knowledge=knowledge,
                    renders_tables=ctx.renders_tables,
                    search=state.get("search"),
                )
            ),
            *messages,
        ]
        if isinstance(model, OfflineChatModel):
            response = await model.ainvoke(
                prompt,
                persona=key,
                knowledge=knowledge,
                renders_tables=ctx.renders_tables,
                search=state.get("search"),
            )
        else:
            response = await model.ainvoke(prompt)
        if (
            isinstance(response, AIMessage)
            and response.tool_calls
            and not _room_for_tools(state, response)
        ):
            log.warning(
                "%s ran out of steps with %d tool calls pending; answering instead",
                key,
                len(response.tool_calls),
            )
            response = AIMessage(
                id=response.id, content=OUT_OF_STEPS, response_metadata=response.response_metadata
            )
        if isinstance(response, AIMessage) and not response.name:
            response.name = key
        update["messages"] = [response]
        return update

    node.__name__ = key
    return node


def _room_for_tools(state: AgentState, response: AIMessage) -> bool:
    """Whether the run has the steps for this tool round: the tools and this persona again
    (react-agent's check), plus the approval step when knowledge is proposed. Without them
    LangGraph would end the turn with GraphRecursionError, its tool calls unanswered."""
    needed = 2 + any(
        c["name"] == "propose_knowledge" or c["name"] in CHANGE_TOOLS for c in response.tool_calls
    )
    return state.get("remaining_steps", needed) >= needed


def _after_persona(state: AgentState) -> str:
    last = state["messages"][-1]
    return "tools" if isinstance(last, AIMessage) and last.tool_calls else END


def _after_tools(state: AgentState) -> str:
    if state.get("pending_knowledge"):
        return "approve_knowledge"
    return state.get("persona") or "ava"


def _decisions(value: Any, n: int) -> list[bool]:
    """The admin's answer as one flag per candidate. Accepts a list of bools, {"approve":
    [indexes]}, {"decisions": [...]}, {index: bool}, "all"/"none", or True/False."""
    if isinstance(value, str):
        v = value.strip().lower()
        if v in ("all", "yes", "approve", "approve all"):
            return [True] * n
        if v in ("none", "no", "reject", "reject all"):
            return [False] * n
        raise ValueError(f"unknown decision {value!r}")
    if isinstance(value, bool):
        return [value] * n
    if isinstance(value, Mapping):
        if "decisions" in value:
            return _decisions(value["decisions"], n)
        if "approve" in value or "approved" in value:
            idx = {int(i) for i in value.get("approve", value.get("approved")) or []}
            return [i in idx for i in range(n)]
        return [bool(value.get(i, value.get(str(i), False))) for i in range(n)]
    if isinstance(value, list | tuple):
        if all(isinstance(x, bool) for x in value):
            flags = list(value)[:n]
            return flags + [False] * (n - len(flags))
        idx = {int(i) for i in value}
        return [i in idx for i in range(n)]
    raise ValueError(f"unknown decision {value!r}")


def approve_knowledge(state: AgentState, runtime: Runtime[AgentContext]) -> dict[str, Any]:
    """Interrupt with the candidates; save only what the admin approves."""
    from knowledge import Candidate, approve
    from knowledge.extraction import summarize

    ctx = _ctx(runtime)
    pending = state.get("pending_knowledge") or {}
    if pending.get("change"):
        return _approve_change(pending, ctx)
    cands = [Candidate.model_validate(c) for c in pending.get("candidates") or []]

    def reply(payload: dict[str, Any]) -> dict[str, Any]:
        msg = ToolMessage(
            content=json.dumps(payload),
            tool_call_id=pending.get("tool_call_id", "propose"),
            name="propose_knowledge",
            id=pending.get("message_id"),
        )
        return {"pending_knowledge": None, "messages": [msg]}

    if not ctx.is_admin:  # defence in depth: the tool already refused non-admins
        return reply({"status": "refused", "error": "only admins can teach"})
    decision = interrupt(
        {
            "type": "knowledge_approval",
            "source": pending.get("source"),
            "method": pending.get("method"),
            "note": pending.get("note"),
            "candidates": pending.get("candidates") or [],
        }
    )
    try:
        flags = _decisions(decision, len(cands))
    except (ValueError, TypeError) as err:
        return reply({"status": "error", "error": f"{err}; nothing was saved"})
    with session_scope(ctx.settings) as session:
        results = approve(session, cands, flags, ctx)
        s = summarize(results)
    return reply(
        {
            "status": "done",
            "saved": s.saved + s.merged,
            "refs": s.refs,
            "rejected": s.rejected,
            "duplicates": s.duplicates,
            "invalid": s.invalid,
        }
    )


def _approve_change(pending: dict[str, Any], ctx: AgentContext) -> dict[str, Any]:
    """An admin's edit or delete of a taught entry: interrupt with the entry before (and
    after), apply it only on a yes."""
    from agent.knowledge_tools import apply_change

    change = pending["change"]
    name = str(pending.get("tool") or "knowledge_edit")

    def reply(payload: dict[str, Any]) -> dict[str, Any]:
        msg = ToolMessage(
            content=json.dumps(payload, default=str),
            tool_call_id=pending.get("tool_call_id", name),
            name=name,
            id=pending.get("message_id"),
        )
        return {"pending_knowledge": None, "messages": [msg]}

    if not ctx.is_admin:  # defence in depth: the tool already refused non-admins
        return reply({"status": "refused", "error": "only admins can change the knowledge base"})
    decision = interrupt({"type": "knowledge_change", **change})
    try:
        approved = _decisions(decision, 1)[0]
    except (ValueError, TypeError) as err:
        return reply({"status": "error", "ref": change["ref"], "error": f"{err}; nothing changed"})
    if not approved:
        return reply({"status": "rejected", "ref": change["ref"], "action": change["action"]})
    with session_scope(ctx.settings) as session:
        return reply(apply_change(session, change, ctx))


def build_graph(
    checkpointer: Any = None,
    *,
    models: Mapping[str, BaseChatModel] | ModelFactory | None = None,
    retrieve: Callable[..., list[dict[str, Any]]] | None = None,
) -> Any:
    """Compile the graph. `models`: a {persona: model} map ("*" for all) or a factory; by
    default ChatOpenAI when configured, else the offline model."""
    registry = Models(models)
    retriever = retrieve or retrieve_knowledge
    g = StateGraph(AgentState, context_schema=AgentContext)
    g.add_node("router", route)
    for key in PERSONA_KEYS:
        g.add_node(key, _persona_node(key, registry, retriever))
        g.add_conditional_edges(key, _after_persona, ["tools", END])
    g.add_node("tools", ToolNode(all_tools(), handle_tool_errors=tool_error_message))
    g.add_node("approve_knowledge", approve_knowledge)
    g.add_edge(START, "router")
    g.add_conditional_edges("router", lambda s: s["persona"], list(PERSONA_KEYS))
    g.add_conditional_edges("tools", _after_tools, [*PERSONA_KEYS, "approve_knowledge"])
    g.add_conditional_edges(
        "approve_knowledge", lambda s: s.get("persona") or "ava", list(PERSONA_KEYS)
    )
    return g.compile(checkpointer=checkpointer).with_config(recursion_limit=TURN_STEPS)


def _pg_conninfo(url: str) -> str:
    for prefix in ("postgresql+psycopg://", "postgresql+psycopg2://"):
        if url.startswith(prefix):
            return "postgresql://" + url[len(prefix) :]
    return url


@asynccontextmanager
async def open_checkpointer(settings: Settings | None = None) -> AsyncIterator[Any]:
    """AsyncSqliteSaver on DATA_DIR/checkpoints.db, or AsyncPostgresSaver on PostgreSQL.

    SQLite runs in WAL mode with synchronous=NORMAL: a turn's commit no longer waits for an
    fsync (~4 ms here, far more on a busy disk) while holding the saver's one connection that
    every chat session queues on. A power cut can lose the last turns, never corrupt the file.
    """
    settings = settings or get_settings()
    if settings.is_sqlite:
        from langgraph.checkpoint.sqlite.aio import AsyncSqliteSaver

        settings.ensure_dirs()
        path = settings.checkpoints_path.resolve()
        async with AsyncSqliteSaver.from_conn_string(str(path)) as saver:
            await saver.setup()  # WAL; then commits without an fsync each (see docstring)
            await saver.conn.execute("PRAGMA synchronous=NORMAL")
            yield saver
    else:
        from langgraph.checkpoint.postgres.aio import AsyncPostgresSaver

        async with AsyncPostgresSaver.from_conn_string(
            _pg_conninfo(settings.sqlalchemy_url)
        ) as saver:
            await saver.setup()
            yield saver


@asynccontextmanager
async def open_graph(settings: Settings | None = None, **kwargs: Any) -> AsyncIterator[Any]:
    """The compiled graph with its checkpointer open for the duration of the block."""
    async with open_checkpointer(settings) as saver:
        yield build_graph(checkpointer=saver, **kwargs)
