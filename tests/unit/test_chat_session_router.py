"""SessionRouter's decisions: which requests it keeps, refuses as misdirected or passes on."""

from __future__ import annotations

import asyncio
import json
from typing import Any

from chat_ui.session_router import (
    FORWARDED_HEADER,
    Message,
    SessionRouter,
    has_session,
    session_id_of,
)


def _scope(
    path: str,
    query: bytes = b"",
    headers: list[tuple[bytes, bytes]] | None = None,
    method: str = "POST",
) -> dict[str, Any]:
    return {
        "type": "http",
        "method": method,
        "path": path,
        "raw_path": path.encode(),
        "query_string": query,
        "headers": headers or [],
    }


def _call(router: SessionRouter, scope: dict[str, Any], body: bytes) -> tuple[int, bytes]:
    sent: list[Message] = []

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": body, "more_body": False}

    async def send(message: Message) -> None:
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


def _chunked(
    router: SessionRouter, scope: dict[str, Any], chunks: list[bytes] | None
) -> tuple[int, list[dict[str, Any]]]:
    """Call with a body in chunks (None: reading the body fails the test); the status and
    the messages the app received."""
    pending = list(chunks or [])
    received: list[dict[str, Any]] = []
    sent: list[Message] = []

    async def receive() -> dict[str, Any]:
        assert chunks is not None, "the body was read"
        body = pending.pop(0)
        return {"type": "http.request", "body": body, "more_body": bool(pending)}

    async def app(scope, receive, send):  # type: ignore[no-untyped-def]
        while not received or received[-1].get("more_body"):
            received.append(await receive())
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b""})

    async def send(message: Message) -> None:
        sent.append(message)

    router.app = app
    asyncio.run(router(scope, receive, send))
    return sent[0]["status"], received


def test_an_upload_to_a_local_session_streams_to_the_app_unbuffered() -> None:
    router = SessionRouter(_echo_app([]), ["http://127.0.0.1:9"], lambda sid: True)
    status, received = _chunked(
        router, _scope("/project/file", b"session_id=s1"), [b"part 1", b"part 2"]
    )
    assert status == 200 and [m["body"] for m in received] == [b"part 1", b"part 2"]


def test_a_misdirected_forward_is_refused_before_its_body_is_read() -> None:
    router = SessionRouter(_echo_app([]), ["http://127.0.0.1:9"], lambda sid: False)
    scope = _scope("/project/file", b"session_id=s1", [(FORWARDED_HEADER, b"1")])
    assert _chunked(router, scope, None)[0] == 421


def test_a_body_in_chunks_reaches_the_app_whole_when_no_worker_holds_the_session() -> None:
    router = SessionRouter(_echo_app([]), ["http://127.0.0.1:9"], lambda sid: False)
    status, received = _chunked(
        router, _scope("/project/file", b"session_id=gone"), [b"a" * 10, b"b" * 10, b"c"]
    )
    assert status == 200 and [m["body"] for m in received] == [b"a" * 10 + b"b" * 10 + b"c"]


def test_a_session_whose_websocket_dropped_is_not_held_here() -> None:
    """After a reconnect to another worker, this one's leftover session must not take the
    session's uploads: only a connected session counts."""
    from chainlit.server import sio
    from chainlit.session import WebsocketSession

    sid = asyncio.run(sio.manager.connect("eio-test", "/"))
    session = WebsocketSession(
        id="router-test",
        socket_id=sid,
        emit=None,  # type: ignore[arg-type]
        emit_call=None,  # type: ignore[arg-type]
        client_type="webapp",  # type: ignore[arg-type]
        user_env={},
    )
    try:
        assert has_session("router-test")
        sio.manager.basic_disconnect(sid, "/")
        assert not has_session("router-test")
        assert not has_session("no-such-session")
    finally:
        asyncio.run(session.delete())
