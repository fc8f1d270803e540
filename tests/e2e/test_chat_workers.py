"""Two chat workers (`arbitrage up --workers 2`): both serve chats, uploads reach the right one."""

from __future__ import annotations

import asyncio
import os
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.e2e.harness import ChatClient, ChatServer, choose, login
from tests.e2e.seed import seed_all
from tools.db import dispose_engines
from tools.settings import Settings

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(180)]

TEACHING = (
    b"IF a used textbook's sales rank is above 1,000,000 in October THEN hold it for "
    b"the January peak instead of passing, since rank recovers when classes start."
)


@pytest.fixture(scope="module")
def two_workers(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ChatServer]:
    data = tmp_path_factory.mktemp("chat-workers")
    seed_all(Settings(data_dir=data))
    dispose_engines()
    server = ChatServer(data_dir=data, workers=2).start()
    try:
        yield server
    finally:
        server.stop()


def _sockets(pid: int) -> int:
    fds = Path(f"/proc/{pid}/fd")
    return sum(1 for fd in fds.iterdir() if os.readlink(fd).startswith("socket:"))


def test_both_workers_serve_chats(two_workers: ChatServer, credentials: dict[str, str]) -> None:
    workers = two_workers.workers_info()
    assert len(workers) == 2 and workers[0][0] != workers[1][0]
    token = login(two_workers.url, "seller", credentials["seller"])
    before = {pid: _sockets(pid) for pid, _ in workers}

    async def go():  # type: ignore[no-untyped-def]
        clients = [ChatClient(two_workers.url, token) for _ in range(12)]
        await asyncio.gather(*(c.connect() for c in clients))
        held = {pid: _sockets(pid) - before[pid] for pid, _ in workers}
        turns = await asyncio.gather(
            *(c.send("Best textbook deals I can sell right now") for c in clients)
        )
        for c in clients:
            await c.close()
        return held, turns

    held, turns = asyncio.run(go())
    # the kernel spreads connections over both (all 12 on one: 1 in 2,048)
    assert all(n > 0 for n in held.values()), held
    for turn in turns:
        assert turn.answer.strip()
        assert [e for e in turn.elements if e.get("name") == "DealTable"]


def test_an_upload_reaches_the_worker_holding_the_session(
    two_workers: ChatServer, credentials: dict[str, str]
) -> None:
    token = login(two_workers.url, "admin", credentials["admin"])
    private = [url for _pid, url in two_workers.workers_info()]

    async def go():  # type: ignore[no-untyped-def]
        client = ChatClient(two_workers.url, token, on_ask=choose("approve_all", "approve"))
        await client.connect()
        # one worker holds the session; the other forwards the request to it
        refs = [await client.upload("rule.txt", TEACHING, base_url=url) for url in private]
        downloads = []
        async with httpx.AsyncClient(timeout=30) as http:
            for url in private:
                r = await http.get(
                    f"{url}/project/file/{refs[0]['id']}",
                    params={"session_id": client.session_id},
                    headers={"Cookie": token},
                )
                downloads.append((r.status_code, r.content))
        turn = await client.send(
            "learn this", command="teach", timeout=90, file_refs=[{"id": refs[1]["id"]}]
        )
        await client.close()
        return downloads, turn

    downloads, turn = asyncio.run(go())
    assert downloads == [(200, TEACHING), (200, TEACHING)]
    assert turn.asks, "the candidates from the uploaded file were reviewed"
    assert "Saved" in turn.answer, turn.answer


def test_a_dropped_chat_that_reconnects_to_either_worker_resumes(
    two_workers: ChatServer, credentials: dict[str, str]
) -> None:
    token = login(two_workers.url, "seller", credentials["seller"])
    private = [url for _pid, url in two_workers.workers_info()]

    async def go():  # type: ignore[no-untyped-def]
        first = ChatClient(two_workers.url, token)
        await first.connect()
        await first.send("Best textbook deals I can sell right now")
        await first.drop()
        await asyncio.sleep(0.3)  # the history writes are committed every 50 ms
        resumed = []
        for url in private:  # one of them is the other process
            again = ChatClient(url, token, thread_id=first.thread_id, session_id=first.session_id)
            await again.connect()
            turn = await again.send("Which deals are in their peak season now?")
            await again.drop()
            resumed.append((again.resumed, turn.answer))
        return resumed

    for thread, answer in asyncio.run(go()):
        assert thread is not None, "the reconnect resumed the thread"
        outputs = [s.get("output") or "" for s in thread["steps"]]
        assert "Best textbook deals I can sell right now" in outputs
        assert answer.strip()


def test_a_worker_restart_keeps_the_other_workers_uploads(
    two_workers: ChatServer, credentials: dict[str, str]
) -> None:
    """Chainlit empties its files directory when a process stops: each worker has its own."""
    import signal
    import time

    token = login(two_workers.url, "admin", credentials["admin"])
    workers = two_workers.workers_info()

    async def fetch(client: ChatClient, url: str, file_id: str) -> httpx.Response:
        async with httpx.AsyncClient(timeout=30) as http:
            return await http.get(
                f"{url}/project/file/{file_id}",
                params={"session_id": client.session_id},
                headers={"Cookie": token, "x-arbitrage-forwarded": "1"},
            )

    async def go() -> tuple[int, bytes]:
        client = ChatClient(two_workers.url, token)
        await client.connect()
        ref = await client.upload("rule.txt", TEACHING)
        # the holder answers a request marked as forwarded; the other worker says 421
        codes = [(await fetch(client, url, ref["id"])).status_code for _, url in workers]
        assert sorted(codes) == [200, 421], codes
        other_pid = workers[codes.index(421)][0]
        os.kill(other_pid, signal.SIGTERM)  # a graceful stop runs Chainlit's shutdown
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            pids = [pid for pid, _ in two_workers.workers_info()]
            if other_pid not in pids and len(pids) == 2:
                break
            await asyncio.sleep(0.2)
        else:
            raise AssertionError("the stopped worker was not restarted")
        r = await fetch(client, workers[codes.index(200)][1], ref["id"])
        await client.close()
        return r.status_code, r.content

    assert asyncio.run(go()) == (200, TEACHING)
