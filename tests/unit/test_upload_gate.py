"""The upload gate: a seller's file gets through only as the answer to the session's pending
file ask (the costs CSV), and only within that ask's size."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from chat_ui.upload_gate import MULTIPART_SLACK, AdminUploadGate

LIMIT = 1024 * 1024
ASKS = {("s1", "ask-1"): LIMIT}


class App:
    """Chainlit's upload endpoint as far as the gate is concerned: it reads the whole body."""

    def __init__(self) -> None:
        self.bodies: list[int] = []

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        size, more = 0, True
        while more:
            message = await receive()
            size += len(message.get("body", b""))
            more = message.get("more_body", False)
        self.bodies.append(size)
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b"{}"})


def _client(role: str) -> tuple[httpx.AsyncClient, App]:
    app = App()
    gate = AdminUploadGate(
        app, role_of=lambda sid: role, ask_limit=lambda sid, ask: ASKS.get((sid, ask))
    )
    return httpx.AsyncClient(transport=httpx.ASGITransport(gate), base_url="http://t"), app


async def _post(role: str, query: str, size: int) -> tuple[int, App]:
    client, app = _client(role)
    async with client:
        files = {"file": ("costs.csv", b"x" * size, "text/csv")}
        r = await client.post(f"/project/file?{query}", files=files)
    return r.status_code, app


@pytest.mark.parametrize(
    "query",
    [
        "session_id=s1",  # no ask: a spontaneous upload
        "session_id=s1&ask_parent_id=ask-2",  # an ask the session is not waiting on
        "session_id=s1&ask_parent_id=ask-1&ask_parent_id=ask-2",  # read two ways
        "session_id=s1&session_id=s2&ask_parent_id=ask-1",
    ],
)
async def test_a_sellers_file_that_answers_no_pending_ask_is_refused(query: str) -> None:
    status, app = await _post("user", query, 10)
    assert status == 403 and app.bodies == []


async def test_a_sellers_costs_csv_for_the_pending_ask_goes_through_whole() -> None:
    status, app = await _post("user", "session_id=s1&ask_parent_id=ask-1", 200_000)
    assert status == 200 and app.bodies and app.bodies[0] > 200_000


async def test_a_file_over_the_asks_limit_is_stopped_before_the_app_reads_it() -> None:
    status, app = await _post("user", "session_id=s1&ask_parent_id=ask-1", LIMIT + MULTIPART_SLACK)
    assert status == 413 and app.bodies == []


async def test_admins_upload_as_before() -> None:
    status, app = await _post("admin", "session_id=s1", 10)
    assert status == 200 and len(app.bodies) == 1


async def test_a_streamed_body_without_a_length_is_cut_at_the_limit_too() -> None:
    async def chunks() -> Any:
        for _ in range(40):
            yield b"x" * 64 * 1024  # 2.5 MB in all, no Content-Length

    client, app = _client("user")
    async with client:
        r = await client.post("/project/file?session_id=s1&ask_parent_id=ask-1", content=chunks())
    assert r.status_code == 413 and app.bodies == []
