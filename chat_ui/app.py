"""Chainlit app (minimal until the chat UI issue lands): login against the users table."""

from __future__ import annotations

import chainlit as cl

from tools.db import session_scope
from tools.settings import get_settings
from tools.users import authenticate


@cl.password_auth_callback
def auth(username: str, password: str) -> cl.User | None:
    with session_scope() as session:
        user = authenticate(session, username, password)
        if not user:
            return None
        return cl.User(identifier=user.name, metadata={"role": user.role.value, "id": user.id})


@cl.on_chat_start
async def start() -> None:
    s = get_settings()
    await cl.Message(
        content=f"Connected. Keepa: {s.keepa_mode}; model: {s.llm_mode}; SP-API: {s.spapi_mode}."
    ).send()
