"""Item 6: only the app's own origin may use a seller's session; security headers are sent.

Before: CORS with credentials reflected `Origin: http://evil.example`, the websocket accepted
a foreign Origin, and no CSP, framing or nosniff header was sent.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Callable
from typing import Any

import httpx
import pytest
import socketio

from chat_ui.http_guard import HttpGuard
from chat_ui.session_router import Message
from tests.e2e.harness import ChatServer, login

EVIL = "http://evil.example"


def _socket_connects(chat: ChatServer, cookie: str, origin: str) -> bool:
    async def go() -> bool:
        client = socketio.AsyncClient(reconnection=False)
        auth = {
            "sessionId": str(uuid.uuid4()),
            "clientType": "webapp",
            "chatProfile": None,
            "threadId": str(uuid.uuid4()),
            "userEnv": "{}",
        }
        try:
            await client.connect(
                chat.url,
                socketio_path="/ws/socket.io",
                transports=["websocket"],
                auth=auth,
                wait_timeout=10,
                headers={"Cookie": cookie, "Origin": origin},
            )
        except socketio.exceptions.ConnectionError:
            return False
        await client.disconnect()
        return True

    return asyncio.run(go())


@pytest.mark.e2e
@pytest.mark.timeout(120)
def test_foreign_origin_is_refused_on_http_and_socket(
    chat: ChatServer, make_user: Callable[..., tuple[str, str]]
) -> None:
    name, password = make_user()
    cookie = login(chat.url, name, password)
    own = chat.url
    foreign = httpx.get(chat.url + "/user", headers={"Cookie": cookie, "Origin": EVIL}, timeout=30)
    assert foreign.status_code == 403
    assert "access-control-allow-origin" not in foreign.headers
    # a cross-site form posting a login (or anything else) is refused too
    posted = httpx.post(
        chat.url + "/login",
        data={"username": name, "password": password},
        headers={"Origin": EVIL},
        timeout=30,
    )
    assert posted.status_code == 403
    assert not _socket_connects(chat, cookie, EVIL)
    assert not _socket_connects(chat, cookie, "null")  # sandboxed frames, file:// pages

    mine = httpx.get(chat.url + "/user", headers={"Cookie": cookie, "Origin": own}, timeout=30)
    assert mine.status_code == 200
    assert _socket_connects(chat, cookie, own)
    local = own.replace("127.0.0.1", "localhost")  # the address Chainlit prints
    assert _socket_connects(chat, cookie, local)


@pytest.mark.e2e
@pytest.mark.timeout(60)
def test_pages_and_api_answers_carry_security_headers(chat: ChatServer) -> None:
    for path in ("/", "/login", "/auth/config", "/user"):
        r = httpx.get(chat.url + path, timeout=30)
        csp = r.headers.get("content-security-policy", "")
        assert "frame-ancestors 'none'" in csp, path
        assert "object-src 'none'" in csp
        assert "'unsafe-inline'" not in csp.split("script-src", 1)[1].split(";")[0]
        assert r.headers.get("x-frame-options") == "DENY"
        assert r.headers.get("x-content-type-options") == "nosniff"
        assert "strict-transport-security" not in r.headers  # plain HTTP: no HSTS


async def _call(guard: HttpGuard, scope: dict[str, Any]) -> list[Message]:
    sent: list[Message] = []

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: Message) -> None:
        sent.append(message)

    await guard(scope, receive, send)
    return sent


async def _sets_cookie(scope: Any, receive: Any, send: Any) -> None:
    await send(
        {
            "type": "http.response.start",
            "status": 200,
            "headers": [(b"set-cookie", b"access_token=t; HttpOnly; Path=/; SameSite=lax")],
        }
    )
    await send({"type": "http.response.body", "body": b"{}"})


async def _no_account(_token: str | None) -> None:
    return None


@pytest.mark.parametrize(("scheme", "secure"), [("https", True), ("http", False)])
def test_cookies_are_secure_over_tls(scheme: str, secure: bool) -> None:
    guard = HttpGuard(
        _sets_cookie,
        origins=lambda: ["https://arb.example.com"],
        csp=lambda: "default-src 'self'",
        account_of=_no_account,
    )
    scope = {
        "type": "http",
        "method": "POST",
        "path": "/login",
        "scheme": scheme,
        "headers": [(b"origin", b"https://arb.example.com")],
        "client": ("10.0.0.1", 1),
    }
    start = asyncio.run(_call(guard, scope))[0]
    headers = dict(start["headers"])
    assert (b"Secure" in headers[b"set-cookie"]) is secure
    assert (b"strict-transport-security" in headers) is secure
