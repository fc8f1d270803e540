"""Extraction through the real ChatOpenAI client against a local OpenAI-compatible server."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, ClassVar

import pytest

from knowledge.extraction import extract
from tools.llm import make_chat_model
from tools.settings import Settings

pytestmark = pytest.mark.integration

ARGS = {
    "strategies": [
        {
            "text": "If a textbook is under $20 in October, buy it and hold it until August.",
            "category": "textbooks",
            "conditions": ["under $20 in October"],
            "numbers": ["$20"],
        }
    ],
    "mental_models": [],
}


class _OpenAI(BaseHTTPRequestHandler):
    requests: ClassVar[list[dict[str, Any]]] = []

    def log_message(self, *args: object) -> None:
        pass

    def do_POST(self) -> None:
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        type(self).requests.append(
            {"path": self.path, "auth": self.headers.get("Authorization"), "body": body}
        )
        reply = {
            "id": "chatcmpl-1",
            "object": "chat.completion",
            "created": 0,
            "model": body["model"],
            "choices": [
                {
                    "index": 0,
                    "finish_reason": "tool_calls",
                    "message": {
                        "role": "assistant",
                        "content": None,
                        "tool_calls": [
                            {
                                "id": "call_1",
                                "type": "function",
                                "function": {
                                    "name": "ExtractedKnowledge",
                                    "arguments": json.dumps(ARGS),
                                },
                            }
                        ],
                    },
                }
            ],
            "usage": {"prompt_tokens": 10, "completion_tokens": 10, "total_tokens": 20},
        }
        data = json.dumps(reply).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)


@pytest.fixture
def openai_url() -> Iterator[str]:
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), _OpenAI)
    _OpenAI.requests = []
    threading.Thread(target=httpd.serve_forever, args=(0.05,), daemon=True).start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}/v1"
    finally:
        httpd.shutdown()
        httpd.server_close()


def test_chatopenai_function_calling_extraction(settings: Settings, openai_url: str) -> None:
    s = settings.model_copy(
        update={"llm_api_key": "sk-local", "llm_base_url": openai_url, "llm_model": "local-model"}
    )
    model = make_chat_model("extraction", s)
    assert model is not None
    result = extract(
        "Buy textbooks under $20 in October and hold them until August.",
        "https://blog.example/t",
        model,
    )
    assert result.method == "llm", result.note
    assert [c.text for c in result.candidates] == [ARGS["strategies"][0]["text"]]
    req = _OpenAI.requests[0]
    assert req["path"] == "/v1/chat/completions" and req["auth"] == "Bearer sk-local"
    body = req["body"]
    assert body["model"] == "local-model" and body["temperature"] == 0.2
    assert body["tools"][0]["function"]["name"] == "ExtractedKnowledge"
    assert body["messages"][0]["role"] == "system"
