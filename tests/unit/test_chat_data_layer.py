"""The chat's history data layer on SQLite: batched writes, reads that see them, resume."""

from __future__ import annotations

import asyncio
import sqlite3
import uuid

from sqlalchemy import event

from tests.unit.chat_history import check_resumed, http_context, write_and_resume
from tools.settings import Settings


def test_a_thread_is_written_and_resumed(settings: Settings) -> None:
    check_resumed(asyncio.run(write_and_resume(settings)))


def _layer_with_commit_count(settings: Settings):  # type: ignore[no-untyped-def]
    from chat_ui.data_layer import make_data_layer

    layer = make_data_layer(settings)
    commits: list[int] = []
    event.listen(layer._engine(), "commit", lambda _conn: commits.append(1))
    return layer, commits


def test_writes_are_committed_together_and_reads_see_them(settings: Settings) -> None:
    async def go() -> tuple[int, int, int]:
        layer, commits = _layer_with_commit_count(settings)
        try:
            http_context()
            thread_id = str(uuid.uuid4())
            await layer.update_thread(thread_id, name="t")  # a read, then the insert queued
            for i in range(20):
                await layer.create_step(
                    {
                        "id": str(uuid.uuid4()),
                        "threadId": thread_id,
                        "name": f"s{i}",
                        "type": "tool",
                        "streaming": False,
                    }
                )
            queued = len(layer._writes)
            thread = await layer.get_thread(thread_id)
            assert thread is not None
            return queued, len(thread["steps"]), len(commits)
        finally:
            await layer.close()

    queued, steps, commits = asyncio.run(go())
    assert queued == 21 and steps == 20
    assert commits == 1  # the thread row and the 20 steps in one transaction


def test_queued_writes_are_committed_without_a_read(settings: Settings) -> None:
    async def go() -> str:
        layer, _ = _layer_with_commit_count(settings)
        try:
            http_context()
            thread_id = str(uuid.uuid4())
            await layer.update_thread(thread_id, name="written in the background")
            await asyncio.sleep(layer.flush_s * 4)
            with sqlite3.connect(settings.data_dir / "arbitrage.db") as conn:
                return conn.execute(
                    "SELECT name FROM threads WHERE id = ?", (thread_id,)
                ).fetchone()[0]
        finally:
            await layer.close()

    assert asyncio.run(go()) == "written in the background"


def test_a_failing_write_loses_only_itself(settings: Settings) -> None:
    async def go() -> list[str]:
        layer, _ = _layer_with_commit_count(settings)
        try:
            http_context()
            thread_id = str(uuid.uuid4())
            await layer.update_thread(thread_id, name="t")
            await layer.create_step(
                {
                    "id": "good-1",
                    "threadId": thread_id,
                    "name": "a",
                    "type": "tool",
                    "streaming": False,
                }
            )
            # a step of a thread that does not exist: the foreign key refuses it
            await layer.execute_sql(
                'INSERT INTO steps ("id", "threadId", "name", "type", '
                '"streaming") VALUES (:id, :t, :n, :ty, :s)',
                {"id": "bad", "t": "no-such-thread", "n": "b", "ty": "tool", "s": False},
            )
            await layer.create_step(
                {
                    "id": "good-2",
                    "threadId": thread_id,
                    "name": "c",
                    "type": "tool",
                    "streaming": False,
                }
            )
            thread = await layer.get_thread(thread_id)
            assert thread is not None
            return [s["id"] for s in thread["steps"]]
        finally:
            await layer.close()

    assert sorted(asyncio.run(go())) == ["good-1", "good-2"]
