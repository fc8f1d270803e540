"""Who a chat request or turn acts for, read from the users table every time.

Chainlit signs the login token (a JWT in the `access_token` cookie) with the user it was made
from and trusts it until it expires. The app puts the account's id and token version in it
and checks both against the users table on every HTTP request (chat_ui/http_guard.py), every
socket connection and every chat turn, so a password change, a role change, disabling the
account or signing out ends the sessions made before at once, and the role that gates admin
tools is always the current one, never the one remembered at login.
"""

from __future__ import annotations

import asyncio
import math
import os
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from chainlit.auth import get_token_from_cookies
from chainlit.auth.jwt import decode_jwt
from chainlit.user import User as ChainlitUser
from starlette.requests import cookie_parser

from tools.db import session_scope
from tools.login_throttle import LoginThrottle
from tools.models import User
from tools.redis_embedded import redis_url
from tools.users import authenticate, end_sessions, session_account

AUTH_COOKIE = os.environ.get("CHAINLIT_AUTH_COOKIE_NAME", "access_token")  # as Chainlit reads it


@dataclass(frozen=True)
class Account:
    """The current state of a signed-in account (from the users table, not the token)."""

    id: int
    name: str
    role: str

    @property
    def is_admin(self) -> bool:
        return self.role == "admin"


class LoginThrottled(Exception):
    """Too many failed sign-ins for this account or address; try again in `retry_after` s."""

    def __init__(self, retry_after: float) -> None:
        super().__init__(f"retry after {retry_after:.0f}s")
        self.retry_after = retry_after

    @property
    def message(self) -> str:
        wait = math.ceil(self.retry_after)
        return f"Too many failed sign-ins: try again in {wait} second{'' if wait == 1 else 's'}."


@lru_cache(maxsize=1)
def throttle() -> LoginThrottle:
    return LoginThrottle(redis_url)


def check_password(username: str, password: str, address: str | None) -> ChainlitUser | None:
    """The Chainlit user for a correct sign-in; None for a wrong one; LoginThrottled."""
    limiter = throttle()
    wait = limiter.retry_after(username, address)
    if wait > 0:
        raise LoginThrottled(wait)
    with session_scope() as session:
        user = authenticate(session, username, password)
        if user is None:
            limiter.failed(username, address)
            return None
        limiter.succeeded(username, address)
        # id and token version are what later checks compare; the role is only shown
        return ChainlitUser(
            identifier=user.name,
            display_name=user.name,
            metadata={"id": user.id, "tv": user.token_version, "role": user.role.value},
        )


def token_claims(token: str | None) -> tuple[int, int] | None:
    """(user id, token version) of a login token this server signed and that has not
    expired; None for anything else."""
    if not token:
        return None
    try:
        user = decode_jwt(token)
    except Exception:  # bad signature, expired, malformed: not a session
        return None
    meta = user.metadata or {}
    uid, tv = meta.get("id"), meta.get("tv")
    if not isinstance(uid, int) or not isinstance(tv, int):
        return None  # a token from before token versions: sign in again
    return uid, tv


def account_for_token(token: str | None) -> Account | None:
    """The account a token acts for while it is still valid (blocking: a database read)."""
    claims = token_claims(token)
    if claims is None:
        return None
    with session_scope() as session:
        user = session_account(session, *claims)
        return _account(user) if user else None


async def account_for_token_async(token: str | None) -> Account | None:
    if token_claims(token) is None:  # no database round trip for garbage
        return None
    return await asyncio.to_thread(account_for_token, token)


def account_by_name(name: str) -> Account | None:
    from tools.users import get_user

    with session_scope() as session:
        user = get_user(session, name)
        return _account(user) if user and not user.disabled else None


def _account(user: User) -> Account:
    assert user.id is not None
    return Account(id=user.id, name=user.name, role=user.role.value)


def token_from_cookie_header(cookie_header: str | None) -> str | None:
    return get_token_from_cookies(cookie_parser(cookie_header)) if cookie_header else None


def session_token(session: Any) -> str | None:
    """The token of a chat session's current connection.

    A reconnect restores the session with its new connection's headers but keeps the token
    of the first one, so the cookie of the latest connection is what counts.
    """
    environ = getattr(session, "environ", None) or {}
    return token_from_cookie_header(environ.get("HTTP_COOKIE")) or getattr(session, "token", None)


def sign_out(token: str | None) -> bool:
    """End every session of the token's account (a sign-out ends them on all devices)."""
    claims = token_claims(token)
    if claims is None:
        return False
    with session_scope() as session:
        user = session_account(session, *claims)
        if user is None:
            return False
        end_sessions(user)
        session.add(user)
    return True
