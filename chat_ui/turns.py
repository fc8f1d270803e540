"""One chat turn: the answer streamed into Chainlit, tool calls as steps, results as elements.

Consumes `agent.runner.stream_turn` events: answer tokens stream into one message, each tool call
opens a step (its arguments as input) that the tool's result closes with a one-line summary,
tool artifacts become a deal table or a price / rank chart, and an interrupt (admin teaching) is
answered by the caller and the turn resumed. The final answer message carries the turn's tables
and charts, so they sit under the words that talk about them.
"""

from __future__ import annotations

import json
import time
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

import chainlit as cl

from chat_ui import tracking_render
from chat_ui.render import deal_table_element, price_rank_chart
from tools.metrics import TOOL_CALLS, TOOL_ERRORS

InterruptHandler = Callable[[Any], Awaitable[Any]]
MAX_RESUMES = 5
STEP_OUTPUT_CHARS = 400
TOKEN_FLUSH_S = 0.05
DETAIL_TOOLS = {"get_deal", "keepa_lookup", "deal_advice"}
_tool_names: set[str] = set()


def tool_label(name: str) -> str:
    """The tool's name as a metric label; a name no tool has (the model can call anything)
    is "other", so labels stay a bounded set."""
    if not _tool_names:
        from agent.tools import all_tools

        _tool_names.update(t.name for t in all_tools())
    return name if name in _tool_names else "other"


def summarize_result(name: str, result: Any) -> str:
    """A short line for the tool step: counts and the key facts, not the whole payload."""
    if isinstance(result, Mapping):
        if result.get("error"):
            return str(result["error"])[:STEP_OUTPUT_CHARS]
        loop = tracking_render.step_summary(name, result)
        if loop is not None:
            return loop
        items = result.get("items")
        if isinstance(items, list):
            plus = "+" if result.get("total_capped") else ""  # search counts up to a cap
            shown = (
                f"{len(items)} deals shown (of {result.get('total', len(items))}{plus} matching)"
            )
            changed = result.get("changed")  # a refinement of the thread's search
            return f"{changed}; {shown}"[:STEP_OUTPUT_CHARS] if changed else shown
        if name == "propose_knowledge" or result.get("status") == "awaiting_approval":
            if "candidates" in result:
                return f"{result['candidates']} candidates extracted, waiting for review"
            if result.get("status") == "done":
                return (
                    f"saved {result.get('saved', 0)}, rejected {result.get('rejected', 0)}, "
                    f"duplicates {result.get('duplicates', 0)}"
                )
        if result.get("asin") and (result.get("title") or result.get("verdict")):
            bits = [str(result.get("asin")), str(result.get("verdict") or result.get("title"))]
            if result.get("profit") is not None:
                bits.append(f"profit ${float(result['profit']):.2f}")
            return " · ".join(bits)[:STEP_OUTPUT_CHARS]
        if name in ("knowledge_edit", "knowledge_delete"):
            return f"{result.get('ref', '?')}: {str(result.get('status', '')).replace('_', ' ')}"
        if name == "knowledge_list" and isinstance(result.get("entries"), list):
            return f"{len(result['entries'])} knowledge entries"
        if isinstance(result.get("hits"), list):
            return f"{len(result['hits'])} knowledge entries"
    text = result if isinstance(result, str) else json.dumps(result, default=str)
    return text if len(text) <= STEP_OUTPUT_CHARS else text[:STEP_OUTPUT_CHARS] + " …"


def _detail_of(name: str, artifact: Any) -> Mapping[str, Any] | None:
    if not isinstance(artifact, Mapping):
        return None
    if name == "deal_advice" and isinstance(artifact.get("detail"), Mapping):
        return artifact["detail"]
    return artifact if artifact.get("asin") else None


def elements_for(name: str, artifact: Any, seen: set[str] | None = None) -> list[Any]:
    """Deal lists become a table; a deal with a history becomes a price / rank chart."""
    seen = seen if seen is not None else set()
    if not isinstance(artifact, Mapping):
        return []
    items = artifact.get("items")
    if name == "search_deals" and isinstance(items, list):
        return [deal_table_element(d for d in items if isinstance(d, Mapping))] if items else []
    detail = _detail_of(name, artifact) if name in DETAIL_TOOLS else None
    if detail is None or detail.get("asin") in seen:
        return []
    seen.add(str(detail.get("asin")))
    history = dict(detail.get("history") or {})
    history["inferred_sales"] = detail.get("inferred_sales") or []
    chart = price_rank_chart(history, str(detail.get("title") or detail.get("asin") or ""))
    return [chart] if chart is not None else []


