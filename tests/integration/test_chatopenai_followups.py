"""A follow-up through the ChatOpenAI path (real HTTP to a local OpenAI-compatible server): the
model sees the thread's current search in its system prompt, is offered `refine` / `remove`
on search_deals, sends only the change, and the tool merges it and says what changed."""

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
from agent.runner import run_turn
from tests.helpers.live_server import serve_asgi
from tests.integration.test_chatopenai_agent import _chunk
from tests.unit.agent_helpers import make_deal, seed
from tools.settings import Settings, load_settings

pytestmark = pytest.mark.integration

# what the "LLM" calls for each user message (then it answers "done")
CALLS = {
    "textbooks under $30": {"max_price": 30, "seasonality": "textbook"},
    "only the ones under rank 200k": {"refine": True, "max_rank": 200_000},
}


def _call(user: dict[str, Any]) -> dict[str, Any]:
    args = json.dumps(CALLS[user["content"]])
    return {
        "id": f"call_{abs(hash(args))}",
        "type": "function",
        "function": {"name": "search_deals", "arguments": args},
    }


def make_app(requests: list[dict[str, Any]]) -> Starlette:
    async def completions(request: Request) -> Any:
        body = await request.json()
        requests.append(body)
        last = body["messages"][-1]
        if not body.get("stream"):  # `arbitrage ask` and run_turn do not stream
            message: dict[str, Any] = {"role": "assistant", "content": "done"}
            if last["role"] == "user":
                message = {"role": "assistant", "content": None, "tool_calls": [_call(last)]}
            choice = {"index": 0, "message": message, "finish_reason": "stop"}
            return JSONResponse(
                {
                    "id": "c",
                    "object": "chat.completion",
                    "created": 0,
                    "model": "m",
                    "choices": [choice],
                }
            )

        async def events() -> AsyncIterator[str]:
            if last["role"] == "user":
                call = {"index": 0, **_call(last)}
                yield _chunk({"role": "assistant", "content": None, "tool_calls": [call]})
                yield _chunk({}, "tool_calls")
            else:
                yield _chunk({"role": "assistant", "content": "done"})
                yield _chunk({}, "stop")
            yield "data: [DONE]\n\n"

        return StreamingResponse(events(), media_type="text/event-stream")

    return Starlette(routes=[Route("/v1/chat/completions", completions, methods=["POST"])])


async def test_an_llm_refines_the_threads_search(settings: Settings) -> None:
    seed(
        settings,
        *(
            make_deal(f"B0LLM0000{i}", price_now=10.0 + i, sales_rank=80_000 * i)
            for i in range(1, 6)
        ),
    )
    requests: list[dict[str, Any]] = []
    with serve_asgi(make_app(requests)) as base:
        llm = load_settings(
            data_dir=settings.data_dir, llm_api_key="sk-test", llm_base_url=f"{base}/v1"
        )
        ctx = AgentContext(user_name="sam", settings=llm)
        graph = build_graph(InMemorySaver(), retrieve=lambda c, q: [])
        first = await run_turn(graph, "textbooks under $30", thread_id="t", user=ctx)
        second = await run_turn(graph, "only the ones under rank 200k", thread_id="t", user=ctx)
    assert first.tool_results[0]["total"] == 5
    result = second.tool_results[0]
    assert result["changed"] == "Added rank <= 200,000 to your search: 2 of 5 remain"
    assert result["query"] == {"seasonality": "textbook", "max_price": 30.0, "max_rank": 200_000}
    search = next(
        t["function"] for t in requests[0]["tools"] if t["function"]["name"] == "search_deals"
    )
    assert {"refine", "remove", "max_rank"} <= set(search["parameters"]["properties"])
    system = requests[2]["messages"][0]["content"]  # the second turn's first request
    assert "Current deal search" in system and '"max_price": 30.0' in system
    assert "1. B0LLM00001" in system and "refine=true" in system
