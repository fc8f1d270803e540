"""`arbitrage eval --model NAME` against a local OpenAI-compatible server (real HTTP): every
question goes to the endpoint once with the chat's prompt and a seller's tools, and the tool
call that comes back is scored per category (issue 17, item 11)."""

from __future__ import annotations

import json
from typing import Any

import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route
from typer.testing import CliRunner

from agent.evaluation.fresh import FRESH_SET, FRESH_UNUSED
from chat_ui.cli import app
from tests.helpers.live_server import serve_asgi
from tools.settings import Settings, reset_settings_cache

pytestmark = pytest.mark.integration

EXPECTED = {q: f for _, q, f in FRESH_SET} | {q: f for q, f, _ in FRESH_UNUSED}
SIGNS = {q for c, q, _ in FRESH_SET if c == "signs"}
PUBLISHERS = {q for c, q, _ in FRESH_SET if c == "publisher"}


def make_app(requests: list[dict[str, Any]]) -> Starlette:
    """A model that gets everything right except comparison signs (it answers in words, no
    tool call) and publishers (it puts the publisher in the title words)."""

    async def completions(request: Request) -> Any:
        body = await request.json()
        body["_auth"] = request.headers.get("authorization")
        requests.append(body)
        question = body["messages"][-1]["content"]
        args = dict(EXPECTED[question])
        if question in PUBLISHERS:
            args["text"] = args.pop("publisher")
        message: dict[str, Any] = {"role": "assistant", "content": None}
        if question in SIGNS:
            message["content"] = "Sorry, I cannot read that."
        else:
            message["tool_calls"] = [
                {
                    "id": "call_1",
                    "type": "function",
                    "function": {"name": "search_deals", "arguments": json.dumps(args)},
                }
            ]
        return JSONResponse(
            {
                "id": "chatcmpl-1",
                "object": "chat.completion",
                "created": 0,
                "model": body["model"],
                "choices": [
                    {
                        "index": 0,
                        "message": message,
                        "finish_reason": "stop" if question in SIGNS else "tool_calls",
                    }
                ],
                "usage": {"prompt_tokens": 1, "completion_tokens": 1, "total_tokens": 2},
            }
        )

    return Starlette(routes=[Route("/v1/chat/completions", completions, methods=["POST"])])


def test_eval_scores_a_real_endpoint_per_category(
    settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    requests: list[dict[str, Any]] = []
    with serve_asgi(make_app(requests)) as base:
        monkeypatch.setenv("LLM_API_KEY", "sk-eval-123")
        monkeypatch.setenv("LLM_BASE_URL", f"{base}/v1")
        reset_settings_cache()
        out = CliRunner().invoke(
            app,
            ["eval", "--model", "eval-model", "--set", "fresh", "--json"],
            catch_exceptions=False,
        )
    assert out.exit_code == 0, out.output
    result = json.loads(out.output)
    total = len(FRESH_SET) + len(FRESH_UNUSED)
    wrong = len(SIGNS) + len(PUBLISHERS)
    assert (result["model"], result["cases"], result["right"]) == (
        "eval-model",
        total,
        total - wrong,
    )
    assert result["categories"]["phrasing: signs"]["accuracy"] == 0.0
    assert result["categories"]["phrasing: publisher"]["accuracy"] == 0.0
    assert result["categories"]["phrasing: range"]["accuracy"] == 1.0
    assert {m["question"] for m in result["misses"]} == SIGNS | PUBLISHERS
    assert result["errors"] == 0

    assert len(requests) == total  # one call per question
    first = requests[0]
    assert first["_auth"] == "Bearer sk-eval-123" and first["model"] == "eval-model"
    assert first["messages"][0]["role"] == "system" and "Ava" in first["messages"][0]["content"]
    offered = {t["function"]["name"] for t in first["tools"]}
    assert "search_deals" in offered and "propose_knowledge" not in offered


def test_eval_on_the_offline_model_is_the_parser_score(settings: Settings) -> None:
    out = CliRunner().invoke(app, ["eval", "--model", "offline", "--json"], catch_exceptions=False)
    result = json.loads(out.output)
    assert result["model"] == "offline" and result["accuracy"] == 1.0
    assert set(result["sets"]) == {"own", "independent", "fresh", "holdout"}
    assert result["categories"]["single deal"] == {"right": 2, "total": 2, "accuracy": 1.0}


def test_eval_refuses_a_model_without_an_endpoint(settings: Settings) -> None:
    out = CliRunner().invoke(app, ["eval", "--model", "gpt-4o-mini"])
    assert out.exit_code == 2 and "LLM_API_KEY" in out.output
