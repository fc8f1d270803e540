"""Who a chat-history write is for: the signed-in user of the socket session or HTTP request.

Chainlit hands its data layer ids that come from the browser (a step's id, an element's
thread, a feedback's step) and checks few of them, so the data layer checks every write against
the caller (chat_ui/data_layer.py). The caller is the user of the Chainlit socket session the
write runs in; outside a session it is the user of the HTTP request in progress, which the
request gate records (chat_ui/request_gate.py). Code that runs for no request at all (start-up,
the CLI, tests) has no actor and is trusted.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field


class ThreadAccessDenied(PermissionError):
    """A write into (or about) a thread the caller does not own."""


@dataclass
class Actor:
    """`identifier`: the user's login name (None: not signed in). `thread_id`: the thread of
    the socket session (None for HTTP requests, which may name any thread the user owns).
    `user_id`: Chainlit's id of the user row, when known. `refusals`: what the data layer
    refused during an HTTP request (the gate answers 403 with it)."""

    identifier: str | None
    thread_id: str | None = None
    user_id: str | None = None
    refusals: list[str] = field(default_factory=list)


_request_actor: ContextVar[Actor | None] = ContextVar("arbitrage_request_actor", default=None)


def current_actor() -> Actor | None:
    """The caller of the write in progress, or None for server-side code."""
    from chainlit.context import ChainlitContextException, get_context
    from chainlit.session import WebsocketSession

    try:
        session = get_context().session
    except ChainlitContextException:
        session = None
    if isinstance(session, WebsocketSession):
        user = session.user
        return Actor(
            identifier=getattr(user, "identifier", None),
            thread_id=session.thread_id,
            user_id=getattr(user, "id", None),
        )
    return _request_actor.get()


def note_refusal(reason: str) -> None:
    """Record a refused write on the HTTP request in progress (its gate answers 403)."""
    actor = _request_actor.get()
    if actor is not None:
        actor.refusals.append(reason)


@contextmanager
def acting_as(actor: Actor) -> Iterator[Actor]:
    """Run the block as `actor` (the request gate does this around every HTTP request)."""
    token = _request_actor.set(actor)
    try:
        yield actor
    finally:
        _request_actor.reset(token)
