"""Chainlit's HTTP endpoints that write history, fenced to their owner.

Three jobs, in one ASGI middleware inside Chainlit's app:
- Endpoints the app does not use answer 403 before Chainlit sees them: element updates and
  deletes (`PUT/DELETE /project/element`: for custom elements that edit themselves, which the
  deal table does not; they took any element id and thread id from the body), thread sharing
  (off in config.toml, yet the endpoints answered) and MCP connections (MCP is off).
- Every other HTTP request runs with its signed-in user recorded (chat_ui/actor.py), so the
  data layer can check the writes it causes (feedback on a step, renaming or deleting a
  thread) against the owner of the thread.
- A write the data layer refused answers 403 with the reason, whatever the endpoint made of
  the exception (PUT /feedback turns every error into a 500).

The socket.io path is left alone: its events run in Chainlit's session context, which the data
layer reads directly.
"""

from __future__ import annotations

import json
import re

from chat_ui.actor import Actor, ThreadAccessDenied, acting_as
from chat_ui.session_router import ASGIApp, Message, Receive, Scope, Send

UNUSED = re.compile(r"/(project/element|project/thread/share|project/share/[^/]+|mcp)$")
UNUSED_REFUSAL = "This endpoint is not used by Agent Arbitrage."
SOCKET_PATH = "/ws/socket.io"


def request_user(scope: Scope) -> str | None:
    """The login name the request's token (auth cookie or bearer header) was issued to."""
    from chainlit.auth import decode_jwt, get_token_from_cookies
    from starlette.requests import HTTPConnection

    conn = HTTPConnection(scope)
    token = get_token_from_cookies(dict(conn.cookies))
    if not token:
        scheme, _, value = conn.headers.get("authorization", "").partition(" ")
        token = value.strip() if scheme.lower() == "bearer" else None
    if not token:
        return None
    try:
        return decode_jwt(token).identifier
    except Exception:  # expired, forged, or signed with another secret: nobody
        return None


async def _refuse(send: Send, detail: str) -> None:
    body = json.dumps({"detail": detail}).encode()
    await send(
        {
            "type": "http.response.start",
            "status": 403,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(body)).encode()),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})


class RequestGate:
    """ASGI middleware: 403 for unused endpoints, the request's user for the data layer."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path = scope.get("path", "")
        if scope["type"] != "http" or SOCKET_PATH in path:
            await self.app(scope, receive, send)
            return
        if UNUSED.search(path):
            await _refuse(send, UNUSED_REFUSAL)
            return
        actor = Actor(identifier=request_user(scope))
        started = False
        swallowed = False

        async def guarded_send(message: Message) -> None:
            nonlocal started, swallowed
            if swallowed:
                return
            if message["type"] == "http.response.start" and actor.refusals:
                swallowed = True  # the endpoint's own answer to the refusal is replaced
                started = True
                await _refuse(send, actor.refusals[0])
                return
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        with acting_as(actor):
            try:
                await self.app(scope, receive, guarded_send)
            except ThreadAccessDenied as denied:
                if started:
                    raise
                await _refuse(send, str(denied))


def install(app: object) -> None:
    """Add the gate to Chainlit's FastAPI app once (before it starts serving)."""
    if not any(m.cls is RequestGate for m in app.user_middleware):  # type: ignore[attr-defined]
        app.add_middleware(RequestGate)  # type: ignore[attr-defined]
