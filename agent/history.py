"""How much conversation a thread keeps: the newest turns, up to CHAT_HISTORY_TOKENS.

Every checkpoint stores the thread's whole message list, so an unbounded conversation made each
turn store (and load, and send to the model) more than the one before. At the start of each turn
the router drops the oldest whole turns beyond the budget (langchain_core's `trim_messages`,
counting tokens approximately: ~4 characters each): the kept history always starts at a
question, so no tool result is left without the call it answers, and the current question and
the turn in progress are always kept, whatever their size.
"""

from __future__ import annotations

from typing import Any

from langchain_core.messages import AnyMessage, HumanMessage, RemoveMessage, trim_messages
from langchain_core.messages.utils import count_tokens_approximately


def trim_update(messages: list[AnyMessage], max_tokens: int) -> dict[str, Any]:
    """The state update that removes the turns beyond `max_tokens` (empty when none are)."""
    last_question = next(
        (i for i in range(len(messages) - 1, -1, -1) if isinstance(messages[i], HumanMessage)), None
    )
    if not last_question:  # no earlier turn to drop
        return {}
    earlier, current = messages[:last_question], messages[last_question:]
    budget = max_tokens - count_tokens_approximately(current)
    kept = (
        trim_messages(
            earlier,
            max_tokens=max(0, budget),
            strategy="last",
            token_counter=count_tokens_approximately,
            start_on="human",
            include_system=False,
            allow_partial=False,
        )
        if budget > 0
        else []
    )
    keep = {m.id for m in kept}
    dropped = [RemoveMessage(id=m.id) for m in earlier if m.id and m.id not in keep]
    return {"messages": dropped} if dropped else {}
