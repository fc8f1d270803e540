"""Only admins attach files: a seller's upload is refused before Chainlit stores it.

Chainlit checks uploads against its global `spontaneous_file_upload` setting, not against the
chat profile's override that hides the paperclip from sellers, so without this gate a seller
could still POST /project/file and have the file written into the session's folder. The app
never asks users for files (no `AskFileMessage`), so no `ask_parent_id` is an exception, and
every `session_id` the query names is checked (Starlette reads the last of repeated values,
parse_qs the first: a crafted query must not pass one and store under the other).
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from typing import Any
from urllib.parse import parse_qs

from chat_ui.session_router import ASGIApp, Receive, Scope, Send

REFUSAL = (
    "Only admins can attach files (to teach a strategy). Ask Ava in words instead, "
    "for example: 'which textbooks can I sell right now?'"
)


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


class AdminUploadGate:
    """ASGI middleware inside Chainlit's app: 403 for a non-admin's upload."""

    def __init__(self, app: ASGIApp, role_of: Callable[[str], str | None] = session_role) -> None:
        self.app = app
        self.role_of = role_of

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
                await send(
                    {
                        "type": "http.response.start",
                        "status": 403,
                        "headers": [(b"content-type", b"application/json")],
                    }
                )
                await send(
                    {"type": "http.response.body", "body": json.dumps({"detail": REFUSAL}).encode()}
                )
                return
        await self.app(scope, receive, send)


def install(app: Any) -> None:
    """Add the gate to Chainlit's FastAPI app once (before it starts serving)."""
    if not any(m.cls is AdminUploadGate for m in app.user_middleware):
        app.add_middleware(AdminUploadGate)
