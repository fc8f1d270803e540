"""One chat turn: stream the graph's answer into Chainlit, tool calls as steps, results as elements.

`graph.astream` runs with stream_mode ["messages", "updates"]: "messages" carries the answer's
tokens, "updates" carries whole AI messages (their tool calls open steps), tool results (which
close the steps and become a deal table or a chart) and interrupts (admin teaching), which the
caller answers and the turn resumes with `Command(resume=...)`. The final answer message gets
the turn's tables and charts attached, so they sit under the words that talk about them.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

import chainlit as cl
from langchain_core.messages import AIMessage, AIMessageChunk, BaseMessage, ToolMessage
from langgraph.types import Command

from chat_ui.render import deal_table_element, price_rank_chart

InterruptHandler = Callable[[Any], Awaitable[Any]]
MAX_RESUMES = 5
STEP_OUTPUT_CHARS = 400


def parse_tool_content(content: Any) -> Any:
    """Tool results are compact JSON strings; anything else is passed through as text."""
    if isinstance(content, list):  # content blocks
        content = "".join(b.get("text", "") if isinstance(b, Mapping) else str(b)
                          for b in content)
    if isinstance(content, str):
        try:
            return json.loads(content)
        except json.JSONDecodeError:
            return content
    return content


def summarize_result(name: str, result: Any) -> str:
    """A short line for the tool step: counts and the key facts, not the whole payload."""
    if isinstance(result, Mapping):
        if result.get("error"):
            return f"error: {result['error']}"
        deals = result.get("deals")
        if isinstance(deals, list):
            total = result.get("total", result.get("count", len(deals)))
            return f"{len(deals)} deals shown (of {total} matching)"
        deal = result.get("deal")
        if isinstance(deal, Mapping):
            return f"{deal.get('asin', '')}: {deal.get('title', '')}"[:STEP_OUTPUT_CHARS]
        if isinstance(result.get("candidates"), list):
            return f"{len(result['candidates'])} candidates to review"
    text = result if isinstance(result, str) else json.dumps(result, default=str)
    return text if len(text) <= STEP_OUTPUT_CHARS else text[:STEP_OUTPUT_CHARS] + " …"


def elements_for(name: str, result: Any) -> list[Any]:
    """Deal lists become a table; a deal with a history becomes a price / rank chart."""
    if not isinstance(result, Mapping):
        return []
    out: list[Any] = []
    deals = result.get("deals")
    if isinstance(deals, list) and deals:
        out.append(deal_table_element(d for d in deals if isinstance(d, Mapping)))
    deal = result.get("deal") if isinstance(result.get("deal"), Mapping) else None
    history = result.get("history") or (deal or {}).get("history")
    if isinstance(history, Mapping):
        title = str((deal or result).get("title") or (deal or result).get("asin") or "")
        chart = price_rank_chart(history, title)
        if chart is not None:
            out.append(chart)
        if deal is not None:
            out.append(deal_table_element([deal]))
    return out


class TurnRenderer:
    """Collects one turn's stream into Chainlit steps, a streamed message and elements."""

    def __init__(self, author: str) -> None:
        self.author = author
        self.message: cl.Message | None = None
        self.steps: dict[str, cl.Step] = {}
        self.elements: list[Any] = []
        self.final_text = ""
        self.tool_results: list[tuple[str, Any]] = []

    async def token(self, text: str) -> None:
        if not text:
            return
        if self.message is None:
            self.message = cl.Message(content="", author=self.author)
        await self.message.stream_token(text)

    async def ai_message(self, msg: AIMessage) -> None:
        for call in msg.tool_calls or []:
            call_id = call.get("id") or f"{call['name']}-{len(self.steps)}"
            if call_id in self.steps:
                continue
            step = cl.Step(name=call["name"], type="tool", show_input="json",
                           language="json")
            step.input = call.get("args") or {}
            await step.send()
            self.steps[call_id] = step
        text = msg.content if isinstance(msg.content, str) else ""
        if text and not msg.tool_calls:
            self.final_text = text

    async def tool_message(self, msg: ToolMessage) -> None:
        name = msg.name or "tool"
        result = parse_tool_content(msg.content)
        self.tool_results.append((name, result))
        step = self.steps.pop(msg.tool_call_id, None)
        if step is None:
            step = cl.Step(name=name, type="tool")
            await step.send()
        step.output = summarize_result(name, result)
        step.is_error = getattr(msg, "status", None) == "error"
        await step.update()
        self.elements.extend(elements_for(name, result))

    async def finish(self) -> cl.Message:
        for step in self.steps.values():  # tool calls that never returned
            step.output = "no result"
            await step.update()
        if self.message is None:
            self.message = cl.Message(content=self.final_text or "", author=self.author)
        elif not self.message.content.strip() and self.final_text:
            self.message.content = self.final_text
        self.message.elements = self.elements  # type: ignore[assignment]
        await self.message.send()
        return self.message


def _messages_of(update: Any) -> list[BaseMessage]:
    if not isinstance(update, Mapping):
        return []
    msgs = update.get("messages")
    if isinstance(msgs, BaseMessage):
        return [msgs]
    return [m for m in (msgs or []) if isinstance(m, BaseMessage)]


async def run_turn(graph: Any, inputs: Any, *, config: dict[str, Any], context: Any,
                   author: str, on_interrupt: InterruptHandler,
                   token_nodes: set[str] | None = None) -> TurnRenderer:
    """Stream one user turn (and any interrupt round-trips) into the chat."""
    renderer = TurnRenderer(author)
    payload: Any = inputs
    for _ in range(MAX_RESUMES + 1):
        interrupts: list[Any] = []
        async for mode, chunk in graph.astream(payload, config=config, context=context,
                                               stream_mode=["messages", "updates"]):
            if mode == "messages":
                msg, meta = chunk
                node = (meta or {}).get("langgraph_node", "")
                if token_nodes is not None and node not in token_nodes:
                    continue
                if isinstance(msg, AIMessageChunk) and not msg.tool_call_chunks:
                    content = msg.content if isinstance(msg.content, str) else ""
                    await renderer.token(content)
            elif mode == "updates":
                for node, update in (chunk or {}).items():
                    if node == "__interrupt__":
                        interrupts.extend(update if isinstance(update, list | tuple)
                                          else [update])
                        continue
                    for m in _messages_of(update):
                        if isinstance(m, ToolMessage):
                            await renderer.tool_message(m)
                        elif isinstance(m, AIMessage):
                            await renderer.ai_message(m)
        if not interrupts:
            break
        values = [getattr(i, "value", i) for i in interrupts]
        answer = await on_interrupt(values[0] if len(values) == 1 else values)
        payload = Command(resume=answer)
    await renderer.finish()
    return renderer
