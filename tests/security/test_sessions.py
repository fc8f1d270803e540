"""Item 2: a sign-in ends when the account changes; the role is the users table's, every turn.

Before: the login token lived 15 days whatever happened to the account, logout and
`arbitrage users passwd` did not end it, and a demoted admin kept the admin tools.
"""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import uuid
from collections.abc import Callable

import httpx
import jwt
import pytest

from tests.e2e.harness import ChatClient, ChatServer, login
from tools.db import session_scope
from tools.models import Role
from tools.settings import Settings
from tools.users import set_password, set_role

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(180)]


def _http_ok(chat: ChatServer, cookie: str) -> bool:
    r = httpx.get(chat.url + "/user", headers={"Cookie": cookie}, timeout=30)
    assert r.status_code in (200, 401), r.text
    return r.status_code == 200


def _socket_ok(chat: ChatServer, cookie: str) -> bool:
    async def go() -> bool:
        client = ChatClient(chat.url, cookie)
        try:
            await client.connect(wait_start=3)
        except Exception:  # socketio.ConnectionError: refused
            return False
        await client.close()
        return True

    return asyncio.run(go())


def _cli(chat: ChatServer, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k != "CI"}
    env["DATA_DIR"] = str(chat.data_dir)
    proc = subprocess.run(
        [sys.executable, "-m", "chat_ui.cli", "users", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr
    return proc


def test_passwd_ends_the_old_session_on_http_and_socket(
    chat: ChatServer, make_user: Callable[..., tuple[str, str]], server_settings: Settings
) -> None:
    name, password = make_user()
    cookie = login(chat.url, name, password)
    assert _http_ok(chat, cookie) and _socket_ok(chat, cookie)
    with session_scope(server_settings) as session:
        set_password(session, name, "a-new-password-1")
    assert not _http_ok(chat, cookie)
    assert not _socket_ok(chat, cookie)
    fresh = login(chat.url, name, "a-new-password-1")
    assert _http_ok(chat, fresh) and _socket_ok(chat, fresh)


def test_logout_ends_the_session(
    chat: ChatServer, make_user: Callable[..., tuple[str, str]]
) -> None:
    name, password = make_user()
    cookie = login(chat.url, name, password)
    assert _http_ok(chat, cookie)
    r = httpx.post(chat.url + "/logout", headers={"Cookie": cookie}, timeout=30)
    assert r.status_code == 200
    # a copy of the cookie kept from before the logout no longer works anywhere
    assert not _http_ok(chat, cookie)
    assert not _socket_ok(chat, cookie)


def test_users_disable_ends_sessions_and_sign_in(
    chat: ChatServer, make_user: Callable[..., tuple[str, str]]
) -> None:
    name, password = make_user()
    cookie = login(chat.url, name, password)
    assert _http_ok(chat, cookie)
    _cli(chat, "disable", name)
    assert not _http_ok(chat, cookie)
    assert not _socket_ok(chat, cookie)
    r = httpx.post(chat.url + "/login", data={"username": name, "password": password}, timeout=30)
    assert r.status_code == 401
    _cli(chat, "enable", name)
    assert _http_ok(chat, login(chat.url, name, password))


def test_demoted_admin_loses_admin_tools_on_the_next_turn(
    chat: ChatServer, make_user: Callable[..., tuple[str, str]], server_settings: Settings
) -> None:
    name, password = make_user(Role.admin)
    cookie = login(chat.url, name, password)

    async def go() -> tuple[str, str, bool]:
        client = ChatClient(chat.url, cookie)
        await client.connect()
        before = await client.send("pipeline status", timeout=60)
        with session_scope(server_settings) as session:
            set_role(session, name, Role.user)
        seen = len(client.all_events)
        await client.sio.emit(
            "client_message",
            {
                "message": {
                    "id": str(uuid.uuid4()),
                    "threadId": client.thread_id,
                    "name": "User",
                    "type": "user_message",
                    "output": "pipeline status",
                    "createdAt": "2026-01-01T00:00:00Z",
                },
                "fileReferences": None,
            },
        )
        for _ in range(300):  # the server answers and drops the socket
            if not client.sio.connected:
                break
            await asyncio.sleep(0.1)
        after = [d for e, d in client.all_events[seen:] if isinstance(d, dict)]
        connected = client.sio.connected
        await client.close()
        return (
            before.answer,
            " ".join(str(d.get("output", "")) + " " + str(d.get("name", "")) for d in after),
            connected,
        )

    before, after, still_connected = asyncio.run(go())
    assert "Keepa tokens" in before or "queue" in before.lower(), before
    assert "pipeline_status" not in after
    assert "sign-in has ended" in after
    assert not still_connected
    # signed in again, the account is a seller: the admin tool refuses
    fresh = login(chat.url, name, password)

    async def again() -> str:
        client = ChatClient(chat.url, fresh)
        await client.connect()
        turn = await client.send("pipeline status", timeout=60)
        await client.close()
        return turn.answer

    assert "admin" in asyncio.run(again()).lower()


def test_users_role_cli_ends_sessions(
    chat: ChatServer, make_user: Callable[..., tuple[str, str]]
) -> None:
    name, password = make_user()
    cookie = login(chat.url, name, password)
    _cli(chat, "role", name, "admin")
    assert not _http_ok(chat, cookie)
    assert _http_ok(chat, login(chat.url, name, password))


def test_a_login_lasts_twelve_hours_by_default(
    chat: ChatServer, make_user: Callable[..., tuple[str, str]]
) -> None:
    name, password = make_user()
    cookie = login(chat.url, name, password)
    token = cookie.split("access_token=", 1)[1].split(";")[0]
    claims = jwt.decode(token, options={"verify_signature": False})
    assert claims["exp"] - claims["iat"] == 12 * 3600
    assert Settings().session_lifetime_hours == 12.0
