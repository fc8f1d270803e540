"""SessionRouter's decisions: which requests it keeps, refuses as misdirected or passes on."""

from __future__ import annotations

import asyncio
import json
from typing import Any

from chat_ui.session_router import FORWARDED_HEADER, SessionRouter, session_id_of


def _scope(path: str, query: bytes = b"", headers: list[tuple[bytes, bytes]] | None = None,
           method: str = "POST") -> dict[str, Any]:
    return {"type": "http", "method": method, "path": path, "raw_path": path.encode(),
            "query_string": query, "headers": headers or []}


def _call(router: SessionRouter, scope: dict[str, Any], body: bytes) -> tuple[int, bytes]:
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": body, "more_body": False}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    asyncio.run(router(scope, receive, send))
    return sent[0]["status"], b"".join(m.get("body", b"") for m in sent[1:])


def _echo_app(calls: list[bytes]):  # type: ignore[no-untyped-def]
    async def app(scope, receive, send):  # type: ignore[no-untyped-def]
        calls.append((await receive())["body"])
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b"local"})

    return app


def test_the_session_is_read_from_the_query_or_the_json_body() -> None:
    assert session_id_of(_scope("/project/file", b"session_id=abc"), b"") == "abc"
    body = json.dumps({"sessionId": "xyz", "element": {}}).encode()
    assert session_id_of(_scope("/project/element"), body) == "xyz"
    assert session_id_of(_scope("/project/element"), b"not json") is None


def test_a_local_session_is_served_here_with_its_body() -> None:
    calls: list[bytes] = []
    router = SessionRouter(_echo_app(calls), ["http://127.0.0.1:9"], lambda sid: True)
    status, body = _call(router, _scope("/project/element"), b'{"sessionId": "s1"}')
    assert (status, body, calls) == (200, b"local", [b'{"sessionId": "s1"}'])


def test_a_forwarded_request_for_a_session_held_elsewhere_is_refused() -> None:
    calls: list[bytes] = []
    router = SessionRouter(_echo_app(calls), ["http://127.0.0.1:9"], lambda sid: False)
    scope = _scope("/project/file", b"session_id=s1", [(FORWARDED_HEADER, b"1")])
    status, _ = _call(router, scope, b"file bytes")
    assert status == 421 and calls == []


def test_when_no_worker_holds_the_session_chainlit_answers() -> None:
    calls: list[bytes] = []
    # port 9 (discard) refuses: the sibling is unreachable, so the local app answers
    router = SessionRouter(_echo_app(calls), ["http://127.0.0.1:9"], lambda sid: False)
    status, _ = _call(router, _scope("/project/file", b"session_id=gone"), b"x")
    assert status == 200 and calls == [b"x"]


def test_other_paths_pass_through_untouched() -> None:
    calls: list[bytes] = []
    router = SessionRouter(_echo_app(calls), ["http://127.0.0.1:9"], lambda sid: False)
    status, _ = _call(router, _scope("/project/threads", method="POST"), b"{}")
    assert status == 200 and calls == [b"{}"]
