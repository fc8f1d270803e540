"""Two instances of the app with their own DATA_DIRs leave each other alone (issue 16, item 8).

Chainlit keeps session uploads in a files directory and deletes that whole directory when the
server stops. It used to be `chat_ui/.files`, inside the code folder and so shared by every
instance run from the same checkout: stopping one instance deleted the uploads of all the
others (and their next upload failed: Chainlit does not re-create the parent directory).
"""

from __future__ import annotations

import asyncio
from pathlib import Path

import httpx
import pytest

from tests.e2e.harness import REPO, ChatClient, ChatServer
from tests.security.servers import cookie, seeded_server

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(180)]

RULES = b"IF a textbook's rank is under 50k in August THEN buy it under $4."


def test_stopping_one_instance_keeps_the_others_files(tmp_path: Path) -> None:
    first = seeded_server(tmp_path / "first")
    second = seeded_server(tmp_path / "second")
    try:
        asyncio.run(_check(first, second))
    finally:
        first.stop()
        second.stop()


async def _check(first: ChatServer, second: ChatServer) -> None:
    admin = ChatClient(first.url, await asyncio.to_thread(cookie, first, "admin"))
    other = ChatClient(second.url, await asyncio.to_thread(cookie, second, "admin"))
    await admin.connect()
    await other.connect()
    try:
        uploaded = await admin.upload("rules.txt", RULES)
        await other.upload("other.txt", b"the second instance's own upload")

        await asyncio.to_thread(second.stop)  # Chainlit removes its files directory on stop

        async with httpx.AsyncClient(base_url=first.url, timeout=30) as http:
            r = await http.get(
                f"/project/file/{uploaded['id']}",
                params={"session_id": admin.session_id},
                headers={"Cookie": admin.cookie},
            )
        assert r.status_code == 200 and r.content == RULES
        again = await admin.upload("more.txt", b"a second upload after the other stopped")
        assert again.get("id")
        assert list(first.data_dir.rglob(f"{uploaded['id']}*")), "kept under its DATA_DIR"
        assert not list((REPO / "chat_ui").rglob(f"{uploaded['id']}*")), "not in the code"
    finally:
        await admin.close()
