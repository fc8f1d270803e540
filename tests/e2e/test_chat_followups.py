"""Follow-ups and first minutes in the real chat, over socket.io (issue 17, items 1 and 3).

A seller asks, refines twice, pages, and sees the expected filters and the "what changed"
line; the chat is then resumed and refined again (the search is the thread's, kept by the
checkpointer). A seller on day one (no gating checked) asks the flagship starter and gets
deals whose gating was checked on the spot, never "No deals match".

This module's chat server has a Redis (the SP-API rate limiter needs one; `arbitrage up`
always has one), unlike the shared one of test_chat_socket.py.
"""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import Iterator
from typing import Any

import pytest

from tests.e2e.harness import ChatClient, ChatServer, Turn, login
from tests.e2e.seed import seed_all
from tools.db import dispose_engines, session_scope
from tools.settings import Settings
from tools.users import add_user

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(180)]
FRESH = ("newseller", "newseller-password-1")


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory, redis_server_url: str) -> Iterator[ChatServer]:
    data = tmp_path_factory.mktemp("chat-followups")
    settings = Settings(data_dir=data)
    seed_all(settings)
    with session_scope(settings) as session:  # a seller on day one: nothing checked
        add_user(session, *FRESH)
    dispose_engines()
    chat = ChatServer(data_dir=data, extra_env={"REDIS_URL": redis_server_url}).start()
    try:
        yield chat
    finally:
        chat.stop()


def _search_step(turn: Turn) -> dict[str, Any]:
    steps = [s for s in turn.tool_steps() if s.get("name") == "search_deals"]
    assert steps, [s.get("name") for s in turn.tool_steps()]
    return steps[-1]


def _args(turn: Turn) -> dict[str, Any]:
    raw = _search_step(turn).get("input") or "{}"
    return raw if isinstance(raw, dict) else json.loads(raw)


def _rows(turn: Turn) -> list[dict[str, Any]]:
    tables = [e for e in turn.elements if e.get("name") == "DealTable"]
    assert tables, "the turn shows a deal table"
    return list(tables[-1]["props"]["rows"])


def _count(answer: str, marker: str) -> tuple[int, int]:
    """(N, M) from "...: N of M remain" / "now N match (was M)"."""
    import re

    m = re.search(marker, answer)
    assert m, answer[:300]
    return int(m.group(1).replace(",", "")), int(m.group(2).replace(",", ""))


def test_ask_refine_twice_page_then_resume_and_refine_again(server: ChatServer) -> None:
    token = login(server.url, "seller", "seller-password-1")
    thread = str(uuid.uuid4())

    async def first_session() -> list[Turn]:
        client = ChatClient(server.url, token, chat_profile="Ava", thread_id=thread)
        await client.connect()
        turns = [await client.send("textbooks under $30 with ROI over 40%")]
        turns.append(await client.send("only the ones under rank 600k"))
        turns.append(await client.send("sort those by profit"))
        turns.append(await client.send("page 2"))
        await client.close()
        return turns

    ask, narrow, sort, page = asyncio.run(first_session())
    assert _args(ask) == {"seasonality": "textbook", "max_price": 30.0, "min_roi": 40.0}
    assert all(r["price_now"] <= 30 and r["roi"] >= 40 for r in _rows(ask))

    assert _args(narrow) == {"refine": True, "max_rank": 600_000}
    n, m = _count(narrow.answer, r"Added rank <= 600,000 to your search: (\d+) of (\d+) remain")
    assert 10 < n < m
    assert all(r["sales_rank"] <= 600_000 and r["price_now"] <= 30 for r in _rows(narrow))
    assert "Added rank <= 600,000" in _search_step(narrow)["output"]  # the step says it too

    assert _args(sort) == {"refine": True, "sort": "profit"}
    assert sort.answer.startswith(f"Sorted your search by profit ({n} deals).")
    profits = [r["profit"] for r in _rows(sort)]
    assert profits == sorted(profits, reverse=True)

    assert _args(page) == {"refine": True, "offset": 10}
    assert page.answer.startswith(f"Page 2 of your search: deals 11-{min(20, n)} of {n}.")
    second = _rows(page)
    assert second and not {r["asin"] for r in second} & {r["asin"] for r in _rows(sort)}
    assert all(r["profit"] <= profits[-1] and r["sales_rank"] <= 600_000 for r in second)

    async def resumed_session() -> Turn:
        await asyncio.sleep(0.5)  # the data layer writes steps in background tasks
        client = ChatClient(server.url, token, thread_id=thread)
        await client.connect()
        assert client.resumed is not None, client.resume_error
        turn = await client.send("drop the price limit")
        await client.close()
        return turn

    again = asyncio.run(resumed_session())
    assert _args(again) == {"refine": True, "remove": ["price"]}
    wider, was = _count(again.answer, r"Removed price <= \$30: now (\d+) match \(was (\d+)\)")
    assert was == n and wider > n
    rows = _rows(again)
    assert all(r["sales_rank"] <= 600_000 and r["roi"] >= 40 for r in rows)
    assert any(r["price_now"] > 30 for r in rows)  # the price limit is gone, the rest stays
    profits = [r["profit"] for r in rows]
    assert profits == sorted(profits, reverse=True)  # ... and so is the sort


def test_the_flagship_starter_on_day_one_checks_gating_on_the_spot(server: ChatServer) -> None:
    token = login(server.url, *FRESH)

    async def go() -> Turn:
        client = ChatClient(server.url, token)
        await client.connect()
        turn = await client.send("Best textbook deals I can sell right now", timeout=60)
        await client.close()
        return turn

    turn = asyncio.run(go())
    assert "No deals match" not in turn.answer
    progress = [s for s in turn.tool_steps() if s.get("name") == "Checking gating"]
    assert progress and "checked" in str(progress[-1].get("output"))
    rows = _rows(turn)
    assert rows and all(r["gated"] == "ok" for r in rows)  # checked just now, sellable
    assert "I checked gating for" in turn.answer
    assert "Best pick:" in turn.answer or "No best pick:" in turn.answer
