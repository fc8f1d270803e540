"""The ChatOpenAI path end to end against a local OpenAI-compatible server (real HTTP).

The server streams a tool call in pieces (SSE tool_call deltas), the graph runs the tool on a
seeded deal, and the second request streams the final answer.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any

import pytest
from langgraph.checkpoint.memory import InMemorySaver
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, StreamingResponse
from starlette.routing import Route

from agent.context import AgentContext
from agent.graph import build_graph
from agent.runner import stream_turn
from tests.helpers.live_server import serve_asgi
from tests.unit.agent_helpers import make_deal, seed
from tools.settings import Settings, load_settings

pytestmark = pytest.mark.integration

FINAL = "Calculus B0AAAAAAA1 is the one: $34.96 profit at 126 % ROI."


def _chunk(delta: dict[str, Any], finish: str | None = None) -> str:
    body = {
        "id": "chatcmpl-1",
        "object": "chat.completion.chunk",
        "created": 0,
        "model": "test-model",
        "choices": [{"index": 0, "delta": delta, "finish_reason": finish}],
    }
    return f"data: {json.dumps(body)}\n\n"


def make_app(requests: list[dict[str, Any]]) -> Starlette:
    async def completions(request: Request) -> Any:
        body = await request.json()
        body["_auth"] = request.headers.get("authorization")
        requests.append(body)
        if not body.get("stream"):
            return JSONResponse({"error": {"message": "this test server only streams"}}, 400)
        has_tool_result = any(m.get("role") == "tool" for m in body["messages"])

        async def events() -> AsyncIterator[str]:
            if not has_tool_result:
                yield _chunk(
                    {
                        "role": "assistant",
                        "content": None,
                        "tool_calls": [
                            {
                                "index": 0,
                                "id": "call_1",
                                "type": "function",
                                "function": {"name": "search_deals", "arguments": ""},
                            }
                        ],
                    }
                )
                for piece in ('{"max_pr', 'ice": 30, "seas', 'onality": "textbook"}'):
                    yield _chunk({"tool_calls": [{"index": 0, "function": {"arguments": piece}}]})
                yield _chunk({}, "tool_calls")
            else:
                yield _chunk({"role": "assistant", "content": ""})
                for word in FINAL.split(" "):
                    yield _chunk({"content": word + " "})
                yield _chunk({}, "stop")
            yield "data: [DONE]\n\n"

        return StreamingResponse(events(), media_type="text/event-stream")

    return Starlette(routes=[Route("/v1/chat/completions", completions, methods=["POST"])])


async def test_chatopenai_streams_a_tool_call_then_the_final_answer(settings: Settings) -> None:
    seed(settings, make_deal("B0AAAAAAA1"), make_deal("B0AAAAAAA2", price_now=60.0))
    requests: list[dict[str, Any]] = []
    with serve_asgi(make_app(requests)) as base:
        llm_settings = load_settings(
            data_dir=settings.data_dir,
            llm_api_key="sk-test-123",
            llm_base_url=f"{base}/v1",
            llm_model="test-model",
        )
        assert llm_settings.llm_mode == "openai-compatible"
        ctx = AgentContext(user_name="sam", settings=llm_settings)
        graph = build_graph(InMemorySaver(), retrieve=lambda c, q: [])
        events = [
            e async for e in stream_turn(graph, "textbooks under $30?", thread_id="t", user=ctx)
        ]
    kinds = [e.kind for e in events]
    assert kinds.index("tool_call") < kinds.index("tool_result") < kinds.index("token")
    call = next(e.data for e in events if e.kind == "tool_call")
    assert (call["name"], call["args"]) == (
        "search_deals",
        {"max_price": 30, "seasonality": "textbook"},
    )
    result = next(e.data for e in events if e.kind == "tool_result")
    assert result["data"]["total"] == 1 and result["data"]["items"][0]["asin"] == "B0AAAAAAA1"
    tokens = [e.data for e in events if e.kind == "token"]
    assert len(tokens) > 5 and "".join(tokens).strip() == FINAL
    done = events[-1].data
    assert done.answer.strip() == FINAL and done.model == "test-model"

    first, second = requests
    assert first["_auth"] == "Bearer sk-test-123" and first["model"] == "test-model"
    assert first["temperature"] == 0.4  # Ava's temperature
    offered = {t["function"]["name"] for t in first["tools"]}
    assert "search_deals" in offered and "propose_knowledge" not in offered
    assert first["messages"][0]["role"] == "system" and "Ava" in first["messages"][0]["content"]
    tool_msg = next(m for m in second["messages"] if m["role"] == "tool")
    assert tool_msg["tool_call_id"] == "call_1" and "B0AAAAAAA1" in tool_msg["content"]


async def test_mentors_use_the_mentor_temperature(settings: Settings) -> None:
    requests: list[dict[str, Any]] = []
    with serve_asgi(make_app(requests)) as base:
        llm_settings = load_settings(
            data_dir=settings.data_dir, llm_api_key="sk-test-123", llm_base_url=f"{base}/v1"
        )
        graph = build_graph(InMemorySaver(), retrieve=lambda c, q: [])
        ctx = AgentContext(user_name="sam", settings=llm_settings)
        events = [
            e
            async for e in stream_turn(graph, "Joel, textbooks under $30?", thread_id="t", user=ctx)
        ]
    assert events[-1].data.persona == "joel"
    assert requests[0]["temperature"] == 0.5
    assert "Joel" in requests[0]["messages"][0]["content"]
