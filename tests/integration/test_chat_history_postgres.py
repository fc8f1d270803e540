"""Chainlit's history tables on PostgreSQL: a thread written and resumed through the chat's
data layer (migration 0003's tables, JSON-encoded tags, JSON columns, batched writes)."""

from __future__ import annotations

import asyncio

import pytest

from tests.unit.chat_history import check_resumed, write_and_resume
from tools.db import migrate
from tools.settings import Settings

pytestmark = pytest.mark.timeout(120)


def test_chat_thread_is_written_and_resumed_on_postgres(pg_settings: Settings) -> None:
    migrate(pg_settings)
    check_resumed(asyncio.run(write_and_resume(pg_settings)))
