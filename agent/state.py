"""The graph state: the conversation plus what the current turn needs between nodes."""

from __future__ import annotations

from typing import Annotated, Any, NotRequired, TypedDict, cast

from langchain_core.messages import AnyMessage, ToolMessage
from langgraph.graph.message import Messages, add_messages
from langgraph.managed import RemainingSteps

from agent.thread_search import latest


def add_compact_messages(left: Messages, right: Messages) -> list[AnyMessage]:
    """`add_messages`, minus tool artifacts (full deal rows, chart series) in the stored thread.

    The artifact is for the UI, which gets it from the stream as the tool finishes; the models
    read only the compact content. Without this every checkpoint of a thread re-serializes
    (and every turn re-loads) all the chart series the conversation ever showed.
    """
    # add_messages turns every item into a message; its return annotation is its input type
    merged = cast("list[AnyMessage]", add_messages(left, right))
    return [
        m.model_copy(update={"artifact": None})
        if isinstance(m, ToolMessage) and m.artifact is not None
        else m
        for m in merged
    ]


class AgentState(TypedDict):
    """`messages`: the conversation (tool artifacts dropped, see above). `persona`: who answers
    this turn (set by the router). `knowledge`: entries retrieved for this turn, shared by the
    persona's model calls. `pending_knowledge`: extracted candidates waiting for the admin's
    approval (the approval node interrupts on it). `owner`: the signed-in user the thread
    belongs to (agent/checkpoints.py; no other user's turn runs in it). `remaining_steps`: the
    steps this run has left before LangGraph's recursion limit (managed by LangGraph, never
    stored), so a persona answers instead of starting a tool round it could not finish.
    `search`: the thread's current deal search (agent/thread_search.py), which follow-ups
    refine."""

    messages: Annotated[list[AnyMessage], add_compact_messages]
    persona: NotRequired[str]
    knowledge: NotRequired[list[dict[str, Any]]]
    pending_knowledge: NotRequired[dict[str, Any] | None]
    owner: NotRequired[str]
    remaining_steps: NotRequired[RemainingSteps]
    search: NotRequired[Annotated[dict[str, Any] | None, latest]]
