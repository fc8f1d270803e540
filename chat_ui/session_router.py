"""Send session-bound HTTP requests to the chat worker that holds the session.

With several chat workers (`arbitrage up --workers N`) a chat session lives in the worker its
websocket connected to: Chainlit keeps it in that process's memory. A few HTTP endpoints name
a session and need that process: a file upload (`POST /project/file?session_id=`), an element
file (`GET /project/file/{id}?session_id=`), element updates, actions and MCP calls (JSON body
`sessionId`). Such a request can land on any worker, so a worker that does not hold the
session (with its websocket connected) forwards it to its siblings over their private
addresses; the sibling that holds the session answers, the others say 421 (Misdirected
Request) without touching the app. When no worker holds it (an expired session, or one left
behind by a reconnect to another worker) the local app answers as Chainlit always does.
"""

from __future__ import annotations

import json
import re
from collections.abc import Awaitable, Callable, MutableMapping, Sequence
from typing import Any
from urllib.parse import parse_qs

import httpx

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

FORWARDED_HEADER = b"x-arbitrage-forwarded"
# Chainlit 2.x endpoints that look the session up in process memory (chainlit/server.py)
SESSION_PATH = re.compile(r"/(project/file(/[^/]+)?|project/element|project/action|mcp)$")
MAX_BODY_BYTES = 64 * 1024 * 1024  # uploads: 3 files x 20 MB (config.toml) and headroom
HOP_BY_HOP = {
    b"host",
    b"content-length",
    b"connection",
    b"keep-alive",
    b"transfer-encoding",
    b"upgrade",
    b"te",
    b"trailer",
    b"proxy-connection",
    b"accept-encoding",
}


def has_session(session_id: str) -> bool:
    """True when the session is here with its websocket connected.

    A browser whose connection dropped reconnects with the same session id, maybe to another
    worker; the old worker keeps the disconnected session until Chainlit's session_timeout,
    and it must not take the requests (uploads) meant for the live one.
    """
    from chainlit.server import sio
    from chainlit.session import WebsocketSession

    session = WebsocketSession.get_by_id(session_id)
    return session is not None and sio.manager.is_connected(session.socket_id, "/")


def _query_session_id(scope: Scope) -> str | None:
    query = parse_qs(scope.get("query_string", b"").decode("latin-1"))
    return query["session_id"][0] if query.get("session_id") else None


def session_id_of(scope: Scope, body: bytes) -> str | None:
    """The session a request names: `session_id` in the query or `sessionId` in a JSON body."""
    if (sid := _query_session_id(scope)) is not None:
        return sid
    if body[:1] == b"{":
        try:
            value = json.loads(body).get("sessionId")
        except (ValueError, AttributeError):
            return None
        return value if isinstance(value, str) else None
    return None


async def _read_body(receive: Receive, send: Send) -> bytes | None:
    """The whole request body; None when the client left or it was too large (answered 413)."""
    chunks: list[bytes] = []  # joined once: `body += chunk` copies quadratically
    size = 0
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            return None
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > MAX_BODY_BYTES:
            await _send_plain(send, 413, "Request body too large")
            return None
        chunks.append(chunk)
        if not message.get("more_body", False):
            return b"".join(chunks)


async def _send_plain(send: Send, status: int, text: str) -> None:
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [(b"content-type", b"text/plain; charset=utf-8")],
        }
    )
    await send({"type": "http.response.body", "body": text.encode()})


class SessionRouter:
    """ASGI middleware around Chainlit's app; `siblings` are the other workers' base URLs."""

    def __init__(
        self,
        app: ASGIApp,
        siblings: Sequence[str],
        session_lookup: Callable[[str], bool] = has_session,
    ) -> None:
        self.app = app
        self.siblings = list(siblings)
        self.session_lookup = session_lookup
        self._client: httpx.AsyncClient | None = None

    def _http(self) -> httpx.AsyncClient:
        if self._client is None:  # created on the serving loop, on first use
            # the siblings' private ports are on 127.0.0.1 (TLS there uses the public cert)
            self._client = httpx.AsyncClient(timeout=120, trust_env=False, verify=False)
        return self._client

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if (
            scope["type"] != "http"
            or not self.siblings
            or not SESSION_PATH.search(scope.get("path", ""))
        ):
            await self.app(scope, receive, send)
            return
        # Uploads and files name the session in the query: decide before reading the body,
        # so a local upload streams to Chainlit (which spools it to disk) unbuffered.
        sid = _query_session_id(scope)
        body: bytes | None = None
        if sid is None:  # element updates, actions, MCP: a JSON body names it
            if (body := await _read_body(receive, send)) is None:
                return
            sid = session_id_of(scope, body)
        if sid is None or self.session_lookup(sid):
            await self.app(scope, receive if body is None else _replay(body, receive), send)
            return
        headers = list(scope.get("headers") or [])
        if any(name == FORWARDED_HEADER for name, _ in headers):
            await _send_plain(send, 421, "Session not held by this worker")
            return
        if body is None and (body := await _read_body(receive, send)) is None:
            return
        if await self._forward(scope, headers, body, send):
            return
        await self.app(scope, _replay(body, receive), send)  # Chainlit's own answer

    async def _forward(
        self, scope: Scope, headers: list[tuple[bytes, bytes]], body: bytes, send: Send
    ) -> bool:
        """Try each sibling; True once one of them answered for the session."""
        path = scope.get("raw_path") or scope["path"].encode()
        if scope.get("query_string"):
            path += b"?" + scope["query_string"]
        out = [
            (k.decode("latin-1"), v.decode("latin-1"))
            for k, v in headers
            if k.lower() not in HOP_BY_HOP
        ]
        out += [(FORWARDED_HEADER.decode(), "1"), ("accept-encoding", "identity")]
        for base in self.siblings:
            try:
                r = await self._http().request(
                    scope["method"], base + path.decode("latin-1"), headers=out, content=body
                )
            except httpx.HTTPError:
                continue  # a sibling restarting: it holds no session now anyway
            if r.status_code == 421:
                continue
            reply = [
                (k.encode("latin-1"), v.encode("latin-1"))
                for k, v in r.headers.multi_items()
                if k.lower().encode() not in HOP_BY_HOP and k.lower() != "content-encoding"
            ]
            reply.append((b"content-length", str(len(r.content)).encode()))
            await send({"type": "http.response.start", "status": r.status_code, "headers": reply})
            await send({"type": "http.response.body", "body": r.content})
            return True
        return False


def _replay(body: bytes, receive: Receive) -> Receive:
    """A receive() that hands the buffered body to the app once, then waits as usual."""
    sent = False

    async def replay() -> Message:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()

    return replay
