"""The graph state: the conversation plus what the current turn needs between nodes."""

from __future__ import annotations

from typing import Any, NotRequired

from langgraph.graph import MessagesState


class AgentState(MessagesState):
    """`persona`: who answers this turn (set by the router). `knowledge`: entries retrieved
    for this turn, shared by the persona's model calls. `pending_knowledge`: extracted
    candidates waiting for the admin's approval (the approval node interrupts on it)."""

    persona: NotRequired[str]
    knowledge: NotRequired[list[dict[str, Any]]]
    pending_knowledge: NotRequired[dict[str, Any] | None]
