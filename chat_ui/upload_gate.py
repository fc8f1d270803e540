"""Only admins attach files: a seller's upload is refused before Chainlit stores it, except
the one file the app asked that seller for.

Chainlit checks uploads against its global `spontaneous_file_upload` setting, not against the
chat profile's override that hides the paperclip from sellers, so without this gate a seller
could still POST /project/file and have the file written into the session's folder. Every
`session_id` the query names is checked (Starlette reads the last of repeated values,
parse_qs the first: a crafted query must not pass one and store under the other).

The one exception: the answer to a file ask the session is waiting on (the costs CSV of
chat_ui/tracking_actions.py, an `AskFileMessage`): exactly one `session_id` and one
`ask_parent_id` naming a pending ask of that session, and a body no larger than the ask's
size limit (plus room for the multipart envelope). Chainlit reads a whole upload into memory
before it checks the size, so the gate reads the body first, and stops at the limit.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from typing import Any
from urllib.parse import parse_qs

from chat_ui.session_router import ASGIApp, Message, Receive, Scope, Send

REFUSAL = (
    "Only admins can attach files (to teach a strategy). Ask Ava in words instead, "
    "for example: 'which textbooks can I sell right now?'"
)
TOO_BIG = "The file is larger than this upload allows."
MULTIPART_SLACK = 16 * 1024  # boundaries and part headers around the file


def session_role(session_id: str) -> str | None:
    """The current role (users table) of a session held by this process; None when there is
    no such session. A session whose sign-in has ended counts as a seller's: refused."""
    from chainlit.session import WebsocketSession

    from chat_ui.auth import account_for_token, session_token

    session = WebsocketSession.get_by_id(session_id)
    if session is None or session.user is None:
        return None
    account = account_for_token(session_token(session))
    return account.role if account else "user"


def pending_ask_limit(session_id: str, ask_parent_id: str) -> int | None:
    """The size limit in bytes of the file ask this session is waiting on under this id;
    None when it waits on no such ask."""
    from chainlit.session import WebsocketSession

    session = WebsocketSession.get_by_id(session_id)
    spec = session.files_spec.get(ask_parent_id) if session is not None else None
    if spec is None:
        return None
    return int(getattr(spec, "max_size_mb", 1) * 1024 * 1024)


async def _respond(send: Send, status: int, detail: str) -> None:
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [(b"content-type", b"application/json")],
        }
    )
    await send({"type": "http.response.body", "body": json.dumps({"detail": detail}).encode()})


async def _bounded_body(scope: Scope, receive: Receive, limit: int) -> list[Message] | None:
    """The request's body messages, or None once it is larger than `limit` bytes."""
    for name, value in scope.get("headers", []):
        if name == b"content-length" and value.isdigit() and int(value) > limit:
            return None
    messages: list[Message] = []
    size = 0
    while True:
        message = await receive()
        messages.append(message)
        if message["type"] != "http.request":
            return messages
        size += len(message.get("body", b""))
        if size > limit:
            return None
        if not message.get("more_body"):
            return messages


class AdminUploadGate:
    """ASGI middleware inside Chainlit's app: 403 for a non-admin's upload, unless it answers
    the session's pending file ask (then 413 beyond the ask's size)."""

    def __init__(
        self,
        app: ASGIApp,
        role_of: Callable[[str], str | None] = session_role,
        ask_limit: Callable[[str, str], int | None] = pending_ask_limit,
    ) -> None:
        self.app = app
        self.role_of = role_of
        self.ask_limit = ask_limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if (
            scope["type"] == "http"
            and scope.get("method") == "POST"
            and scope.get("path", "").endswith("/project/file")
        ):
            query = parse_qs(
                scope.get("query_string", b"").decode("latin-1"), keep_blank_values=True
            )
            # a database read per named session: off the event loop
            roles = {
                await asyncio.to_thread(self.role_of, sid) for sid in query.get("session_id", [])
            }
            if roles - {None, "admin"}:
                sessions, asks = query.get("session_id", []), query.get("ask_parent_id", [])
                limit = (
                    self.ask_limit(sessions[0], asks[0])
                    if len(sessions) == 1 and len(asks) == 1
                    else None
                )
                if limit is None:
                    await _respond(send, 403, REFUSAL)
                    return
                body = await _bounded_body(scope, receive, limit + MULTIPART_SLACK)
                if body is None:
                    await _respond(send, 413, TOO_BIG)
                    return
                await self.app(scope, _replay(body, receive), send)
                return
        await self.app(scope, receive, send)


def _replay(messages: list[Message], receive: Receive) -> Receive:
    """A receive() that gives the already-read body again, then the live channel."""
    pending = list(messages)

    async def replay() -> Message:
        return pending.pop(0) if pending else await receive()

    return replay


def install(app: Any) -> None:
    """Add the gate to Chainlit's FastAPI app once (before it starts serving)."""
    if not any(m.cls is AdminUploadGate for m in app.user_middleware):
        app.add_middleware(AdminUploadGate)