class TurnRenderer:
    """Collects one turn's events into Chainlit steps, a streamed message and elements."""

    def __init__(self, author: str) -> None:
        self.author = author
        self.message: cl.Message | None = None
        self.steps: dict[str, cl.Step] = {}
        self.elements: list[Any] = []
        self.actions: list[cl.Action] = []
        self.final_text = ""
        self.tool_results: list[tuple[str, Any]] = []
        self._charted: set[str] = set()
        self._buffer: list[str] = []
        self._flushed_at = 0.0
        self.progress_step: cl.Step | None = None

    async def token(self, text: Any) -> None:
        """Buffer tokens and send them every TOKEN_FLUSH_S: one socket event per few words
        instead of per token keeps 50 concurrent sessions cheap and still looks live."""
        if not isinstance(text, str) or not text:
            return
        self._buffer.append(text)
        now = time.monotonic()
        if now - self._flushed_at >= TOKEN_FLUSH_S:
            await self.flush()

    async def flush(self) -> None:
        if not self._buffer:
            return
        text, self._buffer = "".join(self._buffer), []
        self._flushed_at = time.monotonic()
        if self.message is None:
            self.message = cl.Message(content="", author=self.author)
        await self.message.stream_token(text)

    async def tool_call(self, call: Mapping[str, Any]) -> None:
        await self.flush()
        call_id = str(call.get("id") or f"{call.get('name')}-{len(self.steps)}")
        if call_id in self.steps:
            return
        step = cl.Step(
            name=str(call.get("name") or "tool"), type="tool", show_input="json", language="json"
        )
        step.input = call.get("args") or {}
        await step.send()
        self.steps[call_id] = step

    async def progress(self, data: Mapping[str, Any]) -> None:
        """A tool's progress as its own step: "Checking gating: 7 of 12 (6 you can sell,
        1 gated)", updated as the checks come in."""
        if data.get("kind") != "gating":
            return
        await self.flush()
        text = (
            f"{data.get('done', 0)} of {data.get('asked', 0)} checked: "
            f"{data.get('allowed', 0)} you can sell, {data.get('restricted', 0)} gated"
        )
        if self.progress_step is None:
            self.progress_step = cl.Step(name="Checking gating", type="tool")
            self.progress_step.output = text
            await self.progress_step.send()
        else:
            self.progress_step.output = text
            await self.progress_step.update()

    async def tool_result(self, result: Mapping[str, Any]) -> None:
        self.progress_step = None  # the next progress belongs to another call
        name = str(result.get("name") or "tool")
        data = result.get("data")
        self.tool_results.append((name, data))
        step = self.steps.pop(str(result.get("id")), None)
        if step is None:
            step = cl.Step(name=name, type="tool")
            await step.send()
        step.output = summarize_result(name, data)
        step.is_error = result.get("status") == "error" or (
            isinstance(data, Mapping) and bool(data.get("error"))
        )
        TOOL_CALLS.labels(tool_label(name)).inc()
        if step.is_error:
            TOOL_ERRORS.labels(tool_label(name)).inc()
        await step.update()
        artifact = result.get("artifact")
        self.elements.extend(elements_for(name, artifact, self._charted))
        self.elements.extend(tracking_render.elements_for(name, artifact))
        seen = {(a.name, str(a.payload)) for a in self.actions}
        for action in tracking_render.actions_for(name, artifact):
            if (action.name, str(action.payload)) not in seen:
                self.actions.append(action)

    async def finish(self) -> cl.Message:
        await self.flush()
        for step in self.steps.values():  # tool calls that never returned
            step.output = "no result"
            await step.update()
        self.steps.clear()
        if self.message is None:
            self.message = cl.Message(content=self.final_text or "", author=self.author)
        elif not self.message.content.strip() and self.final_text:
            self.message.content = self.final_text
        if self.message.content or self.elements:
            self.message.elements = self.elements
            self.message.actions = self.actions
            await self.message.send()
        return self.message


async def run_turn(
    graph: Any,
    text: str,
    *,
    thread_id: str,
    context: Any,
    author: str,
    on_interrupt: InterruptHandler,
) -> TurnRenderer:
    """Stream one user turn (and any interrupt round-trips) into the chat."""
    from agent.runner import stream_turn

    renderer = TurnRenderer(author)
    pending: Any = None
    resumed = 0
    while True:
        interrupt: Any = None
        events = (
            stream_turn(graph, text, thread_id=thread_id, user=context)
            if resumed == 0
            else stream_turn(graph, None, thread_id=thread_id, user=context, resume=pending)
        )
        async for event in events:
            if event.kind == "token":
                await renderer.token(event.data)
            elif event.kind == "tool_call":
                await renderer.tool_call(event.data)
            elif event.kind == "tool_result":
                await renderer.tool_result(event.data)
            elif event.kind == "progress":
                await renderer.progress(event.data)
            elif event.kind == "interrupt":
                interrupt = event.data
            elif event.kind == "done":
                answer = getattr(event.data, "answer", "")
                if answer:
                    renderer.final_text = answer
        if interrupt is None or resumed >= MAX_RESUMES:
            break
        pending = await on_interrupt(interrupt)
        resumed += 1
    await renderer.finish()
    return renderer
